"""Correlation of the gap with a representation similarity across models or checkpoints (METHOD.md §5).

One point per results file (a model or a checkpoint): x = Sim or APS (matched, mismatched or the
excess over the mismatched baseline, METHOD.md §4b), y = GAP. ``fit_line`` gives the OLS line with
R², Pearson r and Spearman ρ; undefined quantities (fewer than two distinct x, constant y) are None,
never NaN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from modgap_eval.errors import ConfigError
from modgap_eval.metrics import baselined_names

METRICS = baselined_names()
"""The representation metrics reported with a chance baseline (``metrics.REPRESENTATION_METRICS``)."""
BASELINES = ("matched", "mismatched", "excess")
# Two poolings over the common tasks, always named: macro = plain mean over tasks (each task weighs 1,
# like a group score); micro = pooled over samples (each task weighs its n, like the model card).
OVERALL_MACRO = "overall_macro"
OVERALL_MICRO = "overall_micro"
MIN_POINTS = 5
"""Below this many points a fit is reported with a warning: at n = 2 the line passes through both (R² = 1)."""
ALL_GROUPS = "(all groups)"
Metric = str
"""One of ``METRICS``."""
Baseline = Literal["matched", "mismatched", "excess"]


@dataclass(frozen=True)
class Fit:
    """OLS of y on x (METHOD.md §5). ``slope``/``intercept``/``r_squared`` None when x is constant or n < 2."""

    n: int
    slope: float | None
    intercept: float | None
    r_squared: float | None
    pearson_r: float | None
    spearman_rho: float | None


def fit_line(x: Sequence[float], y: Sequence[float]) -> Fit:
    """Slope, intercept, R², Pearson r (with sign) and Spearman ρ of the OLS fit y ≈ a·x + b (``scipy.stats``)."""
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError("x and y must be 1-D and of equal length")
    n = len(xs)
    if n < 2 or np.ptp(xs) == 0:
        return Fit(n, None, None, None, None, None)
    from scipy import stats  # on first use: importing the package stays light

    line = stats.linregress(xs, ys)
    slope, intercept = float(line.slope), float(line.intercept)
    if np.ptp(ys) == 0:
        return Fit(n, slope, intercept, None, None, None)
    pearson, spearman = float(stats.pearsonr(xs, ys).statistic), float(stats.spearmanr(xs, ys).statistic)
    return Fit(n, slope, intercept, float(line.rvalue**2), pearson, spearman)


@dataclass(frozen=True)
class Point:
    """One results file's (x, y) for one scope (a task, or the overall mean over common tasks)."""

    label: str
    source: str
    group: str
    scope: str
    x: float
    y: float


def similarity_value(summary: Any, metric: Metric, baseline: Baseline) -> float:
    """``summary.<metric>.<baseline>`` from a ``RepresentationSummary``."""
    if metric not in METRICS or baseline not in BASELINES:
        raise ConfigError(f"metric must be one of {METRICS} and baseline one of {BASELINES}")
    return float(getattr(getattr(summary, metric), baseline))


def group_of(results: Any, group_regex: str | None, group_key: str | None) -> str:
    """A point's group: the regex's first group (or whole match) in the model name, or a dotted key's value."""
    if group_regex and group_key:
        raise ConfigError("give --group-regex or --group-key, not both")
    if group_regex:
        try:
            match = re.search(group_regex, results.model.name)
        except re.error as exc:
            raise ConfigError(f"--group-regex {group_regex!r}: {exc}") from exc
        if not match:
            return "other"
        return match.group(1) if match.groups() and match.group(1) is not None else match.group(0)
    if group_key:
        value: Any = results.model_dump()
        for part in group_key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise ConfigError(
                    f"--group-key {group_key!r}: no field {part!r} in the results of {results.model.name!r}"
                )
            value = value[part]
        return str(value)
    return "all"


def collect_points(
    runs: Sequence[tuple[str, Any]],
    metric: Metric,
    baseline: Baseline,
    tasks: Sequence[str] | None = None,
    group_regex: str | None = None,
    group_key: str | None = None,
) -> list[Point]:
    """Points per task (``tasks``, default: every task all runs analysed) and two poolings over those common
    tasks: ``overall_macro`` (the plain mean of x and of GAP, like a group score, METHOD.md §1) and
    ``overall_micro`` (weighted by each task's n: analysed samples for x, paired samples for GAP)."""
    common = _common_tasks(runs, tasks)
    points: list[Point] = []
    for source, results in runs:
        group = group_of(results, group_regex, group_key)
        points.extend(_run_points(source, results, group, common, metric, baseline))
    return points


