"""How much faster the adapters score multiple-choice options from one prefill per prompt (KV cache shared by
the options) than with one full row per option, on the real reference LSLM, the same requests, same process.

    HF_HUB_OFFLINE=1 python perf/loglikelihood_cache.py [--items 20] [--threads 2] [--batch_size 8]

Prints both timings, their ratio, and the largest difference between the two paths' scores (float noise).
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20, help="items over the offline_default tasks")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--checkpoint", default="final")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from modgap_eval.models import MODELS
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.models.hf_loglik import Scored, full_rows, shared_prefill
    from modgap_eval.requests import make_prompt_pair, make_request
    from modgap_eval.tasks.loader import discover, load_samples
    from modgap_eval.types import Modality

    index = discover()
    names = index.select("offline_default")
    requests = []
    for name in names:
        task = index.tasks[name]
        for sample in load_samples(task, limit=max(1, args.items // len(names)), progress=False):
            pair = make_prompt_pair(task, sample, 16_000)
            requests += [make_request(task, sample, pair.text), make_request(task, sample, pair.speech)]
    model = MODELS.get("reference").from_args({"checkpoint": args.checkpoint}, RuntimeOptions(batch_size=args.batch_size))
    model.loglikelihood(requests[:2])  # warm-up (and the speech vectors of the first clip)
    model.loglikelihood(requests)  # every clip's LM input vectors cached: both paths then time the LM only
    items = [Scored(r.prompt, r.intervention, tuple(model.tokenize_continuation(c) for c in r.continuations))
             for r in requests]
    timings, scores = {}, {}
    for label, path in (("one row per option", full_rows), ("one prefill per prompt", shared_prefill)):
        start = time.perf_counter()
        scores[label] = model.by_modality(items, lambda batch: path(model, batch))
        timings[label] = time.perf_counter() - start
    rows, cached = scores.values()
    diff = max(abs(a - b) for r, c in zip(rows, cached) for a, b in zip(r.logprobs, c.logprobs))
    options = sum(len(r.continuations) for r in requests)
    speech = sum(r.prompt.modality is Modality.SPEECH for r in requests)
    print(f"{len(requests)} requests ({speech} spoken, {options} options), batch {args.batch_size}, {args.threads} thread(s)")
    for label, seconds in timings.items():
        print(f"{label:>24}: {seconds:.2f} s")
    base, fast = timings.values()
    print(f"speed-up: {base / fast:.2f}x; largest score difference {diff:.2e}")


if __name__ == "__main__":
    main()
