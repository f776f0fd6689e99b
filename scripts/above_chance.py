"""Per task of a finished run: is each modality's score under its primary reading above chance?

    python scripts/above_chance.py results/<model>/<run>/ [--reading acc_norm] [--alpha 0.05]

Reads the run's sample logs (the run needs --log_samples): for every multiple-choice task, the
number of samples right under the task's primary reading (or ``--reading``), the chance level
(mean of 1/options) and the exact one-sided Poisson-binomial p of doing at least that well by
guessing (``modgap_eval.chance``). Exit status 1 when a task's written side is not above chance at
``--alpha`` (the offline default's bar, issue 16).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from modgap_eval.chance import above_chance_p
from modgap_eval.rescoring import read_sample_log


def task_rows(run_dir: Path, reading: str | None) -> list[dict]:
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    rows = []
    for name, task in results["tasks"].items():
        records = read_sample_log(run_dir / f"samples_{name}.jsonl")
        if not records or not records[0].choices:
            continue  # not multiple choice: no chance level
        chosen = reading or task.get("primary_reading")
        probabilities = [1 / len(r.choices) for r in records]
        row = {
            "task": name,
            "reading": chosen or "score",
            "n": len(records),
            "chance": 100 * sum(probabilities) / len(records),
        }
        for side in ("text", "speech"):
            results_of = [getattr(r, f"{side}_result") for r in records]
            right = sum(int((m.readings.get(chosen, m.score) if chosen else m.score) >= 0.5) for m in results_of)
            row[side] = 100 * right / len(records)
            row[f"{side}_p"] = above_chance_p(right, probabilities)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--reading", default=None, help="a declared reading (default: each task's primary)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    rows = task_rows(args.run_dir, args.reading)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(
            f"{'task':34s} {'reading':9s} {'n':>4s} {'chance':>7s} {'text':>6s} {'p(text)':>9s} "
            f"{'speech':>7s} {'p(speech)':>9s}"
        )
        for r in rows:
            print(
                f"{r['task']:34s} {r['reading']:9s} {r['n']:4d} {r['chance']:7.1f} {r['text']:6.1f} {r['text_p']:9.2g} "
                f"{r['speech']:7.1f} {r['speech_p']:9.2g}"
            )
    return 0 if all(r["text_p"] < args.alpha for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
