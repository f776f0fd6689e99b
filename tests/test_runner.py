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
from tests.extras import extra


def run(task_dir: Path, out: Path, **kwargs) -> object:
    base = dict(
        model="dummy",
        tasks=["arith_all"],
        include_path=[task_dir],
        output_path=out,
        progress=False,
        bootstrap_iters=200,
    )
    base.update(kwargs)
    return evaluate(RunConfig(**base))


def expected_speech_right() -> list[bool]:
    # DummyModel's documented rule: spoken option = floor(seconds) mod n_choices
    return [math.floor(sec) % len(opts) == ans for (_, _, _, opts, ans, sec) in ARITH]


def test_dummy_run_gives_gap_implied_by_construction(task_dir, tmp_path):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # checks the representation results too
    outcome = run(task_dir, tmp_path / "out", log_samples=True)
    mc = outcome.results.tasks["arith"]
    right = expected_speech_right()
    assert mc.text.score == 100.0
    assert mc.speech.score == pytest.approx(100.0 * sum(right) / len(right))
    assert mc.gap.gap == pytest.approx(mc.text.score - mc.speech.score)
    assert (mc.gap.both_right, mc.gap.text_only, mc.gap.speech_only, mc.gap.both_wrong) == (
        sum(right),
        len(right) - sum(right),
        0,
        0,
    )
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
        assert a.results.tasks[name].model_dump(exclude={"representations"}) == b.results.tasks[name].model_dump(
            exclude={"representations"}
        )
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
    from modgap_eval.models.base import Capability
    from modgap_eval.models.dummy import DummyModel

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
    return {
        name: {k: task[k] for k in ("text", "speech", "gap", "representations")} for name, task in data["tasks"].items()
    }


def test_resume_after_kill_gives_identical_numbers(task_dir, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "modgap_eval.cli",
        "--model",
        "dummy",
        "--model_args",
        "delay=0.15",
        "--tasks",
        "arith_all",
        "--include_path",
        str(task_dir),
        "--bootstrap_iters",
        "200",
        "--no_progress",
    ]
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
    _assert_resume_equals_fresh(cmd, out, tmp_path / "fresh", env, "delay=0.15")


