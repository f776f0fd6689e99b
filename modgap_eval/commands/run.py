"""The main command: ``modgap-eval --model NAME --tasks ...`` (lm-evaluation-harness idiom)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def build_parser(subcommands: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modgap-eval",
        description="Evaluate a model on paired written/spoken tasks and report the modality gap. "
        f"Other commands: {', '.join(subcommands)} (modgap-eval <command> -h).",
    )
    add = parser.add_argument
    add("--model", required=True, help="registered model name (modgap-eval ls models)")
    add("--model_args", default="", help="comma-separated key=value pairs for the model, e.g. pretrained=DIR")
    add("--tasks", default="all", help="'all' or comma-separated task and group names (modgap-eval ls tasks)")
    add(
        "--include_path", action="append", default=[], type=Path, help="extra folder or file of task YAMLs (repeatable)"
    )
    add("--data_dir", type=Path, help="offline mirror of hub datasets: DIR/<path>/<config>/<split>.parquet")
    add("--limit", type=int, help="evaluate only the first N samples of each task")
    add("--batch_size", default="1", help="requests per model call, or 'auto'")
    add("--device", default="cpu", help="cpu, cuda, cuda:0, ...")
    add("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    add("--seed", type=int, default=1234, help="seed for bootstrap, derangement and any sampling")
    add("--bootstrap_iters", type=int, default=1000)
    add("--output_path", type=Path, default=Path("results"), help="folder for run directories and the response cache")
    add("--log_samples", action="store_true", help="write per-sample JSONL (needed by 'rescore')")
    add("--no_cache", action="store_true", help="neither read nor write the response cache")
    add(
        "--on_error",
        choices=["raise", "skip"],
        default="raise",
        help="a bad sample stops the run, or is recorded and skipped",
    )
    _add_analysis_options(add)
    add("--no_progress", action="store_true", help="hide progress bars")
    from modgap_eval.scoring.judge_config import add_judge_options

    add_judge_options(parser)
    return parser


def _add_analysis_options(add: Callable[..., object]) -> None:
    """The hidden-state analysis and the intervention (METHOD.md §4-§6)."""
    add(
        "--representations",
        choices=["auto", "on", "off"],
        default="auto",
        help="hidden-state analysis (auto: if the model supports it)",
    )
    add("--centering", action="store_true", help="per-layer mean-centering before cosine (METHOD.md §4b)")
    add("--intervention", choices=["angle", "length"], help="also run speech with an intervention (METHOD.md §6)")
    add("--critical", default="bottom-3", help="critical tokens: bottom-K or all")
    add("--intervention_layers", default="0", help="'0' (adapter output), a block index, or 'all'")


def run(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run the evaluation; ``argv`` (what ``main()`` was given) is recorded as the command."""
    from pydantic import ValidationError

    from modgap_eval.config import RunConfig
    from modgap_eval.errors import ConfigError
    from modgap_eval.models.base import parse_model_args
    from modgap_eval.report import summary_table
    from modgap_eval.runner import evaluate
    from modgap_eval.scoring.judge_config import apply_judge_options

    apply_judge_options(args)
    if args.no_progress:
        quiet_library_bars()
    same_name = {k: v for k, v in vars(args).items() if k in RunConfig.model_fields}  # the rest is converted below
    try:
        config = RunConfig(
            **{**same_name, "model_args": parse_model_args(args.model_args), "tasks": args.tasks.split(",")},
            use_cache=not args.no_cache,
            progress=not args.no_progress,
            command=["modgap-eval", *(sys.argv[1:] if argv is None else argv)],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"--{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    outcome = evaluate(config)
    if outcome is None:  # a non-zero rank of a data-parallel run: rank 0 reports
        return 0
    print(summary_table(outcome.results))
    print(f"\nresults: {outcome.run_dir / 'results.json'}")
    return 0


def quiet_library_bars() -> None:
    """``--no_progress`` also hides the libraries' own bars (transformers' weight loading, hub downloads,
    datasets): through their environment switches before they are imported, their calls after."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # transformers reads it when its logging module loads
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    # A package may be in sys.modules before its submodule is: import the submodule that owns the switch.
    for package, module, switch in (
        ("transformers", "transformers.utils.logging", "disable_progress_bar"),
        ("huggingface_hub", "huggingface_hub.utils", "disable_progress_bars"),
        ("datasets", "datasets", "disable_progress_bars"),
    ):
        if package in sys.modules:
            getattr(importlib.import_module(module), switch)()
