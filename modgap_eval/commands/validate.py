"""``modgap-eval validate [PATHS]``: strictly validate task and group YAMLs (default: all built-in).

The checks are the run's own (``tasks.loader.check_task``): schema, templates, scorer and its
arguments, name clashes, every path the task reads, and, for data readable without the network,
every row (columns, answers, placeholders, audio files). A task ``validate`` accepts cannot fail
on these when it runs; tasks whose rows need the hub or a download are listed as such.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="validate task/group YAML files (exit 2 on the first error)")
    parser.add_argument("paths", nargs="*", type=Path, help="YAML files or folders (default: the built-in tasks/)")
    parser.add_argument(
        "--data_dir", type=Path, help="the run's --data_dir: local files and hub mirrors there are checked too"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from modgap_eval.tasks.loader import check_task, discover

    # The built-in tasks are always discovered, as a run does, so a name clash with them is caught.
    index = discover(args.paths, builtin=True)
    chosen = {p.resolve() for p in args.paths}
    tasks = [t for t in index.tasks.values() if not chosen or _under(t.path.resolve(), chosen)]
    groups = [g for g in index.groups.values() if not chosen or _under(g.path.resolve(), chosen)]
    unchecked = {task.name: reason for task in tasks if (reason := check_task(task, args.data_dir)) is not None}
    print(f"ok: {len(tasks)} task(s), {len(groups)} group(s)")
    by_reason: dict[str, list[str]] = {}
    for name, reason in sorted(unchecked.items()):
        by_reason.setdefault(reason, []).append(name)
    for reason, names in by_reason.items():
        print(f"rows not read ({reason}; a run checks them before any model work): {', '.join(names)}")
    return 0


def _under(path: Path, roots: set[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)
