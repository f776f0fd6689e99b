"""How much faster the reference checkpoint evaluation (prefix KV cache, batched options) scores multiple-choice
items than the adapter's own ``loglikelihood`` (one full row per option), on the same requests, same process.

    HF_HUB_OFFLINE=1 python perf/reference_eval.py [--items 12] [--threads 1]

Prints both timings and their ratio, and the largest difference between the two scores (should be ~1e-5).
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=12)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--checkpoint", default="final")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from modgap_eval.models import MODELS
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.reference.evaluate import fast_loglikelihood
    from modgap_eval.requests import make_prompt_pair, make_request
    from modgap_eval.tasks.loader import discover, load_samples

    index = discover()
    requests = []
    names = index.select("offline_default")
    per_task = max(1, args.items // len(names))
    for name in names:
        task = index.tasks[name]
        for sample in load_samples(task, limit=per_task):
            pair = make_prompt_pair(task, sample, 16_000)
            requests += [make_request(task, sample, pair.text), make_request(task, sample, pair.speech)]
    model = MODELS.get("reference").from_args({"checkpoint": args.checkpoint}, RuntimeOptions(batch_size=8))
    model.loglikelihood(requests[:2])  # warm-up
    fast_loglikelihood(model, requests[0])
    start = time.perf_counter()
    baseline = model.loglikelihood(requests)
    base_s = time.perf_counter() - start
    memo: dict = {}
    start = time.perf_counter()
    fast = [fast_loglikelihood(model, r, memo) for r in requests]
    fast_s = time.perf_counter() - start
    diff = max(abs(a - b) for r, f in zip(baseline, fast) for a, b in zip(r.logprobs, f))
    options = sum(len(r.continuations) for r in requests)
    print(f"{len(requests)} requests ({options} options), {args.threads} thread(s)")
    print(f"adapter loglikelihood (batch 8): {base_s:.2f} s")
    print(f"prefix-cached evaluation:        {fast_s:.2f} s")
    print(f"speed-up: {base_s / fast_s:.2f}x; largest score difference {diff:.2e}")


if __name__ == "__main__":
    main()
