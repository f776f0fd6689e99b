"""``modgap-eval rescore RUN_DIR``: recompute every metric from a run's saved responses, no model.

Reads ``results.json`` and the ``samples_<task>.jsonl`` logs (written with ``--log_samples``),
scores the saved responses with each task's recorded scorer and writes ``results_rescored.json``.
With a judge (``--judge_base_url`` ...), tasks a run left "not scored (no judge)" are scored too.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("rescore", help="recompute metrics from a run's saved responses (no model)")
    parser.add_argument("run_dir", type=Path)
    from modgap_eval.scoring.judge_config import add_judge_options

    add_judge_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.report import summary_table
    from modgap_eval.rescoring import rescore_run
    from modgap_eval.results import read_results, write_results
    from modgap_eval.scoring.judge_config import apply_judge_options
    from modgap_eval.scoring.pending import score_pending

    apply_judge_options(args)  # before rescoring: judged tasks already scored are judged again by this judge
    recorded = read_results(args.run_dir)
    # Rescore, then score the tasks the run left for a judge. A run made without --log_samples still saved the
    # not-scored tasks' responses; its other tasks then keep their recorded scores (nothing to rescore them from).
    unlogged = any(not (args.run_dir / f"samples_{name}.jsonl").is_file() for name in recorded.tasks)
    results = score_pending(recorded if recorded.not_scored and unlogged else rescore_run(args.run_dir), args.run_dir)
    out = write_results(results, args.run_dir, name="results_rescored.json")
    print(summary_table(results))
    print(f"\nrescored results: {out}")
    return 0
