"""``modgap-eval correlate RESULTS...``: OLS of GAP on Sim or APS across results files (METHOD.md §5)."""

from __future__ import annotations

import argparse
from pathlib import Path

from modgap_eval.metrics import baselined_names


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "correlate", help="fit GAP against Sim/APS across models or checkpoints (METHOD.md §5)"
    )
    add = parser.add_argument
    add("results", nargs="+", type=Path, help="results.json files or run directories (one point each)")
    add("--metric", choices=baselined_names(), default="aps_cos")
    add(
        "--baseline",
        choices=["matched", "mismatched", "excess"],
        default="excess",
        help="x on true pairs, on mismatched pairs, or their excess (METHOD.md §4b; default)",
    )
    add(
        "--task",
        action="append",
        dest="tasks",
        help="fit this task (repeatable); default: every task all files analysed, plus 'overall_macro' "
        "(mean over tasks) and 'overall_micro' (pooled over samples)",
    )
    add("--scope", help="print only this scope (a task name, 'overall_macro' or 'overall_micro')")
    add(
        "--group-regex", help="group points by this regex on the model name (first capture group), e.g. '^(qwen|llama)'"
    )
    add("--group-key", help="group points by a dotted results field, e.g. model.details.family")
    add("--output", type=Path, help="also write points and fits as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from dataclasses import asdict

    from modgap_eval.analysis.correlation import collect_points, few_points_warning, fit_groups, slope_p_value
    from modgap_eval.errors import ConfigError
    from modgap_eval.results import read_results

    runs = [(str(path), read_results(path)) for path in args.results]
    points = collect_points(runs, args.metric, args.baseline, args.tasks, args.group_regex, args.group_key)
    fits = fit_groups(points)
    if args.scope:
        fits = [f for f in fits if f.scope == args.scope]
        if not fits:
            scopes = ", ".join(dict.fromkeys(p.scope for p in points))
            raise ConfigError(f"--scope {args.scope!r}: not among the fitted scopes ({scopes})")
    print(f"GAP ~ {args.metric} ({args.baseline})")
    widths = {"slope": 10, "intercept": 10, "R2": 7, "p": 8, "pearson": 8, "spearman": 9}  # the number columns
    print(f"{'scope':<24} {'group':<16} {'n':>3} " + " ".join(f"{name:>{width}}" for name, width in widths.items()))
    p_values = [slope_p_value(f.points) for f in fits]
    for f, p in zip(fits, p_values):
        cells = [f.fit.slope, f.fit.intercept, f.fit.r_squared, p, f.fit.pearson_r, f.fit.spearman_rho]
        shown = ["—" if v is None else f"{v:.4g}" for v in cells]
        numbers = " ".join(f"{v:>{w}}" for v, w in zip(shown, widths.values()))
        print(f"{f.scope:<24} {f.group:<16} {f.fit.n:>3} {numbers}")
    print("p: two-sided p of the slope (t-test, n - 2 df); overall_macro: mean over tasks, overall_micro: pooled by n")
    warning = few_points_warning(fits)
    if warning:
        print(f"modgap-eval: {warning}", file=sys.stderr)
    if args.output:
        payload = {
            "metric": args.metric,
            "baseline": args.baseline,
            "fits": [
                {"scope": f.scope, "group": f.group, **asdict(f.fit), "slope_p": p} for f, p in zip(fits, p_values)
            ],
            "points": [asdict(p) for p in points if not args.scope or p.scope == args.scope],
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten: {args.output}")
    return 0
