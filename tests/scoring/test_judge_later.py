"""Judge later, end to end through the CLI: a run without a judge saves the open-ended responses and
scores the rest; ``rescore --judge_base_url`` fills them in. A local stub endpoint on 127.0.0.1 sees
every request: a credential a task names never leaves the process, and the user's key goes only there."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

pa = pytest.importorskip("pyarrow", reason=extra("pyarrow", "data"))
pq = pytest.importorskip("pyarrow.parquet", reason=extra("pyarrow.parquet", "data"))

from modgap_eval.cli import main
from modgap_eval.results import read_results
from modgap_eval.scoring.judge_config import (
    allow_downloads,
    configure_judge,
    override_profile,
)
from tests.models.test_replay import write_hub_mirror, write_jsonl
from tests.scoring.test_judge_pedant import StubJudge


@pytest.fixture(autouse=True)
def clean_judge(monkeypatch):
    for name in ("MODGAP_JUDGE_BASE_URL", "MODGAP_JUDGE_MODEL", "MODGAP_JUDGE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield
    configure_judge(None)
    override_profile(None)
    allow_downloads(False)


def setup_run(tmp_path):
    mirror = write_hub_mirror(tmp_path / "mirror")
    folder = mirror / "hlt-lab" / "voicebench" / "commoneval"
    folder.mkdir()
    rows = [{"prompt": f"Tell me about topic {i}.", "audio": {"bytes": b"-", "path": None}} for i in range(3)]
    pq.write_table(pa.Table.from_pylist(rows), folder / "test-00000-of-00001.parquet")
    lines = [
        {"task": "voicebench_commoneval", "id": str(i), "modality": m, "response": f"{m} answer {i}"}
        for i in range(3)
        for m in ("text", "speech")
    ]
    lines += [
        {"task": "voicebench_advbench", "id": str(i), "modality": m, "response": "I'm sorry."}
        for i in range(4)
        for m in ("text", "speech")
    ]
    responses = write_jsonl(tmp_path / "responses.jsonl", lines)
    return [
        "--model",
        "replay",
        "--model_args",
        f"path={responses}",
        "--tasks",
        "voicebench_commoneval,voicebench_advbench",
        "--data_dir",
        str(mirror),
        "--output_path",
        str(tmp_path / "out"),
        "--no_cache",
        "--no_progress",
        "--bootstrap_iters",
        "50",
    ]


def only_run_dir(tmp_path):
    (run_dir,) = [p.parent for p in (tmp_path / "out").rglob("results.json")]
    return run_dir


def test_run_without_judge_then_rescore_with_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "task-named-secret")
    monkeypatch.setenv("MY_JUDGE_KEY", "user-key")
    assert main(setup_run(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "voicebench_commoneval" in out and "not scored (no judge)" in out
    run_dir = only_run_dir(tmp_path)
    results = read_results(run_dir)
    assert set(results.tasks) == {"voicebench_advbench"} and results.tasks["voicebench_advbench"].text.score == 100.0
    pending = results.not_scored["voicebench_commoneval"]
    assert (pending.reason, pending.n_responses, pending.n_samples) == ("no judge", 3, 3)
    assert (run_dir / "samples_voicebench_commoneval.jsonl").is_file()

    # rescoring without a judge keeps them waiting (and says so)
    assert main(["rescore", str(run_dir)]) == 0
    assert "not scored (no judge)" in capsys.readouterr().out
    assert read_results(run_dir / "results_rescored.json").not_scored.keys() == {"voicebench_commoneval"}

    # each sample is judged text then speech (n=3 ratings per request): text 5,5,4 and speech 3,3,3
    replies = [["5", "5", "4"], ["3", "3", "3"]] * 3
    with StubJudge(replies) as stub:
        assert main(["rescore", str(run_dir), "--judge_base_url", stub.url, "--judge_api_key_env", "MY_JUDGE_KEY"]) == 0
    rescored = read_results(run_dir / "results_rescored.json")
    common = rescored.tasks["voicebench_commoneval"]
    assert not rescored.not_scored
    assert common.text.score == pytest.approx(100 * (14 / 3) / 5) and common.speech.score == pytest.approx(60.0)
    assert common.scorer["judge"]["profile"] == "voicebench" and common.scorer["judge"]["model"] == "gpt-4o-mini"
    assert len(stub.requests) == 6 and all(r["path"] == "/v1/chat/completions" for r in stub.requests)
    assert ["text answer" in r["messages"][1]["content"] for r in stub.requests] == [True, False] * 3
    assert {h["Authorization"] for h in stub.headers} == {"Bearer user-key"}
    sent = json.dumps(stub.requests) + json.dumps(stub.headers)
    assert "task-named-secret" not in sent
    assert "user-key" not in (run_dir / "results_rescored.json").read_text()


def test_a_task_naming_a_key_or_url_sends_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "task-named-secret")
    task_dir = tmp_path / "tasks"
    task_dir.mkdir()
    with StubJudge(["5"] * 4) as stub:
        (task_dir / "leaky.yaml").write_text(
            "task: leaky\nsource: {kind: jsonl, path: rows.jsonl}\n"
            "fields: {text: '{prompt}'}\nspeech: {column: audio}\n"
            "output_type: generate\n"
            f"scorer: {{name: llm_judge, args: {{mode: open, base_url: '{stub.url}', api_key_env: HF_TOKEN}}}}\n",
            encoding="utf-8",
        )
        (task_dir / "rows.jsonl").write_text(json.dumps({"prompt": "hi", "audio": "a.wav"}) + "\n", encoding="utf-8")
        code = main(
            [
                "--model",
                "dummy",
                "--tasks",
                "leaky",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path / "out"),
                "--no_progress",
            ]
        )
        assert code == 2
    assert stub.requests == []
