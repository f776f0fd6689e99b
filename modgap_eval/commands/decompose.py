"""``modgap-eval decompose --base RUN LSLM_RUN...``: split the drop into erosion + modality gap (paper Fig. 2);
with several LSLM runs (checkpoints, in order) also plot path monotonicity/consistency across them (Fig. 8)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "decompose", help="total drop = fine-tuning erosion + modality gap; path trends across checkpoints"
    )
    add = parser.add_argument
    add("lslm", nargs="+", type=Path, help="LSLM results (run dirs or results.json), checkpoints in order")
    add("--base", type=Path, required=True, help="the base text LLM's results on the same tasks")
    add("--task", action="append", dest="tasks", default=None, help="only these tasks (repeatable)")
    add("--out", type=Path, default=Path("plots"), help="folder for PNG + JSON (default: ./plots)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.analysis.decomposition import OVERALL_MACRO, decompose, path_trend
    from modgap_eval.analysis.plots import plot_decomposition, plot_path_trend
    from modgap_eval.paths import file_stem
    from modgap_eval.results import read_results, run_dir_of

    base = read_results(args.base)
    runs = [(f"{r.model.name} ({run_dir_of(p).name})", r) for p, r in ((p, read_results(p)) for p in args.lslm)]
    for index, (label, results) in enumerate(runs):
        rows = decompose(base, results, args.tasks)
        print(f"{base.model.name} (base) -> {label}")
        print(f"{'task':<24} {'base text':>9} {'LSLM text':>9} {'speech':>8} {'drop':>8} {'erosion':>8} {'gap':>8}")
        for r in rows:
            print(
                f"{r.task:<24} {r.base_text:>9.2f} {r.lslm_text:>9.2f} {r.lslm_speech:>8.2f} "
                f"{r.total_drop:>8.2f} {r.erosion:>8.2f} {r.modality_gap:>8.2f}"
            )
        print("overall_macro: mean over tasks, overall_micro: pooled over samples (each task weighs its n)")
        png = plot_decomposition(
            rows, f"{base.model.name} → {label}", args.out / f"decomposition_{index}_{file_stem(label)[:80]}"
        )
        print(f"written: {png}\n")
    analysed = [(label, r) for label, r in runs if any(t.representations is not None for t in r.tasks.values())]
    if analysed:
        trend = path_trend(analysed, OVERALL_MACRO)
        png = plot_path_trend(trend, f"alignment path across checkpoints ({OVERALL_MACRO})", args.out / "path_trend")
        for row in trend:
            shown = [
                "—" if v is None else f"{v:.3f}" for v in (row.monotonicity_cos, row.monotonicity_euc, row.consistency)
            ]
            print(f"{row.label:<32} monotonicity cos {shown[0]}  euc {shown[1]}  consistency {shown[2]}")
        print(f"written: {png}")
    return 0
