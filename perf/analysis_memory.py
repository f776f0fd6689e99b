"""Peak RSS of the representation stage for 100 vs 1,000 samples on the dummy model (flat = streaming).

Each size runs in a fresh subprocess (peak RSS is a process-wide high-water mark). The dummy model
(``modgap_eval.models.dummy``) returns ``[L + 1, T, d]`` states; here L = 12, d = 512, 10-50 speech
frames and 8-24 text tokens per sample, batch size 8. Prints both peaks and their ratio; only
O(samples × layers) floats should grow with the sample count.

Run: ``nice -n 19 python perf/analysis_memory.py``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

WORDS = "the quick brown fox jumps over a lazy dog while seven tired owls sing about rivers and stone".split()


def child(n: int) -> None:
    import numpy as np

    from modgap_eval.analysis.stage import RepresentationOptions, analyse_task
    from modgap_eval.models.dummy import DummyModel
    from modgap_eval.types import Audio, Modality, Prompt, PromptPair, Sample, Waveform

    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        words = [WORDS[k] for k in rng.integers(0, len(WORDS), size=int(rng.integers(8, 25)))]
        samples.append(Sample(id=f"s{i}", text=" ".join(words) + f" item{i}", audio=Audio(data=b"-"),
                              metadata={"seconds": float(rng.uniform(1.0, 5.0))}))

    def make_prompts(sample: Sample) -> PromptPair:
        wave = Waveform(np.zeros(int(sample.metadata["seconds"] * 16_000), dtype=np.float32), 16_000)
        return PromptPair(text=Prompt(Modality.TEXT, "", "", text=sample.text),
                          speech=Prompt(Modality.SPEECH, "", "", audio=wave))

    import torch

    torch.set_num_threads(1)  # a shared, loaded machine: intra-op threads only add contention here
    model = DummyModel(layers=12, width=512)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    analyse_task(model, samples, make_prompts, RepresentationOptions(batch_size=8))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"n": n, "rss_before_mib": before / 1024, "peak_mib": peak / 1024, "seconds": seconds}))


def main() -> None:
    runs = []
    for n in (100, 1000):
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], check=True, capture_output=True, text=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in runs:
        print(f"n={r['n']:>5}: peak RSS {r['peak_mib']:.1f} MiB (after imports {r['rss_before_mib']:.1f} MiB), {r['seconds']:.1f} s")
    grown = runs[1]["peak_mib"] - runs[0]["peak_mib"]
    print(f"peak ratio 1000/100: {runs[1]['peak_mib'] / runs[0]['peak_mib']:.3f} (+{grown:.1f} MiB for 10x the samples)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main()
