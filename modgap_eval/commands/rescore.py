"""``modgap-eval rescore RUN_DIR``: recompute every metric from a run's saved responses, no model.

Reads ``results.json`` and the ``samples_<task>.jsonl`` logs (written with ``--log_samples``),
scores the saved responses with each task's recorded scorer and writes ``results_rescored.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("rescore", help="recompute metrics from a run's saved responses (no model)")
    parser.add_argument("run_dir", type=Path)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.report import summary_table
    from modgap_eval.rescoring import rescore_run
    from modgap_eval.results import write_results

    results = rescore_run(args.run_dir)
    out = write_results(results, args.run_dir, name="results_rescored.json")
    print(summary_table(results))
    print(f"\nrescored results: {out}")
    return 0
