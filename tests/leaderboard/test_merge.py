"""Merging results into the leaderboard: round-trip, idempotence, replacement, refusal of incomparable runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modgap_eval.errors import ConfigError
from modgap_eval.leaderboard.entries import read_incoming
from modgap_eval.leaderboard.merge import (
    IncomparableRunError,
    dump_leaderboard,
    load_leaderboard,
    merge_all,
    save_leaderboard,
)
from modgap_eval.leaderboard.schema import Leaderboard, Provenance
from modgap_eval.paths import REPO_ROOT
from tests.leaderboard.builders import representation, run_results, task_result, write_run

REPORTED_FILE = REPO_ROOT / "leaderboard" / "reported" / "xiang2025_qwen2_audio.yaml"


def merged(tmp_path: Path, *files: Path, board: Leaderboard | None = None):
    runs = [read_incoming(f, tmp_path / "lb") for f in files]
    return merge_all(board or Leaderboard(), runs)


def alpha_run(tmp_path: Path, label: str = "alpha", **kwargs) -> Path:
    tasks = kwargs.pop("tasks", None) or [
        task_result("gk", 60.0, 45.0, rep=representation(0.1)),
        task_result("arith", 80.0, 70.0, rep=representation(0.0)),
    ]
    return write_run(tmp_path, label, run_results("alpha", tasks, **kwargs))


def test_entries_carry_the_results_numbers(tmp_path):
    outcome = merged(tmp_path, alpha_run(tmp_path))
    (model,) = outcome.board.models
    assert model.provenance is Provenance.REPRODUCED and model.name == "alpha" and model.revision == "r1"
    gk = model.tasks["gk"]
    assert (gk.text, gk.speech, gk.gap) == (60.0, 45.0, 15.0)
    assert (gk.gap_ci.low, gk.gap_ci.high, gk.gap_ci.level) == (11.0, 19.0, 0.95)
    assert gk.identity.version == 1 and gk.identity.scorer == {"name": "choice", "args": {}}
    assert gk.representation.aps_cos.excess == pytest.approx(0.5 + 0.1 - 0.42)
    assert gk.representation.layer_cos.matched.mean[4] == pytest.approx(0.2 + 0.1 + 0.6)
    assert gk.pairs.text_only == 8 and gk.unextractable_speech == 1
    group = model.groups["suite"]
    assert group.tasks == ["gk", "arith"] and group.gap == pytest.approx(12.5)
    (run,) = model.runs.values()
    assert gk.run == run.id and run.envelope.seed == 0
    assert run.results_path == "../alpha/results.json"  # relative to the leaderboard folder


def test_schema_round_trip(tmp_path):
    outcome = merged(tmp_path, alpha_run(tmp_path), REPORTED_FILE)
    path = tmp_path / "lb" / "leaderboard.json"
    assert save_leaderboard(outcome.board, path)
    loaded = load_leaderboard(path)
    assert dump_leaderboard(loaded) == path.read_text(encoding="utf-8")
    assert {m.id: m for m in loaded.models} == {m.id: m for m in outcome.board.models}
    assert json.loads(path.read_text())["schema_version"] == 1


def test_schema_rejects_unknown_fields_and_versions(tmp_path):
    path = tmp_path / "leaderboard.json"
    path.write_text(json.dumps({"schema_version": 1, "models": [], "extra": 1}))
    with pytest.raises(ConfigError, match="extra"):
        load_leaderboard(path)
    path.write_text(json.dumps({"schema_version": 2, "models": []}))
    with pytest.raises(ConfigError, match="schema_version 2"):
        load_leaderboard(path)


def test_same_run_twice_changes_nothing(tmp_path):
    file = alpha_run(tmp_path)
    path = tmp_path / "lb" / "leaderboard.json"
    first = merged(tmp_path, file)
    save_leaderboard(first.board, path)
    before = path.read_bytes()
    again = merged(tmp_path, file, board=load_leaderboard(path))
    assert not again.changed
    assert any(m.startswith("unchanged:") for m in again.messages)
    assert not save_leaderboard(again.board, path)
    assert path.read_bytes() == before
    # Within one call as well.
    twice = merged(tmp_path, file, file)
    assert dump_leaderboard(twice.board) == before.decode()


def test_newer_run_replaces_older_and_says_so(tmp_path):
    old = alpha_run(tmp_path, "old", finished_at="2026-11-20T10:00:00+00:00")
    new = alpha_run(
        tmp_path,
        "new",
        finished_at="2026-11-25T10:00:00+00:00",
        tasks=[task_result("gk", 62.0, 50.0, rep=representation(0.1))],
        group=None,
    )
    outcome = merged(tmp_path, old, new)
    (model,) = outcome.board.models
    assert model.tasks["gk"].speech == 50.0  # from the newer run
    assert model.tasks["arith"].speech == 70.0  # only the older run has it: kept
    assert len(model.runs) == 2
    assert any(m.startswith("replaced: task 'gk'") and "newer run" in m for m in outcome.messages)
    # Order of adding does not matter: the older one, added last, is skipped and says so.
    reverse = merged(tmp_path, new, old)
    assert dump_leaderboard(reverse.board) == dump_leaderboard(outcome.board)
    assert any(m.startswith("skipped: task 'gk'") and "older" in m for m in reverse.messages)


def test_replaced_runs_are_pruned(tmp_path):
    old = alpha_run(tmp_path, "old", finished_at="2026-11-20T10:00:00+00:00")
    new = alpha_run(tmp_path, "new", finished_at="2026-11-21T10:00:00+00:00")
    (model,) = merged(tmp_path, old, new).board.models
    (run,) = model.runs.values()
    assert run.results_path == "../new/results.json"


def test_other_revision_is_another_row(tmp_path):
    a = alpha_run(tmp_path, "a", revision="r1")
    b = alpha_run(tmp_path, "b", revision="r2")
    assert len(merged(tmp_path, a, b).board.models) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"version": 2}, "version 2"),
        ({"scorer": "match"}, '"name": "match"'),
        ({"content_hash": "beef" * 16}, "content_hash beefbeefbeef"),
    ],
)
def test_incomparable_task_is_refused_naming_both(tmp_path, change, expected):
    alpha = alpha_run(tmp_path)
    beta = write_run(tmp_path, "beta", run_results("beta", [task_result("gk", 50.0, 40.0, **change)], group=None))
    with pytest.raises(IncomparableRunError) as info:
        merged(tmp_path, alpha, beta)
    message = str(info.value)
    assert "task 'gk'" in message and "model 'alpha'" in message
    assert expected in message  # the incoming definition ...
    assert "version 1" in message and '"name": "choice"' in message  # ... and the one on the leaderboard


def test_representation_settings_must_match(tmp_path):
    alpha = alpha_run(tmp_path)
    beta = write_run(
        tmp_path,
        "beta",
        run_results("beta", [task_result("gk", 50.0, 40.0, rep=representation(0.0, centering=True))], group=None),
    )
    with pytest.raises(IncomparableRunError, match="centering=True"):
        merged(tmp_path, alpha, beta)


def test_group_membership_must_match(tmp_path):
    alpha = alpha_run(tmp_path)
    beta = write_run(tmp_path, "beta", run_results("beta", [task_result("gk", 50.0, 40.0)]))
    with pytest.raises(IncomparableRunError, match=r"group 'suite'.*\['gk'\].*\['arith', 'gk'\]"):
        merged(tmp_path, alpha, beta)


def test_comparable_other_model_is_added(tmp_path):
    alpha = alpha_run(tmp_path)
    beta = write_run(
        tmp_path, "beta", run_results("beta", [task_result("gk", 50.0, 40.0), task_result("arith", 70.0, 69.0)])
    )
    assert len(merged(tmp_path, alpha, beta).board.models) == 2


def test_reported_numbers_are_labelled_and_kept_apart(tmp_path):
    # A reproduced group of the same name but other member tasks is not compared with the paper's.
    ours = write_run(tmp_path, "ours", run_results("alpha", [task_result("gk", 60.0, 45.0)], group="voicebench_core5"))
    outcome = merged(tmp_path, REPORTED_FILE, ours)
    reported = next(m for m in outcome.board.models if m.provenance is Provenance.REPORTED)
    group = reported.groups["voicebench_core5"]
    assert (group.text, group.speech, group.gap) == (61.19, 47.89, 13.30)
    assert group.representation.monotonicity_cos == 0.789 and group.representation.consistency == 0.688
    (run,) = reported.runs.values()
    assert run.provenance is Provenance.REPORTED and "2510.12116" in run.url and run.envelope is None


def test_reported_gap_must_be_text_minus_speech(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(REPORTED_FILE.read_text().replace("gap: 13.30", "gap: 12.30"))
    with pytest.raises(ConfigError, match=r"bad.yaml: field 'groups.voicebench_core5': .*not text − speech"):
        read_incoming(bad, tmp_path)


def test_invalid_results_file_names_the_field(tmp_path):
    file = alpha_run(tmp_path)
    raw = json.loads(file.read_text())
    del raw["tasks"]["gk"]["gap"]["ci_low"]
    file.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"results.json: field 'tasks.gk.gap.ci_low'"):
        read_incoming(file, tmp_path)


def test_non_finite_numbers_are_refused(tmp_path):
    file = alpha_run(tmp_path)
    file.write_text(file.read_text().replace('"mcnemar_p": 0.23', '"mcnemar_p": NaN', 1))
    with pytest.raises(ConfigError, match=r"results.json: task '(gk|arith)' holds a NaN"):
        read_incoming(file, tmp_path)
    file = alpha_run(tmp_path, "other")
    file.write_text(file.read_text().replace('"duration_s": 12.5', '"duration_s": Infinity', 1))
    with pytest.raises(ConfigError, match=r"results.json: the envelope holds a NaN"):
        read_incoming(file, tmp_path)


def test_unreadable_finish_time_is_refused(tmp_path):
    file = alpha_run(tmp_path, finished_at="yesterday")
    with pytest.raises(ConfigError, match=r"results.json: envelope.finished_at: 'yesterday' is not an ISO date/time"):
        read_incoming(file, tmp_path)
