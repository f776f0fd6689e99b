"""``modgap-eval leaderboard add|build`` end to end, and ``--push_to_hub`` with the hub client replaced."""

from __future__ import annotations

import json

import pytest

from modgap_eval.cli import main
from tests.extras import extra
from tests.leaderboard.builders import representation, run_results, task_result, write_run


@pytest.fixture
def results(tmp_path):
    alpha = write_run(tmp_path, "alpha", run_results("alpha", [task_result("gk", 60.0, 45.0, rep=representation(0.1))]))
    beta_v2 = write_run(tmp_path, "beta", run_results("beta", [task_result("gk", 50.0, 40.0, version=2)]))
    return alpha, beta_v2


def test_add_twice_is_byte_identical(tmp_path, results, capsys):
    alpha, _ = results
    board = tmp_path / "lb" / "leaderboard.json"
    assert main(["leaderboard", "add", str(alpha), "--leaderboard", str(board)]) == 0
    json_bytes, site_bytes = board.read_bytes(), (board.parent / "site" / "index.html").read_bytes()
    assert "updated" in capsys.readouterr().out
    assert main(["leaderboard", "add", str(alpha.parent), "--leaderboard", str(board)]) == 0
    out = capsys.readouterr().out
    assert "unchanged:" in out and "leaderboard.json: unchanged" in out
    assert board.read_bytes() == json_bytes
    assert (board.parent / "site" / "index.html").read_bytes() == site_bytes


def test_incomparable_add_exits_2_and_writes_nothing(tmp_path, results, capsys):
    alpha, beta_v2 = results
    board = tmp_path / "lb" / "leaderboard.json"
    assert main(["leaderboard", "add", str(alpha), "--leaderboard", str(board)]) == 0
    before = board.read_bytes()
    assert main(["leaderboard", "add", str(beta_v2), "--leaderboard", str(board)]) == 2
    err = capsys.readouterr().err
    assert "refused, not comparable" in err and "version 2" in err and "version 1" in err
    assert err.count("\n") == 1  # one line
    assert board.read_bytes() == before


def test_build_needs_a_leaderboard(tmp_path, capsys):
    assert main(["leaderboard", "build", "--leaderboard", str(tmp_path / "none.json")]) == 2
    assert "no leaderboard yet" in capsys.readouterr().err


class FakeHfApi:
    """Stands in for huggingface_hub.HfApi at its boundary: records calls, never touches the network."""

    calls: list[tuple[str, dict]] = []
    fail: bool = False

    def create_repo(self, **kwargs):
        FakeHfApi.calls.append(("create_repo", kwargs))

    def upload_file(self, **kwargs):
        if FakeHfApi.fail:
            raise OSError("401 Unauthorized")
        with open(kwargs["path_or_fileobj"], encoding="utf-8") as handle:
            kwargs["content"] = handle.read()
        FakeHfApi.calls.append(("upload_file", kwargs))
        return "https://huggingface.co/datasets/org/board/commit/1"


@pytest.fixture
def fake_hub(monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub", reason=extra("huggingface_hub", "data"))

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    FakeHfApi.calls = []
    FakeHfApi.fail = False
    return FakeHfApi


def test_build_push_to_hub_uploads_the_json(tmp_path, results, fake_hub, capsys):
    alpha, _ = results
    board = tmp_path / "lb" / "leaderboard.json"
    main(["leaderboard", "add", str(alpha), "--leaderboard", str(board), "--no_build"])
    assert not (board.parent / "site").exists()
    out_dir = tmp_path / "public"
    assert (
        main(["leaderboard", "build", "--leaderboard", str(board), "--out", str(out_dir), "--push_to_hub", "org/board"])
        == 0
    )
    assert (out_dir / "index.html").is_file()
    (kind, create), (_, upload) = fake_hub.calls
    assert kind == "create_repo" and create == {"repo_id": "org/board", "repo_type": "dataset", "exist_ok": True}
    assert upload["repo_id"] == "org/board" and upload["repo_type"] == "dataset"
    assert upload["path_in_repo"] == "leaderboard.json"
    assert json.loads(upload["content"]) == json.loads(board.read_text())
    assert "commit/1" in capsys.readouterr().out


def test_push_failure_is_one_clear_line(tmp_path, results, fake_hub, capsys):
    alpha, _ = results
    board = tmp_path / "leaderboard.json"
    main(["leaderboard", "add", str(alpha), "--leaderboard", str(board), "--no_build"])
    fake_hub.fail = True
    assert main(["leaderboard", "build", "--leaderboard", str(board), "--push_to_hub", "org/board"]) == 2
    assert "push to Hugging Face dataset 'org/board' failed: 401 Unauthorized" in capsys.readouterr().err
