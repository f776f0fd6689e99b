"""Command-line entry point: argument parsing only.

``modgap-eval --model NAME --tasks ...`` runs an evaluation (lm-evaluation-harness idiom);
``modgap-eval <command> ...`` runs a subcommand from ``COMMANDS``. A ModgapError becomes one line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from modgap_eval.errors import ModgapError

# Each module exposes add_parser(subparsers) and keeps its top-level imports light.
COMMANDS: tuple[str, ...] = (
    "modgap_eval.commands.ls",
    "modgap_eval.commands.validate",
    "modgap_eval.commands.prepare",
    "modgap_eval.commands.rescore",
    "modgap_eval.commands.leaderboard",
    "modgap_eval.commands.train_reference",
    "modgap_eval.commands.correlate",
    "modgap_eval.commands.plot",
    "modgap_eval.commands.decompose",
)


def build_command_parser() -> tuple[argparse.ArgumentParser, set[str]]:
    parser = argparse.ArgumentParser(prog="modgap-eval")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in COMMANDS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser, set(subparsers.choices)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser, names = build_command_parser()
        if argv and argv[0] in names:
            args = parser.parse_args(argv)
            return int(args.func(args) or 0)
        from modgap_eval.commands import run as run_command

        run_parser = run_command.build_parser(sorted(names))
        args = run_parser.parse_args(argv)
        return int(run_command.run(args, argv) or 0)
    except ModgapError as exc:
        print(f"modgap-eval: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("modgap-eval: interrupted (finished requests are cached; re-run to resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
