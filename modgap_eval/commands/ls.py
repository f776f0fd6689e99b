"""``modgap-eval ls tasks|groups|models|scorers``: list what is registered (one command per kind)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ls", help="list tasks, groups, models or scorers (one kind per command)")
    parser.add_argument("what", choices=["tasks", "groups", "models", "scorers"])
    parser.add_argument("--include_path", action="append", default=[], type=Path)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what in ("models", "scorers"):
        from modgap_eval.models import MODELS
        from modgap_eval.scoring import SCORERS

        return write_lines((MODELS if args.what == "models" else SCORERS).names())
    from modgap_eval.tasks.loader import discover

    index = discover(args.include_path)
    if args.what == "groups":
        return write_lines(
            f"{name:<32} {len(index.group_members(name)):>4} tasks  {group.spec.description}"
            for name, group in sorted(index.groups.items())
        )
    return write_lines(
        f"{name:<40} v{task.spec.version:<4} {task.spec.output_type.value:<14} {task.spec.scorer.name:<18} {task.path}"
        for name, task in sorted(index.tasks.items())
    )


def write_lines(lines: Iterable[str]) -> int:
    """Print the listing; a reader that stops early (``| head -1``) ends it quietly, exit code 0."""
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the unflushed buffer again at exit: point stdout at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
