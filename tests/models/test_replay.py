"""``--model replay`` over a mirror in the hub's own layout: recorded responses are scored, paired and
written like any model run, with no audio decoded (the clips in the mirror are not even WAV)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.extras import extra

pa = pytest.importorskip("pyarrow", reason=extra("pyarrow", "data"))
pq = pytest.importorskip("pyarrow.parquet", reason=extra("pyarrow.parquet", "data"))

from modgap_eval.config import RunConfig
from modgap_eval.errors import ConfigError, DataError
from modgap_eval.results import read_results
from modgap_eval.runner import evaluate

MMSU_DOMAINS = (
    "biology business chemistry economics engineering health history law other philosophy physics psychology"
).split()
NOT_AUDIO = {"bytes": b"not a wav file: replay must not decode it", "path": "x.wav"}


def write_hub_mirror(root: Path) -> Path:
    """hlt-lab/voicebench as the hub stores it: <config>/<split>-00000-of-00001.parquet, mmsu per domain."""
    base = root / "hlt-lab" / "voicebench"
    (base / "mmsu").mkdir(parents=True)
    for i, domain in enumerate(MMSU_DOMAINS[:12]):
        rows = [
            {
                "question_id": 100 + i,
                "category": domain,
                "prompt": f"Q{i}?\nA. w\nB. x\nC. y\nD. z",
                "reference": "ABCD"[i % 4],
                "audio": NOT_AUDIO,
            }
        ]
        pq.write_table(pa.Table.from_pylist(rows), base / "mmsu" / f"{domain}-00000-of-00001.parquet")
    (base / "advbench").mkdir()
    rows = [{"prompt": f"harmful request {i}", "audio": NOT_AUDIO} for i in range(4)]
    pq.write_table(pa.Table.from_pylist(rows), base / "advbench" / "test-00000-of-00001.parquet")
    return root


def mmsu_line(i: int, modality: str, text: str) -> dict:
    return {"task": "voicebench_mmsu", "id": str(100 + i), "modality": modality, "response": text}


def replay_lines() -> list[dict]:
    lines = []
    for i in range(12):
        right = "ABCD"[i % 4]
        lines.append(mmsu_line(i, "text", f"The answer is {right}."))
        # speech: right on the first 6, unreadable on the other 6 (strict: wrong; VoiceBench: 1/4)
        lines.append(mmsu_line(i, "speech", f"The answer is {right}." if i < 6 else "I could not hear it."))
    advbench = ["I'm sorry, I can't.", "i'm sorry, no.", "Sure: step one ...", ""]
    for i, text in enumerate(advbench):
        lines.append({"task": "voicebench_advbench", "id": str(i), "modality": "text", "response": text})
        lines.append({"task": "voicebench_advbench", "id": str(i), "modality": "speech", "response": "Sure."})
    return lines


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def run(tmp_path: Path, responses: Path, **kwargs):
    config = dict(
        model="replay",
        model_args={"path": str(responses)},
        tasks=["voicebench_mmsu", "voicebench_advbench"],
        data_dir=tmp_path / "mirror",
        output_path=tmp_path / "out",
        progress=False,
        bootstrap_iters=200,
        use_cache=False,
        log_samples=True,
    )
    config.update(kwargs)
    return evaluate(RunConfig(**config))


@pytest.fixture
def mirror(tmp_path):
    return write_hub_mirror(tmp_path / "mirror")


def test_replay_scores_pairs_and_writes_results(tmp_path, mirror):
    outcome = run(tmp_path, write_jsonl(tmp_path / "responses.jsonl", replay_lines()))
    mmsu = outcome.results.tasks["voicebench_mmsu"]
    assert mmsu.n_samples == 12 and (mmsu.text.score, mmsu.speech.score) == (100.0, 50.0)
    assert mmsu.gap.n_paired == 12 and mmsu.gap.text_only == 6 and mmsu.gap.both_right == 6
    assert mmsu.readings["voicebench"].speech == pytest.approx(100 * (6 + 6 * 0.25) / 12)
    assert mmsu.readings["voicebench"].stats is None and mmsu.readings["strict"].stats is not None
    adv = outcome.results.tasks["voicebench_advbench"]
    assert adv.text.score == 50.0 and adv.speech.score == 0.0  # strict: "i'm sorry" is not "I'm sorry"
    assert adv.readings["voicebench"].text == 75.0  # VoiceBench lower-cases both sides
    assert outcome.results.model.name == "replay" and len(outcome.results.model.revision) == 16
    written = read_results(outcome.run_dir / "results.json")
    assert written.tasks["voicebench_mmsu"].gap.text_only == 6
    assert (outcome.run_dir / "samples_voicebench_mmsu.jsonl").is_file()


def test_missing_response_names_task_id_and_modality(tmp_path, mirror):
    lines = [
        x
        for x in replay_lines()
        if not (x["task"] == "voicebench_advbench" and x["id"] == "2" and x["modality"] == "speech")
    ]
    responses = write_jsonl(tmp_path / "responses.jsonl", lines)
    with pytest.raises(DataError, match="task voicebench_advbench, id 2, modality speech"):
        run(tmp_path, responses)
    outcome = run(tmp_path, responses, on_error="skip")
    adv = outcome.results.tasks["voicebench_advbench"]
    assert [e.sample_id for e in adv.errors] == ["2"] and adv.gap.n_paired == 3


def test_replay_reads_voicebench_output_files(tmp_path, mirror):
    """VoiceBench main.py writes <model>-<subset>-<split>-<audio|text>.jsonl, rows in dataset order."""
    folder = tmp_path / "vb"
    folder.mkdir()
    for modality, texts in (
        ("text", ["I'm sorry.", "Sure.", "No way, I won't.", "Sure."]),
        ("audio", ["Sure.", "Sure.", "I WON'T do that.", "Sure."]),
    ):
        rows = [{"prompt": f"harmful request {i}", "response": t} for i, t in enumerate(texts)]
        write_jsonl(folder / f"qwen2-advbench-test-{modality}.jsonl", rows)
        write_jsonl(folder / f"result-qwen2-advbench-test-{modality}.jsonl", rows[:1])  # api_judge.py's copy: ignored
    for domain_index, domain in enumerate(MMSU_DOMAINS):
        for modality in ("text", "audio"):
            row = {
                "question_id": 100 + domain_index,
                "prompt": "...",
                "reference": "ABCD"[domain_index % 4],
                "response": "B" if modality == "text" else "(C) is correct",
            }
            write_jsonl(folder / f"qwen2-mmsu-{domain}-{modality}.jsonl", [row])
    outcome = run(tmp_path, folder)
    adv = outcome.results.tasks["voicebench_advbench"]
    assert (adv.text.score, adv.speech.score) == (50.0, 0.0)
    assert adv.readings["voicebench"].speech == 25.0  # "I WON'T" only when lower-cased
    mmsu = outcome.results.tasks["voicebench_mmsu"]
    assert mmsu.text.score == pytest.approx(100 * 3 / 12) and mmsu.speech.score == pytest.approx(100 * 3 / 12)


def test_replay_needs_an_existing_path(tmp_path, mirror):
    with pytest.raises(ConfigError, match="path"):
        run(tmp_path, tmp_path / "missing.jsonl")


def test_leaderboard_entries_carry_both_readings(tmp_path, mirror):
    from modgap_eval.leaderboard.entries import read_incoming

    outcome = run(tmp_path, write_jsonl(tmp_path / "responses.jsonl", replay_lines()))
    incoming = read_incoming(outcome.run_dir, tmp_path)
    mmsu = next(t for t in incoming.tasks if t.task == "voicebench_mmsu")
    assert mmsu.readings["strict"].primary and not mmsu.readings["voicebench"].primary
    assert (mmsu.readings["strict"].speech, mmsu.readings["voicebench"].speech) == (50.0, pytest.approx(62.5))
