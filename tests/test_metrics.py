"""The declared metrics (modgap_eval/metrics.py) are what the analysis, the leaderboard and the site use."""

from __future__ import annotations

import json
import re

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))


from modgap_eval.analysis.alignment import compare_states
from modgap_eval.analysis.schema import Baselined, RepresentationSummary
from modgap_eval.analysis.stage import analyse_states
from modgap_eval.leaderboard.entries import _representation
from modgap_eval.leaderboard.schema import (
    Leaderboard,
    ReportedScores,
    RepresentationEntry,
)
from modgap_eval.leaderboard.site import render_index
from modgap_eval.metrics import (
    GAP_METRICS,
    REPRESENTATION_METRICS,
    baselined_names,
    metric,
    reportable_names,
)


def test_declarations_are_complete_and_unique():
    names = [m.name for m in GAP_METRICS + REPRESENTATION_METRICS]
    assert len(names) == len(set(names))
    assert metric("aps_euc").higher_is_better is False and metric("aps_cos").higher_is_better is True
    assert baselined_names() == ("sim_cos", "sim_euc", "aps_cos", "aps_euc")
    assert set(reportable_names()) == {"monotonicity_cos", "monotonicity_euc", "consistency"}
    for m in REPRESENTATION_METRICS:
        assert m.name in RepresentationSummary.model_fields
        assert m.name in RepresentationEntry.model_fields
        assert (m.name in ReportedScores.model_fields) == m.reportable
        assert m.family and m.ci and m.reduction and m.per_sample


def test_analysis_and_leaderboard_carry_every_declared_metric():
    g = torch.Generator().manual_seed(0)
    speech = [torch.randn(3, 5, 4, generator=g) for _ in range(3)]
    text = [torch.randn(3, 4, 4, generator=g) for _ in range(3)]
    result = analyse_states(speech, text)
    entry = _representation(result.summary)
    first = compare_states(speech[0], text[0])
    for m in REPRESENTATION_METRICS:
        summary_value, entry_value = getattr(result.summary, m.name), getattr(entry, m.name)
        assert summary_value == entry_value
        assert isinstance(summary_value, Baselined) == m.baselined
        # the per-sample log holds the pair's own value (sample "0" is compared with its own text)
        assert result.per_sample["0"][m.name] == getattr(first, m.name)


def test_site_embeds_the_declarations():
    html = render_index(Leaderboard())
    embedded = re.search(r'<script id="metrics-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(embedded)
    assert [m["name"] for m in data["representation"]] == [m.name for m in REPRESENTATION_METRICS]
    assert [m["name"] for m in data["gap"]] == [m.name for m in GAP_METRICS]
