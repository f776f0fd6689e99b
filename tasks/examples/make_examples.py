"""Regenerate the example tasks' data and audio (flite voice slt, 16 kHz, FLAC).

Run from this folder: ``python make_examples.py``. Needs Debian's ``flite`` and ``sox``.
The written content of each item is exactly what is spoken.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}


def speak(text: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "clip.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", text.replace("\n", " "), "-o", str(wav)], check=True)
        subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", str(out)], check=True)


def main() -> None:
    rng = random.Random(7)
    mc_rows, open_rows = [], []
    for i in range(12):
        op = ["plus", "minus", "times"][i % 3]
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        answer = OPS[op](a, b)
        wrong = sorted({answer + d for d in (-2, -1, 1, 2, 3)} - {answer})[:3]
        choices = [str(x) for x in sorted(wrong + [answer])]
        question = f"What is {a} {op} {b}?"
        mc_id, open_id = f"mc{i:02d}", f"open{i:02d}"
        mc_text = question + "\n" + "\n".join(f"{chr(65 + k)}. {c}" for k, c in enumerate(choices))
        speak(mc_text, HERE / "audio" / f"{mc_id}.flac")
        speak(question, HERE / "audio" / f"{open_id}.flac")
        mc_rows.append(
            {
                "id": mc_id,
                "question": question,
                "choices": choices,
                "answer": choices.index(str(answer)),
                "audio": f"audio/{mc_id}.flac",
            }
        )
        open_rows.append({"id": open_id, "question": question, "answer": str(answer), "audio": f"audio/{open_id}.flac"})
    for name, rows in (("arithmetic_mc.jsonl", mc_rows), ("arithmetic_open.jsonl", open_rows)):
        (HERE / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
