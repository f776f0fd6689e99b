"""``modgap-eval ls tasks|groups|models|scorers``: list what is registered."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("ls", help="list tasks, groups, models or scorers")
    parser.add_argument("what", choices=["tasks", "groups", "models", "scorers"])
    parser.add_argument("--include_path", action="append", default=[], type=Path)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what in ("models", "scorers"):
        from modgap_eval.models import MODELS
        from modgap_eval.scoring import SCORERS

        print("\n".join((MODELS if args.what == "models" else SCORERS).names()))
        return 0
    from modgap_eval.tasks.loader import discover

    index = discover(args.include_path)
    if args.what == "groups":
        for name, group in sorted(index.groups.items()):
            print(f"{name:<32} {len(index.group_members(name)):>4} tasks  {group.spec.description}")
    else:
        for name, task in sorted(index.tasks.items()):
            print(f"{name:<40} v{task.spec.version:<4} {task.spec.output_type.value:<14} {task.spec.scorer.name:<18} {task.path}")
    return 0
