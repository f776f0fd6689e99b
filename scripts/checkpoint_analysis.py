"""Build the reference model card's ``checkpoint_analysis.json`` from one runner run per shipped checkpoint.

    for c in step-25 step-100 step-250 step-500 step-1000 step-2500 final; do
      modgap-eval --model reference --model_args checkpoint=$c --tasks offline_default --batch_size 8 --log_samples
    done
    python scripts/checkpoint_analysis.py results/reference/<run>... \\
        --previous modgap_eval/reference/checkpoints/checkpoint_analysis.json \\
        --output modgap_eval/reference/checkpoints/checkpoint_analysis.json

Per checkpoint: the group's scores (macro and micro), each task's scores, readings and McNemar p, and the
hidden-state metrics pooled over tasks weighted by paired samples (Sim, APS, layer curves, path
monotonicity and consistency, each with its mismatched-pair baseline). Across checkpoints: the
``modgap-eval correlate --scope overall_macro`` fit of the macro gap on each metric's excess. The held-out WER
comes from training, not from these runs: it is copied from ``--previous`` when given.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from modgap_eval.analysis.correlation import OVERALL_MACRO, collect_points, fit_groups
from modgap_eval.results import read_results

METRICS = ("sim_cos", "sim_euc", "aps_cos", "aps_euc")
SCALARS = (
    "monotonicity_cos",
    "monotonicity_cos_mismatched",
    "monotonicity_euc",
    "monotonicity_euc_mismatched",
    "consistency",
    "consistency_mismatched",
)
STEPS = {
    "step-25": 25,
    "step-100": 100,
    "step-250": 250,
    "step-500": 500,
    "step-1000": 1000,
    "step-2500": 2500,
    "final": 6000,
}


def pooled(values: list[float], weights: list[int]) -> float:
    return float(np.average(np.asarray(values, dtype=np.float64), weights=weights))


def checkpoint_entry(results, group: str, previous: dict) -> dict:
    tasks = results.groups[group].tasks
    task_results = [results.tasks[name] for name in tasks]
    weights = [t.gap.n_paired for t in task_results]
    reps = [t.representations for t in task_results]
    group_result = results.groups[group]
    entry: dict = {
        "step": STEPS.get(results.model.args.get("checkpoint", ""), None),
        "heldout_wer": previous.get("heldout_wer"),
        "text_acc": group_result.text_micro,
        "speech_acc": group_result.speech_micro,
        "group_macro": group_result.model_dump(),
        "gap_micro": group_result.gap_micro,
    }
    for metric in METRICS:
        entry[metric] = {
            side: pooled([getattr(getattr(r, metric), side) for r in reps], weights)
            for side in ("matched", "mismatched", "excess")
        }
    for curve in ("layer_cos", "layer_euc"):
        matched = np.average([getattr(r, curve).matched.mean for r in reps], axis=0, weights=weights)
        mismatched = np.average([getattr(r, curve).mismatched.mean for r in reps], axis=0, weights=weights)
        excess = np.average(
            [getattr(r, curve).excess for r in reps], axis=0, weights=weights
        )  # its own sign per metric
        entry[curve] = {
            "matched": [round(float(v), 5) for v in matched],
            "mismatched": [round(float(v), 5) for v in mismatched],
            "excess": [round(float(v), 5) for v in excess],
        }
    for name in SCALARS:
        entry[name] = pooled([getattr(r, name) for r in reps], weights)
    entry["per_task"] = {
        t.task: {
            "n": t.gap.n_paired,
            "text": t.text.score,
            "speech": t.speech.score,
            "gap": t.gap.gap,
            "mcnemar_p": t.gap.mcnemar_p,
            "primary_reading": t.primary_reading,
            "readings": {
                k: {
                    "text": r.text,
                    "speech": r.speech,
                    "gap": r.gap,
                    "mcnemar_p": r.stats.mcnemar_p if r.stats else None,
                }
                for k, r in t.readings.items()
            },
        }
        for t in task_results
    }
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories or results.json files, one per checkpoint")
    parser.add_argument("--group", default="offline_default")
    parser.add_argument("--previous", type=Path, default=None, help="an older checkpoint_analysis.json (held-out WER)")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    previous = json.loads(args.previous.read_text())["checkpoints"] if args.previous else {}
    runs = sorted(
        ((str(p), read_results(p)) for p in args.runs),
        key=lambda run: STEPS.get(run[1].model.args.get("checkpoint", ""), 10**9),
    )
    names = [results.model.args.get("checkpoint", source) for source, results in runs]
    report: dict = {
        "suite": args.group,
        "command": f"modgap-eval --model reference --model_args checkpoint=<name> --tasks {args.group} --batch_size 8 "
        "--log_samples",
        "pooling": "per-task values weighted by paired samples",
        "checkpoints": {
            name: checkpoint_entry(results, args.group, previous.get(name, {}))
            for name, (_, results) in zip(names, runs)
        },
        "correlations": {},
        "correlate_command": (
            "modgap-eval correlate <the 7 run folders> --metric <m> --scope overall_macro (baseline: excess)"
        ),
    }
    for metric in METRICS:
        points = [p for p in collect_points(runs, metric, "excess") if p.scope == OVERALL_MACRO]
        fits = [f for f in fit_groups(points) if f.scope == OVERALL_MACRO]
        report["correlations"][metric] = {
            "baseline": "excess",
            "fits": [{"scope": f.scope, "group": f.group, **asdict(f.fit)} for f in fits],
            "points": [{"x": p.x, "y": p.y, "checkpoint": name} for p, name in zip(points, names)],
        }
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
