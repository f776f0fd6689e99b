"""The gap and APS as Hugging Face ``evaluate`` modules, loaded offline by path."""

from __future__ import annotations

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

import torch

from modgap_eval.evaluate_modules import ALIGNMENT_PATH_SCORE, MODALITY_GAP

from . import loop_reference as ref

evaluate = pytest.importorskip("evaluate", reason=extra("evaluate", "analysis"))


def test_modality_gap_module():
    metric = evaluate.load(str(MODALITY_GAP))
    out = metric.compute(text_scores=[1, 1, 0, 1, 1, 0], speech_scores=[1, 0, 0, 0, 1, 1], bootstrap_iters=200, seed=3)
    assert (out["text"], out["speech"]) == (pytest.approx(400 / 6), pytest.approx(300 / 6))
    assert out["gap"] == pytest.approx(100 / 6) and out["relative_gap"] == pytest.approx(0.25)
    assert (out["both_right"], out["text_only"], out["speech_only"], out["both_wrong"]) == (2, 2, 1, 1)
    assert out["mcnemar_p"] == pytest.approx(1.0)  # 2 vs 1 discordant: two-sided exact p = 1
    assert out["ci_low"] <= out["gap"] <= out["ci_high"]
    with pytest.raises(ValueError):
        metric.compute(text_scores=[2.0], speech_scores=[0.0])


def test_alignment_path_score_module():
    g = torch.Generator().manual_seed(0)
    speech = [torch.randn(3, n, 6, generator=g) for n in (5, 2, 7)]
    text = [torch.randn(3, n, 6, generator=g) for n in (3, 4, 1)]
    metric = evaluate.load(str(ALIGNMENT_PATH_SCORE))
    out = metric.compute(speech_states=[s.tolist() for s in speech], text_states=[t.tolist() for t in text], seed=1)
    want = [ref.compare(ref.to_lists(s), ref.to_lists(t)) for s, t in zip(speech, text)]
    assert out["n"] == 3
    assert out["aps_cos"] == pytest.approx(sum(w["APS_cos"] for w in want) / 3, abs=1e-5)
    assert out["aps_euc"] == pytest.approx(sum(w["APS_euc"] for w in want) / 3, abs=1e-5)
    assert out["sim_cos"] == pytest.approx(sum(w["sim_cos"] for w in want) / 3, abs=1e-5)
    assert out["aps_cos_excess"] == pytest.approx(out["aps_cos"] - out["aps_cos_mismatched"])
    assert out["monotonicity_excluded_cos"] == sum(w["monotonicity_cos"] is None for w in want) >= 1
