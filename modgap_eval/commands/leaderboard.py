"""``modgap-eval leaderboard add|build``: merge results into leaderboard.json and render the static site.

``add RESULTS...`` validates each results file (or run directory, or reported-numbers YAML) and
merges them all or none; it then rebuilds the site next to the JSON. ``build`` renders the site and
can push the JSON to a Hugging Face dataset repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_LEADERBOARD = Path("leaderboard") / "leaderboard.json"
SITE_DIRNAME = "site"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("leaderboard", help="merge results into leaderboard.json and build its static site")
    actions = parser.add_subparsers(dest="leaderboard_action", required=True)

    add = actions.add_parser(
        "add",
        help="merge results files into the leaderboard "
        "(idempotent; a newer run of a model and task replaces the older)",
    )
    add.add_argument(
        "results",
        nargs="+",
        type=Path,
        help="results.json files or run directories; a YAML/JSON with 'provenance: reported' adds published numbers",
    )
    _leaderboard_argument(add)
    add.add_argument("--no_build", action="store_true", help="do not rebuild the site after merging")
    add.set_defaults(func=_add)

    build = actions.add_parser("build", help="render the static site (works from file:// and GitHub Pages)")
    _leaderboard_argument(build)
    build.add_argument("--out", type=Path, help="site folder (default: 'site' next to the leaderboard JSON)")
    build.add_argument(
        "--push_to_hub", metavar="REPO", help="also upload leaderboard.json to this Hugging Face dataset repo"
    )
    build.set_defaults(func=_build)


def _leaderboard_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--leaderboard",
        type=Path,
        default=DEFAULT_LEADERBOARD,
        help=f"the leaderboard JSON (default: {DEFAULT_LEADERBOARD})",
    )


def _add(args: argparse.Namespace) -> int:
    from modgap_eval.leaderboard.entries import read_incoming
    from modgap_eval.leaderboard.merge import load_leaderboard, merge_all, save_leaderboard
    from modgap_eval.leaderboard.site import build_site

    path: Path = args.leaderboard
    board = load_leaderboard(path)
    incoming = [read_incoming(file, path.parent) for file in args.results]
    outcome = merge_all(board, incoming)
    for message in outcome.messages:
        print(message)
    wrote = save_leaderboard(outcome.board, path) if outcome.changed or not path.exists() else False
    print(f"{path}: {'updated' if wrote else 'unchanged'} ({len(outcome.board.models)} model(s))")
    if not args.no_build:
        index = build_site(outcome.board, path.parent / SITE_DIRNAME)
        print(f"site: {index}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from modgap_eval.errors import ConfigError
    from modgap_eval.leaderboard.merge import load_leaderboard
    from modgap_eval.leaderboard.site import build_site

    path: Path = args.leaderboard
    if not path.exists():
        raise ConfigError(f"{path}: no leaderboard yet; create it with 'modgap-eval leaderboard add RESULTS...'")
    board = load_leaderboard(path)
    index = build_site(board, args.out or path.parent / SITE_DIRNAME)
    print(f"site: {index} ({len(board.models)} model(s)); open it in a browser, no server needed")
    if args.push_to_hub:
        from modgap_eval.leaderboard.hub import push_to_hub

        print(f"pushed {path} to dataset {args.push_to_hub}: {push_to_hub(path, args.push_to_hub)}")
    return 0
