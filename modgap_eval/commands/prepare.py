"""``modgap-eval prepare TASKS``: fetch data and synthesise TTS audio ahead of a run.

Loads every selected task exactly as a run would (BIG-bench sdist, hub datasets, generated rows),
so TTS clips land in the cache with a progress bar and the run itself starts at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("prepare", help="download task data and synthesise TTS audio ahead of a run")
    add = parser.add_argument
    add("tasks", help="'all' or comma-separated task and group names (modgap-eval ls tasks)")
    add("--include_path", action="append", default=[], type=Path, help="extra folder or file of task YAMLs")
    add("--data_dir", type=Path, help="offline mirror of hub datasets (as for a run)")
    add("--limit", type=int, help="prepare only the first N samples of each task")
    add("--no_progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from modgap_eval.errors import ConfigError
    from modgap_eval.tasks.loader import discover, load_samples

    if args.limit is not None and args.limit < 1:
        raise ConfigError("--limit must be at least 1")
    index = discover(args.include_path)
    names = index.select(args.tasks)
    total_start = time.perf_counter()
    total = 0
    for name in names:
        task = index.tasks[name]
        start = time.perf_counter()
        samples = load_samples(task, data_dir=args.data_dir, limit=args.limit, progress=not args.no_progress)
        speech = task.spec.speech
        origin = f"tts {speech.tts.engine}" if speech.tts is not None else f"column {speech.column!r}"
        print(f"{name:<40} {len(samples):>6} samples  {origin:<18} {time.perf_counter() - start:7.1f} s", flush=True)
        total += len(samples)
    print(f"prepared {len(names)} task(s), {total} samples in {time.perf_counter() - total_start:.1f} s")
    return 0
