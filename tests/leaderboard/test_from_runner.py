"""Results written by the real runner (dummy model, fixture tasks with real audio) merge into the leaderboard."""

from __future__ import annotations

import pytest

from modgap_eval.cli import main
from modgap_eval.config import RunConfig
from modgap_eval.leaderboard.merge import load_leaderboard
from modgap_eval.runner import evaluate

pytestmark = pytest.mark.slow


def test_runner_results_round_trip_into_the_leaderboard(task_dir, tmp_path, capsys):
    runs = []
    for label, args in [("small", {}), ("deep", {"layers": "6"})]:
        config = RunConfig(
            model="dummy",
            model_args=args,
            tasks=["arith_all"],
            include_path=[task_dir],
            output_path=tmp_path / label,
            progress=False,
            bootstrap_iters=200,
            representations="on",
        )
        runs.append(evaluate(config))
    board_path = tmp_path / "lb" / "leaderboard.json"
    assert main(["leaderboard", "add", *(str(r.run_dir) for r in runs), "--leaderboard", str(board_path)]) == 0
    board = load_leaderboard(board_path)
    assert len(board.models) == 2
    for outcome in runs:
        model = next(m for m in board.models if m.args == outcome.results.model.args)
        assert any(t.representations is not None for t in outcome.results.tasks.values())
        for name, task in outcome.results.tasks.items():
            entry = model.tasks[name]
            assert (entry.text, entry.speech, entry.gap) == (task.text.score, task.speech.score, task.gap.gap)
            assert entry.identity.content_hash == task.content_hash
            if task.representations is not None:
                assert entry.representation.aps_cos == task.representations.aps_cos
                assert entry.representation.layer_cos == task.representations.layer_cos
        assert model.groups["arith_all"].gap == outcome.results.groups["arith_all"].gap
    assert (board_path.parent / "site" / "index.html").is_file()
    capsys.readouterr()
    # Adding the same runs again changes nothing.
    before = board_path.read_bytes()
    assert main(["leaderboard", "add", *(str(r.run_dir) for r in runs), "--leaderboard", str(board_path)]) == 0
    assert board_path.read_bytes() == before
    assert capsys.readouterr().out.count("unchanged:") == 2
