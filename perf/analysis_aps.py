"""Time APS (METHOD.md §4) at a realistic shape, vectorised vs the plain-loop reference; print the ratio.

Shape: L = 28 blocks (29 layers of states), T_s = 300 speech frames, T_t = 60 text tokens, d = 3584
(Qwen2-Audio-7B's width). The vectorised side is ``analysis.alignment.compare_states`` (both paths,
APS^cos and APS^euc, monotonicity, consistency, pooled similarities) on all layers. The loop reference
(``tests/analysis/loop_reference.py``) would take hours at this size, so it is timed on one layer and
a few text columns (every speech frame, both metrics, the path) and scaled linearly to 29 × 60 columns;
its cost is exactly linear in columns and layers.

Run: ``nice -n 19 python perf/analysis_aps.py [--columns 2] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.analysis.loop_reference

from modgap_eval.analysis.alignment import compare_states  # noqa: E402
from tests.analysis import loop_reference as ref  # noqa: E402

LAYERS, T_S, T_T, WIDTH = 28, 300, 60, 3584


def time_vectorised(speech: torch.Tensor, text: torch.Tensor, repeats: int) -> float:
    compare_states(speech[:, :10], text[:, :5])  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = compare_states(speech, text)
        _ = result.values  # every single number, APS included
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_loop_subset(speech: torch.Tensor, text: torch.Tensor, columns: int) -> float:
    frames = ref.to_lists(speech[1])
    tokens = ref.to_lists(text[1, :columns])
    start = time.perf_counter()
    a_cos = [[ref.cos(f, t) for t in tokens] for f in frames]
    a_euc = [[ref.euc(f, t) for t in tokens] for f in frames]
    path_cos, path_euc = ref.path(a_cos, True), ref.path(a_euc, False)
    _ = sum(a_cos[path_cos[j]][j] for j in range(columns)) / columns
    _ = sum(a_euc[path_euc[j]][j] for j in range(columns)) / columns
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=2, help="text columns timed in the loop reference")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    speech = torch.randn(LAYERS + 1, T_S, WIDTH, generator=g)
    text = torch.randn(LAYERS + 1, T_T, WIDTH, generator=g)
    vectorised = time_vectorised(speech, text, args.repeats)
    subset = time_loop_subset(speech, text, args.columns)
    scale = (LAYERS + 1) * T_T / args.columns
    loop = subset * scale
    print(f"shape: {LAYERS} blocks (+ layer 0), T_s={T_S}, T_t={T_T}, d={WIDTH}; torch threads={torch.get_num_threads()}")
    print(f"vectorised compare_states (all layers, cos+euc): {vectorised:.3f} s (median of {args.repeats})")
    print(f"loop reference: {subset:.2f} s for 1 layer x {args.columns} columns, scaled x{scale:.0f} -> {loop:.0f} s")
    print(f"speed-up (loop / vectorised): {loop / vectorised:.0f}x")


if __name__ == "__main__":
    main()
