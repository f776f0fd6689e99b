"""``modgap-eval plot RUN_DIR...``: figures of the representation analysis, each PNG with its data JSON.

Per task: layer curves of every run with the mismatched baseline (paper Fig. 4); per run: the saved
token-similarity heatmaps (Fig. 6, from ``representations_<task>.json``); with two or more runs: GAP
against Sim^cos, APS^cos, Sim^euc and APS^euc with the OLS line and R² (Figs. 5 and 7).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, cast


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plot", help="plot layer curves, token heatmaps and GAP-vs-similarity scatters")
    add = parser.add_argument
    add("runs", nargs="+", type=Path, help="run directories (holding results.json)")
    add("--out", type=Path, help="output folder (default: RUN_DIR/plots for one run, else ./plots)")
    add(
        "--baseline",
        choices=["matched", "mismatched", "excess"],
        default="excess",
        help="which similarity the scatter plots use (default: excess over mismatched, METHOD.md §4b)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.analysis.correlation import METRICS, Metric, collect_points, fit_groups
    from modgap_eval.analysis.examples import read_examples
    from modgap_eval.analysis.plots import plot_heatmap, plot_layer_curves, plot_scatter
    from modgap_eval.errors import ConfigError
    from modgap_eval.results import read_results, run_dir_of

    out = args.out or (args.runs[0] / "plots" if len(args.runs) == 1 else Path("plots"))
    runs = [(path, read_results(path)) for path in args.runs]
    labels = [f"{r.model.name} ({run_dir_of(p).name})" if len(runs) > 1 else r.model.name for p, r in runs]
    names = file_names(runs)
    written = []
    tasks = list(dict.fromkeys(name for _, r in runs for name, t in r.tasks.items() if t.representations is not None))
    if not tasks:
        raise ConfigError("no run holds representation results (run with --representations on)")
    for task in tasks:
        series = [
            (label, r.tasks[task].representations)
            for label, (_, r) in zip(labels, runs)
            if task in r.tasks and r.tasks[task].representations is not None
        ]
        written.append(plot_layer_curves(series, f"{task}: speech vs text states per layer", out / f"layers_{task}"))
    for name, label, (path, _) in zip(names, labels, runs):
        for task, stored in read_examples(run_dir_of(path)).items():
            for example in stored.examples:
                stem = out / f"heatmap_{name}_{task}_{example.sample_id}_layer{example.layer}"
                written.append(plot_heatmap(example, f"{label} / {task}", stem))
    if len(runs) >= 2:
        loaded = [(str(p), r) for p, r in runs]
        for metric in METRICS:
            points = collect_points(loaded, cast(Metric, metric), args.baseline)
            for fitted in fit_groups(points):
                stem, title = (
                    out / f"gap_vs_{metric}_{args.baseline}_{fitted.scope}",
                    f"{fitted.scope}: GAP vs {metric}",
                )
                written.append(plot_scatter(fitted.points, fitted.fit, f"{metric} ({args.baseline})", title, stem))
    for path in written:
        print(f"written: {path}")
    return 0


def file_names(runs: list[tuple[Path, Any]]) -> list[str]:
    """Per run, a file-name part from its model name; runs of one model add their run folder's name."""
    from modgap_eval.results import run_dir_of

    def clean(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"

    models = [clean(r.model.name) for _, r in runs]
    return [m if models.count(m) == 1 else f"{m}_{clean(run_dir_of(p).name)}" for m, (p, _) in zip(models, runs)]
