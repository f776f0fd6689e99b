"""Shared fixtures: offline hub settings, an isolated cache, and small paired tasks with real audio files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """TTS clips and converted weights go to a per-session temp cache unless a test sets its own.

    Slow tests that need the real converted weights keep the user's cache (MODGAP_CACHE unchanged)
    when MODGAP_TEST_SHARED_CACHE=1.
    """
    if os.environ.get("MODGAP_TEST_SHARED_CACHE") != "1" and "MODGAP_CACHE" not in os.environ:
        monkeypatch.setenv("MODGAP_CACHE", str(tmp_path_factory.getbasetemp() / "modgap_cache"))


def write_wav(path: Path, seconds: float, sample_rate: int = 16_000, channels: int = 1, freq: float = 220.0) -> Path:
    """A real WAV file: a sine tone of the given length."""
    import numpy as np
    import soundfile

    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    tone = 0.3 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    data = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), data, sample_rate)
    return path


ARITH = [  # (a, op, b, options, answer index, clip seconds)
    (3, "plus", 4, ["6", "7", "8", "9"], 1, 1.2),  # speech picks floor(1.2) % 4 = 1 -> right
    (9, "minus", 5, ["2", "3", "4", "5"], 2, 2.5),  # picks 2 -> right
    (2, "times", 6, ["10", "11", "12", "13"], 2, 1.0),  # picks 1 -> wrong
    (8, "plus", 1, ["9", "10", "11", "12"], 0, 3.4),  # picks 3 -> wrong
    (7, "minus", 2, ["3", "4", "5", "6"], 2, 0.5),  # picks 0 -> wrong
    (4, "times", 3, ["11", "12", "13", "14"], 1, 5.9),  # picks 1 -> right
]


def make_task_dir(
    root: Path,
    output_type: str = "loglikelihood",
    scorer: str = "mc_loglikelihood",
    task: str = "arith",
    extra_yaml: str = "",
) -> Path:
    """A task folder with a JSONL source, one real WAV per item, and its YAML. Returns the YAML path."""
    rows = []
    for i, (a, op, b, options, answer, seconds) in enumerate(ARITH):
        audio = write_wav(root / "audio" / f"{task}{i}.wav", seconds)
        rows.append(
            {
                "id": f"q{i}",
                "question": f"What is {a} {op} {b}?",
                "choices": options,
                "answer": answer,
                "result": str(options[answer]),
                "audio": f"audio/{audio.name}",
            }
        )
    (root / f"{task}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if output_type == "loglikelihood" or scorer == "mc_letter":
        fields = 'text: "{question}\\n{choices}"\n  choices: choices\n  answer: answer'
    else:
        fields = 'text: "{question}"\n  references: result'
    yaml_path = root / f"{task}.yaml"
    yaml_path.write_text(
        f"task: {task}\nversion: 1\nsource:\n  kind: jsonl\n  path: {task}.jsonl\nfields:\n  id: id\n  {fields}\n"
        f'speech:\n  column: audio\nprompt:\n  template: "Q: {{content}}"\noutput_type: {output_type}\n'
        f"scorer:\n  name: {scorer}\n{extra_yaml}",
        encoding="utf-8",
    )
    return yaml_path


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    make_task_dir(tmp_path / "tasks", task="arith")
    make_task_dir(tmp_path / "tasks", output_type="generate", scorer="exact_match", task="arith_open")
    (tmp_path / "tasks" / "group.yaml").write_text("group: arith_all\ntasks: [arith, arith_open]\n", encoding="utf-8")
    return tmp_path / "tasks"