def _common_tasks(runs: Sequence[tuple[str, Any]], tasks: Sequence[str] | None) -> list[str]:
    analysed = [
        {name for name, task in results.tasks.items() if task.representations is not None} for _, results in runs
    ]
    if tasks:
        missing = [(source, t) for (source, _), names in zip(runs, analysed) for t in tasks if t not in names]
        if missing:
            raise ConfigError(f"no representation results for task {missing[0][1]!r} in {missing[0][0]}")
        return list(tasks)
    common = sorted(set.intersection(*analysed)) if analysed else []
    if not common:
        raise ConfigError(no_common_task_message(runs, analysed))
    return common


def _run_points(
    source: str, results: Any, group: str, common: Sequence[str], metric: Metric, baseline: Baseline
) -> list[Point]:
    """One run's point per common task, then its macro and micro poolings over them."""
    label = results.model.name
    points, x_weights, y_weights = [], [], []
    for name in common:
        task = results.tasks[name]
        x, y = similarity_value(task.representations, metric, baseline), float(task.gap.gap)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ConfigError(
                f"{source}: task {name!r} has an undefined GAP or {metric} (no paired samples?);"
                " leave it out with --task"
            )
        points.append(Point(label, source, group, name, x, y))
        x_weights.append(task.representations.n_samples)
        y_weights.append(task.gap.n_paired)
    xs, ys = [p.x for p in points], [p.y for p in points]
    macro = Point(label, source, group, OVERALL_MACRO, float(np.mean(xs)), float(np.mean(ys)))
    micro_x, micro_y = float(np.average(xs, weights=x_weights)), float(np.average(ys, weights=y_weights))
    return [*points, macro, Point(label, source, group, OVERALL_MICRO, micro_x, micro_y)]


@dataclass(frozen=True)
class GroupFit:
    scope: str
    group: str
    fit: Fit
    points: tuple[Point, ...]


def fit_groups(points: Sequence[Point]) -> list[GroupFit]:
    """One fit per (scope, group), and one over every group of a scope when there are several."""
    out = []
    for scope in dict.fromkeys(p.scope for p in points):
        in_scope = tuple(p for p in points if p.scope == scope)
        groups = [(g, tuple(p for p in in_scope if p.group == g)) for g in dict.fromkeys(p.group for p in in_scope)]
        for group, chosen in groups + ([(ALL_GROUPS, in_scope)] if len(groups) > 1 else []):
            out.append(GroupFit(scope, group, fit_line([p.x for p in chosen], [p.y for p in chosen]), chosen))
    return out


def no_common_task_message(runs: Sequence[tuple[str, Any]], analysed: Sequence[set[str]]) -> str:
    """Why no task is common: each file's analysed tasks, so a run of other tasks is named, not blamed on
    a missing ``--representations on``."""
    if not any(analysed):
        return "no results file holds representation results (run with --representations on)"
    every = set.union(*analysed)
    parts = []
    for (source, results), names in zip(runs, analysed):
        if not names:
            parts.append(f"{source} ({results.model.name}): no representation results (run with --representations on)")
        elif names != every:
            parts.append(f"{source} ({results.model.name}): {', '.join(sorted(names))}")
    return (
        "the results files share no analysed task; "
        + "; ".join(parts)
        + " (pass runs of the same tasks, or choose them with --task)"
    )


def slope_p_value(points: Sequence[Point]) -> float | None:
    """Two-sided p of the OLS slope (t-test, n − 2 degrees of freedom); None below 3 points or for a constant x."""
    from scipy import stats

    xs = np.asarray([p.x for p in points], dtype=np.float64)
    ys = np.asarray([p.y for p in points], dtype=np.float64)
    if len(xs) < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    return float(stats.linregress(xs, ys).pvalue)


def few_points_warning(fits: Sequence[GroupFit]) -> str | None:
    """One line naming the fits on fewer than ``MIN_POINTS`` points, or None."""
    small = [f"{f.scope}/{f.group} (n = {f.fit.n})" for f in fits if f.fit.n < MIN_POINTS]
    if not small:
        return None
    return (
        f"warning: {len(small)} fit(s) on fewer than {MIN_POINTS} points say little (2 points always give R² = 1; "
        f"see p): {', '.join(small[:6])}{' ...' if len(small) > 6 else ''}"
    )
