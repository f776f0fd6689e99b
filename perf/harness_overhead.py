"""Harness overhead per paired sample with the dummy model (issue: target well under 1 ms).

Builds a task of N paired samples (N real 0.2 s WAV clips) in a temp folder, then times, in this
process: (a) the bare model loop — the dummy's loglikelihood on prebuilt text and speech requests,
audio decoded beforehand — and (b) the full harness run (load + validate + hash + decode + batch +
cache write + score + bootstrap + results), representations off. Overhead = (b − a) / N.

    python perf/harness_overhead.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from modgap_eval.audio import decode
from modgap_eval.config import RunConfig
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.dummy import DummyModel
from modgap_eval.runner import evaluate
from modgap_eval.types import Audio, LoglikelihoodRequest, Modality, Prompt


def build(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    (folder / "audio").mkdir(parents=True)
    rows = []
    for i in range(n):
        clip = folder / "audio" / f"{i}.wav"
        soundfile.write(str(clip), (0.1 * rng.standard_normal(3200)).astype(np.float32), 16_000)
        a, b = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        rows.append({"id": i, "q": f"What is {a} plus {b}?", "choices": [str(a + b + d) for d in (-1, 0, 1, 2)],
                     "answer": 1, "audio": f"audio/{i}.wav"})
    (folder / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "t.yaml").write_text(
        'task: perf\nversion: 1\nsource: {kind: jsonl, path: d.jsonl}\n'
        'fields: {id: id, text: "{q}\\n{choices}", choices: choices, answer: answer}\n'
        'speech: {column: audio}\noutput_type: loglikelihood\nscorer: {name: mc_loglikelihood}\n')


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "task"
        build(folder, n)
        rows = [json.loads(line) for line in (folder / "d.jsonl").read_text().splitlines()]
        model = DummyModel.from_args({}, RuntimeOptions())
        letters = ("A", "B", "C", "D")
        text_requests = [LoglikelihoodRequest(Prompt(Modality.TEXT, "", "", text=r["q"]), letters) for r in rows]
        start = time.perf_counter()
        waves = [decode(Audio(path=folder / r["audio"]), 16_000) for r in rows]
        decoding = time.perf_counter() - start
        speech_requests = [LoglikelihoodRequest(Prompt(Modality.SPEECH, "", "", audio=w), letters) for w in waves]
        start = time.perf_counter()
        for i in range(0, n, 32):
            model.loglikelihood(text_requests[i:i + 32])
            model.loglikelihood(speech_requests[i:i + 32])
        bare = time.perf_counter() - start

        config = RunConfig(model="dummy", tasks=["perf"], include_path=[folder], output_path=Path(tmp) / "out",
                           batch_size=32, representations="off", progress=False)
        start = time.perf_counter()
        outcome = evaluate(config)
        harness = time.perf_counter() - start
        assert outcome.results.tasks["perf"].gap.n_paired == n
        print(f"paired samples           : {n}")
        print(f"bare model loop          : {bare:8.3f} s ({1e3 * bare / n:.3f} ms / paired sample)")
        print(f"full harness run         : {harness:8.3f} s ({1e3 * harness / n:.3f} ms / paired sample)")
        print(f"audio decoding alone     : {decoding:8.3f} s ({1e3 * decoding / n:.3f} ms / clip; a model needs it too)")
        print(f"harness overhead         : {1e3 * (harness - bare - decoding) / n:.3f} ms / paired sample beyond model and "
              f"decoding ({1e3 * (harness - bare) / n:.3f} ms with decoding; harness / bare = {harness / bare:.2f}x)")
        print("stage timings (s)        : " + ", ".join(f"{k} {v:.2f}" for k, v in outcome.results.envelope.timings_s.items()))


if __name__ == "__main__":
    main()
