"""Each declared reading's paired statistics reach the leaderboard: a reading's own CI, McNemar p, pair table
and n_paired where the run computed them, none where it did not, and boards written before they existed load."""

from __future__ import annotations

import json

import pytest
from scipy.stats import binomtest

from modgap_eval.leaderboard.merge import dump_leaderboard, load_leaderboard
from modgap_eval.paths import REPO_ROOT
from modgap_eval.stats import paired_bootstrap
from tests.leaderboard.reading_board import BOOTSTRAP, GROUP, LL_RUNS, LL_TASK, MCQ_TASK, ll_credits, reading_board

STATS_FIELDS = ("n_paired", "gap_ci", "mcnemar_p", "pairs")


def test_each_reading_carries_its_own_paired_statistics(tmp_path):
    """acc, acc_norm and pmi from the hand credits: the bootstrap of those credits, an exact binomial McNemar
    (scipy) and the pairs counted by hand; the primary's equal the entry's own."""
    board, results = reading_board(tmp_path)
    models = {m.name: m for m in board.models}
    for name in LL_RUNS:
        entry = models[name].tasks[LL_TASK]
        readings = results[name].tasks[LL_TASK].readings
        # the readings' statistics differ on the fixture, so carrying the wrong one would fail
        assert len({r.stats.model_dump_json() for r in readings.values()}) == len(readings) == 3
        for reading, got in entry.readings.items():
            text, speech = ll_credits(name, "text", reading), ll_credits(name, "speech", reading)
            expected = paired_bootstrap(text, speech, iters=BOOTSTRAP["bootstrap_iters"], seed=BOOTSTRAP["seed"])
            assert (got.gap_ci.low, got.gap_ci.high) == pytest.approx((expected.ci_low, expected.ci_high), abs=1e-9)
            assert (got.gap_ci.level, got.gap_ci.bootstrap_iters) == (0.95, BOOTSTRAP["bootstrap_iters"])
            pairs = list(zip(text, speech))
            text_only, speech_only = pairs.count((1, 0)), pairs.count((0, 1))
            assert (got.pairs.both_right, got.pairs.text_only, got.pairs.speech_only, got.pairs.both_wrong) == (
                pairs.count((1, 1)),
                text_only,
                speech_only,
                pairs.count((0, 0)),
            )
            discordant = text_only + speech_only
            mcnemar = binomtest(text_only, discordant, 0.5).pvalue if discordant else 1.0
            assert got.mcnemar_p == pytest.approx(mcnemar, abs=1e-12)
            assert got.n_paired == len(text)
        primary = entry.readings["acc"]
        assert primary.primary and (primary.gap_ci, primary.mcnemar_p, primary.pairs) == (
            entry.gap_ci,
            entry.mcnemar_p,
            entry.pairs,
        )


def test_readings_without_paired_statistics_carry_none(tmp_path):
    """VoiceBench's own reading (an expectation over a random letter) and a group's readings have none."""
    board, _ = reading_board(tmp_path)
    for model in board.models:
        if model.provenance.value == "reported":
            continue
        assert model.tasks[MCQ_TASK].readings["strict"].gap_ci == model.tasks[MCQ_TASK].gap_ci is not None
        for reading in (model.tasks[MCQ_TASK].readings["voicebench"], *model.groups[GROUP].readings.values()):
            assert all(getattr(reading, f) is None for f in STATS_FIELDS)


def test_a_board_written_before_readings_carried_statistics_still_loads(tmp_path):
    """The shipped board with every reading's statistics removed (as boards were written before): it loads
    under the same schema version, its readings without statistics and their numbers unchanged."""
    raw = json.loads((REPO_ROOT / "leaderboard" / "leaderboard.json").read_text(encoding="utf-8"))
    stripped = 0
    for model in raw["models"]:
        for entry in [*model["tasks"].values(), *model["groups"].values()]:
            for reading in entry.get("readings", {}).values():
                stripped += sum(reading.pop(f, None) is not None for f in STATS_FIELDS)
    assert stripped > 0  # the shipped board has readings with statistics, or this would test nothing
    path = tmp_path / "old.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    board = load_leaderboard(path)
    readings = [r for m in board.models for e in [*m.tasks.values(), *m.groups.values()] for r in e.readings.values()]
    assert readings and all(getattr(r, f) is None for r in readings for f in STATS_FIELDS)
    kept = {"text", "speech", "gap", "primary"}
    assert json.loads(dump_leaderboard(board)) == _with_readings(raw, lambda r: {k: r[k] for k in kept} | _none())


def _none() -> dict[str, None]:
    return dict.fromkeys(STATS_FIELDS)


def _with_readings(raw: dict, change) -> dict:
    for model in raw["models"]:
        for entry in [*model["tasks"].values(), *model["groups"].values()]:
            entry["readings"] = {k: change(v) for k, v in entry.get("readings", {}).items()}
    return raw
