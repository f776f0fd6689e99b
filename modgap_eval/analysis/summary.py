"""Per-sample figures in, a task's summary figures out: the reduction step of the representation stage.

Every declared metric (``metrics.REPRESENTATION_METRICS``) is reduced here: baselined ones to
matched / mismatched / excess (METHOD.md §4b), the others to the mean over the samples where they
are defined, with ``<name>_mismatched`` beside them. Means are float64 in the caller's sample order,
so the result does not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from modgap_eval.analysis.alignment import PairComparison
from modgap_eval.analysis.schema import Baselined, BaselinedCurve, LayerCurve
from modgap_eval.errors import DataError
from modgap_eval.metrics import REPRESENTATION_METRICS


@dataclass(frozen=True)
class Figures:
    """One comparison reduced to what the summary and the sample log need (no tensors of size [L, T, d])."""

    layer_cos: np.ndarray
    """NaN in a layer where a pooled state is a zero vector (no cosine)."""
    layer_euc: np.ndarray
    values: Mapping[str, float | None]
    """Every declared representation metric, in declaration order; None where undefined."""
    counts: Mapping[str, int]
    """Excluded layers and zero states, named as the summary's fields that sum them."""

    @staticmethod
    def of(result: PairComparison) -> Figures:
        values = result.values
        return Figures(
            layer_cos=result.layer_cos.numpy(),
            layer_euc=result.layer_euc.numpy(),
            values={m.name: values[m.name] for m in REPRESENTATION_METRICS},
            counts={
                "monotonicity_excluded_layers_cos": result.excluded_layers("monotonicity_cos"),
                "monotonicity_excluded_layers_euc": result.excluded_layers("monotonicity_euc"),
                "zero_states": result.zero_states,
            },
        )

    def as_record(self, suffix: str = "") -> dict[str, float]:
        record = {**self.values, **{key: float(count) for key, count in self.counts.items()}}
        # an undefined figure is absent, never NaN
        return {key + suffix: value for key, value in record.items() if value is not None}


def summarise(matched: Sequence[Figures], mismatched: Sequence[Figures]) -> dict[str, object]:
    """The summary's figure fields: curves, every declared metric and the exclusion counts."""
    figures: dict[str, object] = {
        "layer_cos": _baselined_curve(matched, mismatched, "layer_cos", lower_is_better=False),
        "layer_euc": _baselined_curve(matched, mismatched, "layer_euc", lower_is_better=True),
    }
    for m in REPRESENTATION_METRICS:
        if m.baselined:
            figures[m.name] = _baselined(matched, mismatched, m.name, lower_is_better=not m.higher_is_better)
        else:
            figures[m.name] = _defined_mean([r.values[m.name] for r in matched])
            figures[m.name + "_mismatched"] = _defined_mean([r.values[m.name] for r in mismatched])
    for key in matched[0].counts:
        figures[key] = sum(r.counts[key] for r in matched)
    return {
        **figures,
        "monotonicity_excluded_cos": sum(r.values["monotonicity_cos"] is None for r in matched),
        "monotonicity_excluded_euc": sum(r.values["monotonicity_euc"] is None for r in matched),
        "cosine_excluded": sum(r.values["aps_cos"] is None for r in matched),
    }


def _curve(rows: Sequence[Figures], attribute: str) -> LayerCurve:
    values = np.stack([getattr(r, attribute) for r in rows])
    if np.isnan(values).all(axis=0).any():
        raise DataError(f"{attribute}: a layer where every sample's pooled state is a zero vector has no cosine")
    return LayerCurve(mean=np.nanmean(values, axis=0).tolist(), std=np.nanstd(values, axis=0).tolist())


def _defined_mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values (float64, in the given order); None when none is defined."""
    kept = [v for v in values if v is not None]
    return float(np.mean(np.asarray(kept, dtype=np.float64))) if kept else None


def _mean(values: Sequence[float | None], what: str) -> float:
    mean = _defined_mean(values)
    if mean is None:
        raise DataError(f"{what}: no sample has a cosine (every state a zero vector)")
    return mean


def _baselined(
    matched: Sequence[Figures], mismatched: Sequence[Figures], name: str, lower_is_better: bool
) -> Baselined:
    m = _mean([r.values[name] for r in matched], name)
    x = _mean([r.values[name] for r in mismatched], name + " (mismatched)")
    return Baselined(matched=m, mismatched=x, excess=(x - m) if lower_is_better else (m - x))


def _baselined_curve(
    matched: Sequence[Figures], mismatched: Sequence[Figures], attribute: str, lower_is_better: bool
) -> BaselinedCurve:
    m, x = _curve(matched, attribute), _curve(mismatched, attribute)
    sign = -1.0 if lower_is_better else 1.0
    return BaselinedCurve(matched=m, mismatched=x, excess=[sign * (a - b) for a, b in zip(m.mean, x.mean)])
