"""OLS/Pearson/Spearman against scipy, and ``modgap-eval correlate`` on results files (METHOD.md §5)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))  # the runs analysed here have representations
from scipy import stats

from modgap_eval.analysis.correlation import collect_points, fit_groups, fit_line
from modgap_eval.cli import main
from modgap_eval.results import read_results

from .runs import real_dummy_run, variant


@pytest.mark.parametrize("seed", range(6))
def test_fit_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    n = 3 + seed * 3
    x = rng.normal(size=n)
    y = 2.5 * x - 1.0 + rng.normal(size=n)
    if seed % 2:
        x = np.round(x, 0)  # ties for Spearman
    fit = fit_line(x, y)
    line = stats.linregress(x, y)
    assert fit.n == n
    assert fit.slope == pytest.approx(line.slope) and fit.intercept == pytest.approx(line.intercept)
    assert fit.r_squared == pytest.approx(line.rvalue**2)
    assert fit.pearson_r == pytest.approx(stats.pearsonr(x, y).statistic)
    assert fit.spearman_rho == pytest.approx(stats.spearmanr(x, y).statistic)


def test_fit_by_hand_and_undefined_cases():
    fit = fit_line([0.0, 1.0, 2.0], [1.0, 3.0, 5.0])
    assert (fit.slope, fit.intercept, fit.r_squared, fit.pearson_r, fit.spearman_rho) == pytest.approx(
        (2.0, 1.0, 1.0, 1.0, 1.0)
    )
    falling = fit_line([1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 1.0, 0.0])
    assert falling.pearson_r < 0 and falling.spearman_rho == pytest.approx(-1.0)
    assert fit_line([1.0], [2.0]) == type(fit)(1, None, None, None, None, None)
    constant_x = fit_line([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert constant_x.slope is None and constant_x.pearson_r is None
    constant_y = fit_line([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    assert constant_y.slope == 0.0 and constant_y.r_squared is None and constant_y.pearson_r is None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("correlate")
    base = read_results(real_dummy_run(root))
    numbers = [  # (model, aps_cos, gap on arith; arith_open gets aps+0.1 and gap+5)
        ("qwen-ckpt1", 0.30, 20.0),
        ("qwen-ckpt2", 0.40, 15.0),
        ("qwen-ckpt3", 0.55, 9.0),
        ("llama-ckpt1", 0.20, 30.0),
        ("llama-ckpt2", 0.35, 22.0),
    ]
    paths = [
        variant(base, root, name, {"arith": {"aps_cos": a, "gap": g}, "arith_open": {"aps_cos": a + 0.1, "gap": g + 5}})
        for name, a, g in numbers
    ]
    return paths, numbers


def test_points_and_groups(runs):
    paths, numbers = runs
    loaded = [(str(p), read_results(p)) for p in paths]
    points = collect_points(loaded, "aps_cos", "matched", group_regex=r"^(qwen|llama)")
    arith = [p for p in points if p.scope == "arith"]
    assert [(p.x, p.y) for p in arith] == [(a, g) for _, a, g in numbers]
    overall = [p for p in points if p.scope == "overall_macro"]
    assert [p.x for p in overall] == pytest.approx([a + 0.05 for _, a, _ in numbers])
    fits = {(f.scope, f.group): f.fit for f in fit_groups(points)}
    qwen = stats.linregress([0.30, 0.40, 0.55], [20.0, 15.0, 9.0])
    assert fits[("arith", "qwen")].slope == pytest.approx(qwen.slope)
    assert fits[("arith", "llama")].n == 2 and fits[("arith", "(all groups)")].n == 5


def test_correlate_command(runs, tmp_path, capsys):
    paths, numbers = runs
    out = tmp_path / "fit.json"
    rc = main(
        [
            "correlate",
            *map(str, paths),
            "--metric",
            "aps_cos",
            "--baseline",
            "matched",
            "--scope",
            "arith",
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "arith" in printed and "R2" in printed
    payload = json.loads(out.read_text())
    (fit,) = payload["fits"]
    line = stats.linregress([a for _, a, _ in numbers], [g for _, _, g in numbers])
    assert fit["r_squared"] == pytest.approx(line.rvalue**2) and fit["n"] == 5
    assert len(payload["points"]) == 5


def test_correlate_errors(runs):
    paths, _ = runs
    assert main(["correlate", str(paths[0]), "--task", "nope"]) == 2
    assert main(["correlate", str(paths[0]), "--group-regex", "("]) == 2