def _assert_resume_equals_fresh(cmd: list, out: Path, fresh_out: Path, env: dict, delay: str) -> None:
    resumed = subprocess.run(cmd + ["--output_path", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    fresh = subprocess.run(
        [c for c in cmd if c not in ("--model_args", delay)] + ["--output_path", str(fresh_out), "--no_cache"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
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
    from modgap_eval.transcripts import with_transcript_wer as _with_transcript_wer
    from modgap_eval.types import Audio, Generation, Sample

    sample = Sample(id="a", text="What is the capital of France?", audio=Audio(path=Path("x.wav")))
    out = _with_transcript_wer(
        [sample], {"a": Generation("Paris", extras={"transcript": "what is the capital of fran"})}
    )
    assert out["a"].extras["wer"] == pytest.approx(1 / 6)  # one substitution in six words


def _all_skipped_task_dir(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    make_task_dir(root, task="arith")
    make_task_dir(root, output_type="generate", scorer="exact_match", task="arith_open")
    (root / "group.yaml").write_text("group: arith_all\ntasks: [arith, arith_open]\n", encoding="utf-8")
    for wav in (root / "audio").glob("arith[0-9].wav"):  # every clip of 'arith' (not of 'arith_open') is gone
        wav.unlink()
    return root


def test_all_skipped_task_is_reported_and_every_command_reads_the_run(tmp_path, capsys):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    from modgap_eval.cli import main
    from modgap_eval.rescoring import rescore_run

    outcome = run(_all_skipped_task_dir(tmp_path), tmp_path / "out", on_error="skip", log_samples=True)
    results = outcome.results
    assert list(results.tasks) == ["arith_open"] and results.groups == {}
    assert results.not_run["arith"].startswith(f"all {len(ARITH)} sample(s) skipped on error (first: q")
    saved = read_results(outcome.run_dir)
    assert saved.not_run == results.not_run
    assert rescore_run(outcome.run_dir).tasks["arith_open"] == results.tasks["arith_open"]
    board = tmp_path / "board" / "leaderboard.json"
    assert main(["leaderboard", "add", str(outcome.run_dir), "--leaderboard", str(board), "--no_build"]) == 0
    assert "arith_open" in json.loads(board.read_text())["models"][0]["tasks"]
    assert main(["correlate", str(outcome.run_dir)]) == 0
    assert "arith_open" in capsys.readouterr().out
    from modgap_eval.report import summary_table

    assert "arith                            not run: all 6 sample(s) skipped" in summary_table(results)


def test_results_are_written_after_each_task(task_dir, tmp_path, monkeypatch):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    from modgap_eval.pipeline import represent as stage

    real = stage.represent
    calls = []

    def crash_on_second(ctx, data, samples):
        calls.append(data.task.name)
        if len(calls) == 2:
            raise RuntimeError("crash late in the run")
        return real(ctx, data, samples)

    monkeypatch.setattr("modgap_eval.runner.represent", crash_on_second)
    with pytest.raises(RuntimeError, match="crash late"):
        run(task_dir, tmp_path / "out")
    (results_file,) = (tmp_path / "out").glob("dummy/*/results.json")
    kept = read_results(results_file)
    assert list(kept.tasks) == [calls[0]] and kept.tasks[calls[0]].representations is not None
    fresh = run(task_dir, tmp_path / "fresh", use_cache=False)
    assert kept.tasks[calls[0]] == fresh.results.tasks[calls[0]]


def test_representations_are_cached_with_the_responses(task_dir, tmp_path, monkeypatch):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    first = run(task_dir, tmp_path / "out")
    records = list((tmp_path / "out" / ".cache" / "representations").glob("*.jsonl"))
    assert len(records) == 1 and len(records[0].read_text().splitlines()) == 2  # one per task
    monkeypatch.setattr("modgap_eval.analysis.stage.analyse_task", lambda *a, **k: pytest.fail("recomputed"))
    again = run(task_dir, tmp_path / "out")
    for name in ("arith", "arith_open"):
        assert again.results.tasks[name] == first.results.tasks[name]
        assert (again.run_dir / f"representations_{name}.json").read_text() == (
            first.run_dir / f"representations_{name}.json"
        ).read_text()


def test_resume_after_kill_mid_representations_gives_identical_numbers(task_dir, tmp_path):
    """Representation floats: identical (same computation on the same states; the tolerance would be 1e-6 relative)."""
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "modgap_eval.cli",
        "--model",
        "dummy",
        "--model_args",
        "delay=0.1",
        "--tasks",
        "arith_all",
        "--include_path",
        str(task_dir),
        "--bootstrap_iters",
        "200",
        "--no_progress",
    ]
    out = tmp_path / "killed"
    proc = subprocess.Popen(cmd + ["--output_path", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    responses, figures = out / ".cache", out / ".cache" / "representations"

    def lines(folder: Path) -> int:
        return sum(len(p.read_bytes().splitlines()) for p in folder.glob("*.jsonl")) if folder.exists() else 0

    deadline = time.time() + 120
    while time.time() < deadline and not (lines(responses) == 4 * len(ARITH) and lines(figures) == 1):
        time.sleep(0.02)  # all requests answered and the first task's figures cached: inside the second's
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (lines(responses), lines(figures)) == (4 * len(ARITH), 1), (
        "the kill must land in the second task's representations"
    )
    (partial,) = out.glob("dummy/*/results.json")
    assert len(read_results(partial).tasks) == 1  # the finished task was written before the crash
    _assert_resume_equals_fresh(cmd, out, tmp_path / "fresh", env, "delay=0.1")
    assert lines(figures) == 2  # only the missing task's figures were computed on resume


def test_tasks_all_lists_unavailable_tasks_and_a_named_one_is_an_error_before_work(task_dir, tmp_path, monkeypatch):
    (task_dir / "gone.yaml").write_text(
        (task_dir / "arith.yaml")
        .read_text()
        .replace("task: arith", "task: gone")
        .replace("path: arith.jsonl", "path: missing.jsonl"),
        encoding="utf-8",
    )
    from functools import partial

    from modgap_eval.tasks.loader import discover

    monkeypatch.setattr("modgap_eval.runner.discover", partial(discover, builtin=False))  # 'all' = this folder's tasks
    loaded = []
    monkeypatch.setattr(
        "modgap_eval.runner.load_samples", lambda task, *a, **k: loaded.append(task.name) or real_load(task, *a, **k)
    )
    outcome = run(task_dir, tmp_path / "out", tasks=["all"], representations="off", bootstrap_iters=20)
    assert "file 'missing.jsonl' not found" in outcome.results.not_run["gone"]
    assert "gone" not in loaded and sorted(outcome.results.tasks) == ["arith", "arith_open"]
    loaded.clear()
    with pytest.raises(DataError, match=r"task gone: .*missing.jsonl"):
        run(task_dir, tmp_path / "out2", tasks=["arith", "gone"])
    assert loaded == []  # refused before any task's data loaded (and before the model)


def real_load(*args, **kwargs):
    from modgap_eval.tasks.loader import load_samples

    return load_samples(*args, **kwargs)


def test_records_the_device_the_model_reports(task_dir, tmp_path, monkeypatch):
    from modgap_eval.models.dummy import DummyModel

    original = DummyModel.info
    monkeypatch.setattr(
        DummyModel, "info", lambda self: original(self).model_copy(update={"device": "the-device-it-used"})
    )
    outcome = run(task_dir, tmp_path / "out", tasks=["arith"], device="cpu", representations="off")
    assert outcome.results.envelope.device == "the-device-it-used"  # what ran, not what was asked for


def test_rescore_of_a_cascade_run_keeps_the_transcript_wer(task_dir, tmp_path):
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.models.dummy import DummyModel
    from modgap_eval.rescoring import rescore_run
    from modgap_eval.types import Generation

    class Transcribing(DummyModel):  # a cascade's contract: speech outputs carry the transcript
        def generate(self, requests):
            outs = super().generate(requests)
            return [
                Generation(o.text, extras={"transcript": "what is two"}) if r.prompt.audio is not None else o
                for o, r in zip(outs, requests)
            ]

    model = Transcribing.from_args({}, RuntimeOptions())
    outcome = evaluate(
        RunConfig(
            model="dummy",
            tasks=["arith_open"],
            include_path=[task_dir],
            output_path=tmp_path / "o",
            progress=False,
            bootstrap_iters=50,
            log_samples=True,
            representations="off",
        ),
        model=model,
    )
    task = outcome.results.tasks["arith_open"]
    from modgap_eval.transcripts import transcript_wer

    expected = sum(transcript_wer("what is two", f"What is {a} {op} {b}?") for a, op, b, *_ in ARITH) / len(ARITH)
    assert task.speech.extras["transcript_wer"] == pytest.approx(expected)
    assert rescore_run(outcome.run_dir).tasks["arith_open"].speech.extras == task.speech.extras


def test_a_damaged_cache_line_is_skipped_counted_and_rerun(task_dir, tmp_path, capsys):
    first = run(task_dir, tmp_path / "out", tasks=["arith"], representations="off")
    cache_file = next((tmp_path / "out" / ".cache").glob("*.jsonl"))
    lines = cache_file.read_bytes().splitlines(keepends=True)
    cache_file.write_bytes(
        b"".join(lines[:3]) + b"\xff\xfe\x00 not json\n" + lines[3][:40] + b"\xc3\n" + b"".join(lines[5:])
    )
    again = run(task_dir, tmp_path / "out", tasks=["arith"], representations="off")
    assert "skipped 2 unreadable line(s) of the response cache" in capsys.readouterr().err
    assert again.results.tasks["arith"] == first.results.tasks["arith"]
    assert len(cache_file.read_bytes().splitlines()) == len(lines) + 2  # the two lost requests ran again


def test_hf_representations_of_a_resumed_run_equal_an_uninterrupted_run(tmp_path):
    """Tiny Qwen2-Audio: responses cached, figures lost (a kill mid-representations): identical figures."""
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    import shutil

    from tests.models.tiny import build_tiny_qwen2_audio

    make_task_dir(tmp_path / "t", task="arith")
    model_dir = build_tiny_qwen2_audio(tmp_path / "m")
    options = dict(
        model="qwen2-audio",
        model_args={"pretrained": str(model_dir)},
        tasks=["arith"],
        batch_size=4,
        representations="on",
        bootstrap_iters=50,
    )
    fresh = run(tmp_path / "t", tmp_path / "fresh", use_cache=False, **options)
    run(tmp_path / "t", tmp_path / "c", **options)
    shutil.rmtree(tmp_path / "c" / ".cache" / "representations")
    resumed = run(tmp_path / "t", tmp_path / "c", **options)
    assert resumed.results.tasks["arith"] == fresh.results.tasks["arith"]
