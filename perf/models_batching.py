"""Tiny Qwen2-Audio: paired samples/s batched vs one at a time, and the added cost of hidden states.

Builds a random 2-layer Qwen2-Audio in a temp dir (tests/models/tiny.py), then on the same
``--pairs`` paired samples (a written question and a 1–3 s clip each):

- baseline: one request per call, batch size 1 (how VoiceBench runs);
- ours: all requests in one call, batched (``--batch_size``);
- analysis: ours plus ``hidden_states`` for both prompts of every pair.

Prints paired samples/s and the ratios (targets: batching >= 3x; analysis adds <= 30 %).
Run: ``HF_HUB_OFFLINE=1 python perf/models_batching.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--max_new_tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2, help="best of N timings")
    args = parser.parse_args()

    import torch

    from modgap_eval.models import MODELS, RuntimeOptions
    from modgap_eval.types import GenerateRequest, HiddenStatesRequest, Modality, Prompt, Waveform
    from tests.models.tiny import CORPUS, build_tiny_qwen2_audio, tone

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        build_tiny_qwen2_audio(Path(tmp))
        batched = MODELS.get("qwen2-audio").from_args({"pretrained": tmp}, RuntimeOptions(batch_size=args.batch_size))
        single = MODELS.get("qwen2-audio").from_args({"pretrained": tmp}, RuntimeOptions(batch_size=1))
        prompts = []
        for i in range(args.pairs):
            prompts.append(Prompt(Modality.TEXT, "Listen and answer: ", "", text=CORPUS[i % len(CORPUS)]))
            clip = tone(1.0 + 2.0 * (i % 5) / 4, hz=180 + 13 * i, seed=i)
            prompts.append(Prompt(Modality.SPEECH, "Listen and answer: ", "", audio=Waveform(clip, 16_000)))
        generate = [GenerateRequest(p, max_new_tokens=args.max_new_tokens) for p in prompts]
        states = [HiddenStatesRequest(p) for p in prompts]

        def best(fn) -> float:
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            return min(times)

        batched.generate(generate[:4])  # warm-up
        t_loop = best(lambda: [single.generate([r]) for r in generate])
        t_batched = best(lambda: batched.generate(generate))
        t_states = best(lambda: batched.hidden_states(states))
        cold = MODELS.get("qwen2-audio").from_args({"pretrained": tmp}, RuntimeOptions(batch_size=args.batch_size))
        start = time.perf_counter()
        cold.hidden_states(states)  # no earlier pass over these clips: processor and encoder run again
        t_cold = time.perf_counter() - start
        same = [g.text for g in batched.generate(generate)] == [single.generate([r])[0].text for r in generate]

    print(f"device: cpu, torch threads {torch.get_num_threads()}; {args.pairs} pairs, "
          f"max_new_tokens {args.max_new_tokens}, batch size {args.batch_size}")
    print(f"one-at-a-time loop : {args.pairs / t_loop:8.2f} paired samples/s ({t_loop:.2f} s)")
    print(f"batched            : {args.pairs / t_batched:8.2f} paired samples/s ({t_batched:.2f} s)")
    print(f"hidden states only : {t_states:.2f} s for both modalities after evaluation (audio embeddings reused); "
          f"{t_cold:.2f} s cold")
    print(f"batching speed-up        : {t_loop / t_batched:.2f}x (target >= 3x); outputs identical: {same}")
    print(f"analysis added over eval : {100 * t_states / t_batched:.1f} % (target <= 30 %); "
          f"without reuse {100 * t_cold / t_batched:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
