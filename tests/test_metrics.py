"""The declared metrics (modgap_eval/metrics.py) are what the analysis, the leaderboard and the site use."""

from __future__ import annotations

import json
import re

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))


from modgap_eval.analysis.alignment import compare_states
from modgap_eval.analysis.schema import Baselined, RepresentationSummary, SummaryFacts
from modgap_eval.analysis.stage import analyse_states
from modgap_eval.leaderboard.entries import _representation
from modgap_eval.leaderboard.schema import (
    Leaderboard,
    ReportedScores,
    RepresentationEntry,
)
from modgap_eval.leaderboard.site import render_index
from modgap_eval.metrics import GAP_METRICS, REPRESENTATION_METRICS, baselined_names, reportable_names
from modgap_eval.report import summary_table
from tests.leaderboard.builders import representation, run_results, task_result


def test_declarations_are_complete_and_unique():
    names = [m.name for m in GAP_METRICS + REPRESENTATION_METRICS]
    assert len(names) == len(set(names))
    spec = {m.name: m for m in REPRESENTATION_METRICS}
    assert spec["aps_euc"].higher_is_better is False and spec["aps_cos"].higher_is_better is True
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
        assert result.per_sample["0"][m.name] == first.values[m.name]


def test_every_metric_field_is_declared_and_every_declaration_is_computed():
    """A metric computed, stored or summarised but not declared in ``metrics`` fails here, and so does a
    declared one that the comparison does not compute (the summary schema is derived from the list)."""
    declared = [m.name for m in REPRESENTATION_METRICS]
    g = torch.Generator().manual_seed(1)
    assert list(compare_states(torch.randn(3, 4, 5, generator=g), torch.randn(3, 2, 5, generator=g)).values) == declared
    # the facts are not metrics: a figure added here instead of to ``metrics`` fails this line
    assert set(SummaryFacts.model_fields) == {
        *("n_samples", "num_layers", "layer_convention", "centering", "derangement_seed", "derangement"),
        *("centering_reference", "layer_cos", "layer_euc", "zero_states", "cosine_excluded"),
        *(f"monotonicity_excluded_{part}" for part in ("cos", "euc", "layers_cos", "layers_euc")),
    }
    metric_fields = set(RepresentationSummary.model_fields) - set(SummaryFacts.model_fields)
    unbaselined = [m.name + "_mismatched" for m in REPRESENTATION_METRICS if not m.baselined]
    assert metric_fields == set(declared + unbaselined)


def test_summary_table_prints_every_baselined_metric():
    rep = representation(0.1)
    table = summary_table(run_results("m", [task_result("arith", 80.0, 60.0, rep=rep)], group=None))
    lines = [line.strip() for line in table.splitlines() if "excess" in line]
    assert [line.split()[0] for line in lines] == list(baselined_names())
    assert "aps_cos matched 0.600, mismatched 0.420, excess +0.180" in lines
    assert "sim_euc matched 7.000, mismatched 7.500, excess +0.500" in lines


def test_site_embeds_the_declarations():
    html = render_index(Leaderboard())
    embedded = re.search(r'<script id="metrics-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(embedded)
    assert [m["name"] for m in data["representation"]] == [m.name for m in REPRESENTATION_METRICS]
    assert [m["name"] for m in data["gap"]] == [m.name for m in GAP_METRICS]
