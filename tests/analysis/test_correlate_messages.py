"""What correlate and plot tell a user: which runs do not overlap, the macro and micro poolings, the
slope's p, a warning below MIN_POINTS points, and plot files named by model."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from modgap_eval.analysis.correlation import (
    MIN_POINTS,
    OVERALL_MACRO,
    OVERALL_MICRO,
    Point,
    collect_points,
    few_points_warning,
    fit_groups,
    slope_p_value,
)
from modgap_eval.commands.plot import file_names
from modgap_eval.errors import ConfigError
from tests.extras import extra


def fake_run(model: str, tasks: dict[str, tuple[float, float, int, int] | None]):
    """Results with, per task, (aps_cos matched, gap, analysed samples, paired samples); None: not analysed."""
    built = {}
    for name, numbers in tasks.items():
        if numbers is None:
            built[name] = SimpleNamespace(representations=None, gap=SimpleNamespace(gap=1.0, n_paired=4))
            continue
        aps, gap, n_rep, n_paired = numbers
        rep = SimpleNamespace(aps_cos=SimpleNamespace(matched=aps), n_samples=n_rep)
        built[name] = SimpleNamespace(representations=rep, gap=SimpleNamespace(gap=gap, n_paired=n_paired))
    return SimpleNamespace(model=SimpleNamespace(name=model), tasks=built)


def test_overall_is_pooled_both_ways_and_named():
    runs = [
        ("r1", fake_run("m1", {"a": (0.2, 10.0, 10, 10), "b": (0.6, 30.0, 30, 30)})),
        ("r2", fake_run("m2", {"a": (0.4, 20.0, 10, 10), "b": (0.8, 0.0, 30, 30)})),
    ]
    points = {(p.label, p.scope): p for p in collect_points(runs, "aps_cos", "matched")}
    macro, micro = points[("m1", OVERALL_MACRO)], points[("m1", OVERALL_MICRO)]
    assert (macro.x, macro.y) == pytest.approx((0.4, 20.0))  # each task weighs 1
    assert (micro.x, micro.y) == pytest.approx(((0.2 * 10 + 0.6 * 30) / 40, (10.0 * 10 + 30.0 * 30) / 40))  # by n
    assert {p.scope for p in points.values()} == {"a", "b", OVERALL_MACRO, OVERALL_MICRO}


def test_runs_of_other_tasks_are_named_not_blamed_on_representations():
    runs = [
        ("results/quick/run1", fake_run("dummy", {"example_arithmetic_mc": (0.2, 10.0, 12, 12)})),
        ("results/main/run2", fake_run("reference", {"generated_arithmetic": (0.3, 5.0, 40, 40)})),
        ("results/off/run3", fake_run("cascade", {"generated_arithmetic": None})),
    ]
    with pytest.raises(ConfigError) as caught:
        collect_points(runs, "aps_cos", "matched")
    message = str(caught.value)
    assert "share no analysed task" in message
    assert "results/quick/run1 (dummy): example_arithmetic_mc" in message
    assert "results/main/run2 (reference): generated_arithmetic" in message
    assert "results/off/run3 (cascade): no representation results (run with --representations on)" in message
    nothing = [("r", fake_run("m", {"a": None}))]
    with pytest.raises(ConfigError, match="no results file holds representation results"):
        collect_points(nothing, "aps_cos", "matched")


def test_slope_p_matches_the_pearson_test_and_is_absent_below_three_points():
    xs, ys = [0.1, 0.25, 0.3, 0.5, 0.55, 0.7], [30.0, 22.0, 25.0, 14.0, 15.0, 6.0]
    points = [Point(f"m{i}", "s", "all", "t", x, y) for i, (x, y) in enumerate(zip(xs, ys))]
    # The slope's t-test and Pearson's r test are the same test: an independent reference.
    assert slope_p_value(points) == pytest.approx(stats.pearsonr(xs, ys).pvalue, rel=1e-9)
    assert slope_p_value(points[:2]) is None
    assert slope_p_value([Point("a", "s", "all", "t", 0.1, y) for y in (1.0, 2.0, 3.0)]) is None  # constant x


def test_few_points_warn_naming_the_fits():
    points = [
        Point(f"m{i}", "s", "all", scope, float(i), float(i * i)) for scope in ("t", OVERALL_MACRO) for i in range(2)
    ]
    fits = fit_groups(points)
    assert all(f.fit.n == 2 and f.fit.r_squared == pytest.approx(1.0) for f in fits)  # the trap being warned of
    warning = few_points_warning(fits)
    assert warning is not None and f"fewer than {MIN_POINTS} points" in warning
    assert "t/all (n = 2)" in warning and f"{OVERALL_MACRO}/all (n = 2)" in warning
    many = [Point(f"m{i}", "s", "all", "t", float(i), float(np.sin(i))) for i in range(MIN_POINTS)]
    assert few_points_warning(fit_groups(many)) is None


def test_plot_files_are_named_by_model_and_run_folder_only_when_models_repeat(tmp_path):
    run = lambda model: SimpleNamespace(model=SimpleNamespace(name=model))  # noqa: E731
    runs = [
        (tmp_path / "a" / "20260101T1", run("qwen2-audio")),
        (tmp_path / "b" / "results.json", run("reference")),
        (tmp_path / "c" / "20260101T2", run("reference")),
        (tmp_path / "d", run("org/model name")),
    ]
    for path, _ in runs:
        if path.suffix != ".json":
            path.mkdir(parents=True)
    assert file_names(runs) == ["qwen2-audio", "reference_b", "reference_20260101T2", "org-model-name"]


def test_correlate_and_plot_with_two_runs_warn_and_report_p(tmp_path, capsys):
    pytest.importorskip("torch", reason=extra("torch", "models"))
    from modgap_eval.cli import main
    from modgap_eval.results import read_results
    from tests.analysis.runs import real_dummy_run, variant

    base = read_results(real_dummy_run(tmp_path / "base"))
    paths = [
        variant(base, tmp_path, name, {"arith": {"aps_cos": a, "gap": g}, "arith_open": {"aps_cos": a, "gap": g}})
        for name, a, g in (("m1", 0.3, 20.0), ("m2", 0.5, 10.0))
    ]
    capsys.readouterr()
    assert main(["correlate", *map(str, paths), "--baseline", "matched"]) == 0
    captured = capsys.readouterr()
    assert f"fewer than {MIN_POINTS} points" in captured.err and "arith/all (n = 2)" in captured.err
    header = captured.out.splitlines()[1].split()
    assert header[:7] == ["scope", "group", "n", "slope", "intercept", "R2", "p"]
    assert OVERALL_MACRO in captured.out and OVERALL_MICRO in captured.out
    pytest.importorskip("matplotlib", reason=extra("matplotlib", "analysis"))
    out = tmp_path / "plots"
    assert main(["plot", *map(str, paths), "--out", str(out), "--baseline", "matched"]) == 0
    data = json.loads((out / f"gap_vs_aps_cos_matched_{OVERALL_MICRO}.json").read_text())
    assert "indicative only" in data["title"] and data["slope_p"] is None and data["fit"]["n"] == 2
