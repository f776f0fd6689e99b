"""Figures of the representation analysis (METHOD.md §3–§6; matplotlib, Agg): each a PNG, its data as JSON beside it.

- ``plot_layer_curves``: per-layer cosine and Euclidean curves with the mismatched baseline (paper Fig. 4).
- ``plot_heatmap``: one sample's token cosine matrix with its alignment paths (Fig. 6).
- ``plot_scatter``: GAP against Sim or APS with the OLS line, R², the slope's p and n (Figs. 5 and 7).
- ``plot_decomposition``: total drop = fine-tuning erosion + modality gap per task (Fig. 2).
- ``plot_path_trend``: path monotonicity and consistency across checkpoints (Fig. 8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from modgap_eval.errors import require


def _pyplot():
    matplotlib = require("matplotlib", "analysis")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, stem: Path, data: Any) -> Path:
    """Write ``stem.png`` and ``stem.json`` (the numbers drawn); returns the PNG path."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    png = stem.with_suffix(".png")
    fig.savefig(png, dpi=120, bbox_inches="tight")
    stem.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    _pyplot().close(fig)
    return png


def plot_layer_curves(series: Sequence[tuple[str, Any]], title: str, stem: Path) -> Path:
    """``series``: (label, RepresentationSummary) per model; matched with ±1 std band, mismatched dashed."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    series_data: list[dict[str, Any]] = []
    data = {"title": title, "series": series_data}
    for index, (label, summary) in enumerate(series):
        colour = f"C{index % 10}"
        entry = {"label": label}
        for ax, name in zip(axes, ("layer_cos", "layer_euc")):
            curve = getattr(summary, name)
            layers = list(range(len(curve.matched.mean)))
            mean, std = curve.matched.mean, curve.matched.std
            ax.plot(layers, mean, color=colour, label=f"{label} matched")
            low, high = [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)]
            ax.fill_between(layers, low, high, color=colour, alpha=0.15)
            ax.plot(layers, curve.mismatched.mean, color=colour, linestyle="--", label=f"{label} mismatched")
            entry[name] = curve.model_dump()
        series_data.append(entry)
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set(title="mean-pooled cosine (higher = closer)", xlabel="layer", ylabel="cos")
    axes[1].set(title="mean-pooled Euclidean distance (lower = closer)", xlabel="layer", ylabel="distance")
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, stem, data)


def plot_heatmap(example: Any, title: str, stem: Path) -> Path:
    """A ``TokenSimilarityExample``: A^cos (rows speech frames, columns text tokens) with both paths."""
    plt = _pyplot()
    rows, cols = len(example.cosine), len(example.text_tokens)
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * cols + 2), max(3, 0.04 * rows + 2)))
    # None (a zero state: no cosine) becomes NaN, which imshow leaves blank
    cosine = [[float("nan") if v is None else v for v in row] for row in example.cosine]
    image = ax.imshow(cosine, aspect="auto", origin="lower", cmap="viridis", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="cosine")
    ax.plot(range(cols), example.path_cos, "o-", color="white", markersize=3, label="cosine path (argmax)")
    ax.plot(range(cols), example.path_euc, "x--", color="red", markersize=4, label="Euclidean path (argmin)")
    ax.set_xticks(range(cols))
    ax.set_xticklabels(example.text_tokens, rotation=90, fontsize=7)
    ax.set(
        xlabel="text token", ylabel="speech frame", title=f"{title}: sample {example.sample_id}, layer {example.layer}"
    )
    ax.legend(fontsize=7, loc="upper left")
    return save(fig, stem, example.model_dump())


def plot_scatter(points: Sequence[Any], fit: Any, xlabel: str, title: str, stem: Path) -> Path:
    """GAP (y) against a similarity (x), one labelled point per results file, OLS line with R², the slope's p
    and n; below ``MIN_POINTS`` points the title says the fit is indicative only."""
    from modgap_eval.analysis.correlation import MIN_POINTS, slope_p_value

    plt = _pyplot()
    p_value = slope_p_value(points)
    if fit.n < MIN_POINTS:
        title = f"{title}\n(n = {fit.n} < {MIN_POINTS}: indicative only; 2 points always give R² = 1)"
    fig, ax = plt.subplots(figsize=(6, 4.5))
    groups = list(dict.fromkeys(p.group for p in points))
    for index, group in enumerate(groups):
        chosen = [p for p in points if p.group == group]
        label = group if len(groups) > 1 else None
        ax.scatter([p.x for p in chosen], [p.y for p in chosen], color=f"C{index % 10}", label=label)
    for p in points:
        ax.annotate(p.label, (p.x, p.y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if fit.slope is not None:
        xs = [min(p.x for p in points), max(p.x for p in points)]
        r2 = "—" if fit.r_squared is None else f"{fit.r_squared:.3f}"
        p = "—" if p_value is None else f"{p_value:.3g}"
        label = f"OLS: R² = {r2}, p = {p}, n = {fit.n}"
        ax.plot(xs, [fit.slope * x + fit.intercept for x in xs], color="black", label=label)
    ax.set(xlabel=xlabel, ylabel="GAP (text − speech, points)", title=title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    data = {"title": title, "x": xlabel, "fit": asdict(fit), "slope_p": p_value, "points": [asdict(p) for p in points]}
    return save(fig, stem, data)


def plot_decomposition(rows: Sequence[Any], title: str, stem: Path) -> Path:
    """Stacked bars per task: fine-tuning erosion and modality gap, summing to the total drop."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(rows) + 2), 4.5))
    names = [r.task for r in rows]
    erosion = [r.erosion for r in rows]
    gap = [r.modality_gap for r in rows]
    ax.bar(names, erosion, color="C1", label="fine-tuning erosion (base text − LSLM text)")
    # the gap bar starts where the erosion bar ends on the gap's side of 0
    bottom = [max(e, 0.0) if g >= 0 else min(e, 0.0) for e, g in zip(erosion, gap)]
    ax.bar(names, gap, bottom=bottom, color="C0", label="modality gap (LSLM text − LSLM speech)")
    ax.scatter(names, [r.total_drop for r in rows], color="black", marker="_", s=400, zorder=3, label="total drop")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(ylabel="points", title=title)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=7)
    return save(fig, stem, {"title": title, "rows": [asdict(r) for r in rows]})


def plot_path_trend(rows: Sequence[Any], title: str, stem: Path) -> Path:
    """Monotonicity (cos, euc) and consistency per checkpoint, in the order given (Fig. 8)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(rows) + 2), 4))
    labels = [r.label for r in rows]
    for key, style in (("monotonicity_cos", "o-"), ("monotonicity_euc", "s-"), ("consistency", "^-")):
        values = [getattr(r, key) for r in rows]
        ax.plot(range(len(rows)), [float("nan") if v is None else v for v in values], style, label=key)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=45, fontsize=7)
    ax.set(ylabel="value", title=title)
    ax.legend(fontsize=7)
    return save(fig, stem, {"title": title, "rows": [asdict(r) for r in rows]})
