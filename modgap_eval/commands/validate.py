"""``modgap-eval validate [PATHS]``: strictly validate task and group YAMLs (default: all built-in)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("validate", help="validate task/group YAML files (exit 2 on the first error)")
    parser.add_argument("paths", nargs="*", type=Path, help="YAML files or folders (default: the built-in tasks/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.tasks.loader import discover

    index = discover(args.paths, builtin=not args.paths)
    print(f"ok: {len(index.tasks)} task(s), {len(index.groups)} group(s)")
    return 0
