"""End-to-end runs of the dummy model on fixture tasks whose expected scores follow from its definition."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modgap_eval.config import RunConfig
from modgap_eval.errors import CapabilityError, DataError
from modgap_eval.results import read_results
from modgap_eval.runner import evaluate
from tests.conftest import ARITH, make_task_dir, write_wav


def run(task_dir: Path, out: Path, **kwargs) -> "object":
    base = dict(model="dummy", tasks=["arith_all"], include_path=[task_dir], output_path=out, progress=False,
                bootstrap_iters=200)
    base.update(kwargs)
    return evaluate(RunConfig(**base))


def expected_speech_right() -> list[bool]:
    # DummyModel's documented rule: spoken option = floor(seconds) mod n_choices
    return [math.floor(sec) % len(opts) == ans for (_, _, _, opts, ans, sec) in ARITH]


def test_dummy_run_gives_gap_implied_by_construction(task_dir, tmp_path):
    outcome = run(task_dir, tmp_path / "out", log_samples=True)
    mc = outcome.results.tasks["arith"]
    right = expected_speech_right()
    assert mc.text.score == 100.0
    assert mc.speech.score == pytest.approx(100.0 * sum(right) / len(right))
    assert mc.gap.gap == pytest.approx(mc.text.score - mc.speech.score)
    assert (mc.gap.both_right, mc.gap.text_only, mc.gap.speech_only, mc.gap.both_wrong) == (sum(right), len(right) - sum(right), 0, 0)
    assert mc.gap.mcnemar_p == pytest.approx(2 * 0.5 ** (len(right) - sum(right)))
    assert mc.gap.ci_low <= mc.gap.gap <= mc.gap.ci_high
    # generative: text computes the result, speech says the clip's whole seconds: never the result here
    op = outcome.results.tasks["arith_open"]
    assert (op.text.score, op.speech.score, op.gap.n_paired) == (100.0, 0.0, len(ARITH))
    group = outcome.results.groups["arith_all"]
    assert group.text == pytest.approx((mc.text.score + op.text.score) / 2)
    assert group.gap == pytest.approx(group.text - group.speech)
    # flips are logged per sample
    records = [json.loads(line) for line in (outcome.run_dir / "samples_arith.jsonl").read_text().splitlines()]
    assert [r["flipped"] for r in records] == [None if ok else "text_only" for ok in right]
    assert all(r["speech_result"]["prompt"].startswith("Q: <audio:") for r in records)
    # the results file validates against the schema and records the envelope
    saved = read_results(outcome.run_dir)
    assert saved.tasks["arith"].content_hash == mc.content_hash and saved.envelope.seed == 1234
    assert saved.tasks["arith"].representations is not None


def test_generated_letter_path(tmp_path):
    make_task_dir(tmp_path / "t", output_type="generate", scorer="mc_letter", task="letters")
    outcome = run(tmp_path / "t", tmp_path / "out", tasks=["letters"], representations="off")
    task = outcome.results.tasks["letters"]
    # the dummy answers with a number, not a letter: every answer is unextractable, counted and wrong
    assert task.text.score == 0.0 and task.text.unextractable == len(ARITH) and task.speech.unextractable == len(ARITH)


def test_same_numbers_with_any_batch_size(task_dir, tmp_path):
    a = run(task_dir, tmp_path / "a", batch_size=1, use_cache=False)
    b = run(task_dir, tmp_path / "b", batch_size=4, use_cache=False)
    for name in ("arith", "arith_open"):
        assert a.results.tasks[name].model_dump(exclude={"representations"}) == b.results.tasks[name].model_dump(exclude={"representations"})
        assert a.results.tasks[name].representations == b.results.tasks[name].representations


def test_corrupt_and_missing_audio_name_task_and_sample(tmp_path):
    yaml_path = make_task_dir(tmp_path / "t", task="arith")
    (tmp_path / "t" / "audio" / "arith2.wav").write_bytes(b"RIFF not really a wav")
    with pytest.raises(DataError, match=r"task arith, sample q2: cannot decode audio"):
        run(tmp_path / "t", tmp_path / "out", tasks=["arith"])
    (tmp_path / "t" / "audio" / "arith4.wav").unlink()
    outcome = run(tmp_path / "t", tmp_path / "out2", tasks=["arith"], on_error="skip")
    task = outcome.results.tasks["arith"]
    assert sorted(e.sample_id for e in task.errors) == ["q2", "q4"]
    assert "not found" in {e.sample_id: e.message for e in task.errors}["q4"]
    assert task.gap.n_paired == len(ARITH) - 2 and task.n_samples == len(ARITH)
    assert yaml_path.exists()


def test_empty_clip_is_an_error(tmp_path):
    make_task_dir(tmp_path / "t", task="arith")
    write_wav(tmp_path / "t" / "audio" / "arith0.wav", 0.0)
    with pytest.raises(DataError, match=r"sample q0: audio .* is empty"):
        run(tmp_path / "t", tmp_path / "out", tasks=["arith"])


def test_capabilities_checked_before_data_loads(tmp_path, monkeypatch):
    from modgap_eval.models.dummy import DummyModel
    from modgap_eval.models.base import Capability

    make_task_dir(tmp_path / "t", task="arith")
    monkeypatch.setattr(DummyModel, "capabilities", frozenset({Capability.GENERATE}))
    monkeypatch.setattr("modgap_eval.runner.load_samples", lambda *a, **k: pytest.fail("data loaded before the check"))
    with pytest.raises(CapabilityError, match=r"loglikelihood \(needed by task arith\)"):
        run(tmp_path / "t", tmp_path / "out", tasks=["arith"], representations="off")


def test_cache_resumes_and_invalidates_only_what_changed(task_dir, tmp_path):
    first = run(task_dir, tmp_path / "out")
    cache_file = next((tmp_path / "out" / ".cache").glob("*.jsonl"))
    lines_before = len(cache_file.read_text().splitlines())
    assert lines_before == 5 * len(ARITH)  # text + speech of 2 tasks, + the MC task's neutral (calibration) requests
    yaml_path = task_dir / "arith_open.yaml"
    yaml_path.write_text(yaml_path.read_text().replace('template: "Q: {content}"', 'template: "Question: {content}"'))
    second = run(task_dir, tmp_path / "out")
    # only the changed task's 2 × n requests were run again
    assert len(cache_file.read_text().splitlines()) == lines_before + 2 * len(ARITH)
    assert second.results.tasks["arith"].model_dump() == first.results.tasks["arith"].model_dump()


def _numbers(results_path: Path) -> dict:
    data = json.loads(results_path.read_text())
    return {name: {k: task[k] for k in ("text", "speech", "gap", "representations")} for name, task in data["tasks"].items()}


def test_resume_after_kill_gives_identical_numbers(task_dir, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "modgap_eval.cli", "--model", "dummy", "--model_args", "delay=0.15", "--tasks", "arith_all",
           "--include_path", str(task_dir), "--bootstrap_iters", "200", "--no_progress"]
    out = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--output_path", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cache_dir = out / ".cache"
    deadline = time.time() + 60
    while time.time() < deadline:
        files = list(cache_dir.glob("*.jsonl")) if cache_dir.exists() else []
        if files and len(files[0].read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(next(cache_dir.glob("*.jsonl")).read_text().splitlines())
    assert 5 <= done < 4 * len(ARITH), "the kill must land mid-run"
    resumed = subprocess.run(cmd + ["--output_path", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    fresh = subprocess.run([c for c in cmd if c not in ("--model_args", "delay=0.15")] + ["--output_path", str(tmp_path / "fresh"), "--no_cache"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    resumed_path = Path(resumed.stdout.strip().splitlines()[-1].split(": ", 1)[1])
    fresh_path = Path(fresh.stdout.strip().splitlines()[-1].split(": ", 1)[1])
    assert _numbers(resumed_path) == _numbers(fresh_path)


def test_rescore_reproduces_the_run(task_dir, tmp_path):
    from modgap_eval.rescoring import rescore_run

    outcome = run(task_dir, tmp_path / "out", log_samples=True)
    again = rescore_run(outcome.run_dir)
    for name, task in outcome.results.tasks.items():
        assert again.tasks[name].model_dump() == task.model_dump()
    assert again.groups == outcome.results.groups


def test_rescore_without_sample_log_says_how_to_fix(task_dir, tmp_path):
    from modgap_eval.errors import ConfigError
    from modgap_eval.rescoring import rescore_run

    outcome = run(task_dir, tmp_path / "out")
    with pytest.raises(ConfigError, match="--log_samples"):
        rescore_run(outcome.run_dir)


def test_text_only_model_is_refused_before_data_loads(tmp_path, monkeypatch):
    from modgap_eval.models.dummy import DummyModel

    make_task_dir(tmp_path / "t", task="arith")
    monkeypatch.setattr(DummyModel, "accepts_speech", False)
    monkeypatch.setattr("modgap_eval.runner.load_samples", lambda *a, **k: pytest.fail("data loaded before the check"))
    with pytest.raises(CapabilityError, match="reads text only.*--model cascade"):
        run(tmp_path / "t", tmp_path / "out", tasks=["arith"])


def test_transcripts_get_their_wer_against_the_written_form():
    from modgap_eval.runner import _with_transcript_wer
    from modgap_eval.types import Audio, Generation, Sample

    sample = Sample(id="a", text="What is the capital of France?", audio=Audio(path=Path("x.wav")))
    out = _with_transcript_wer([sample], {"a": Generation("Paris", extras={"transcript": "what is the capital of fran"})})
    assert out["a"].extras["wer"] == pytest.approx(1 / 6)  # one substitution in six words
