"""Every reported gap and representation metric, declared once.

A ``MetricSpec`` names a metric as results files and leaderboard entries spell it, says which way is
better, what it is computed from per sample, how samples are reduced and how its interval is
computed (METHOD.md §1, §3, §4, §4b). The results and leaderboard schemas, the leaderboard entries,
the reported-numbers schema, the summary table, ``correlate`` and the site's columns read these
lists, so a new representation metric is one entry here plus its per-layer computation
(``analysis.alignment.PairComparison.by_layer``).

Plain data: importing this module imports nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PAIRED_BOOTSTRAP = (
    "percentile interval of the statistic over paired bootstrap resamples of sample ids "
    "(one draw for both modalities, seeded; METHOD.md §1)"
)
SAMPLE_STD = "standard deviation over samples per layer; none for the single number"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    """Field name in results files and leaderboard entries."""
    label: str
    """Column label (the site) and short description."""
    higher_is_better: bool
    per_sample: str
    """What one sample contributes (a function or field)."""
    reduction: str
    """How per-sample values become the reported number."""
    ci: str
    """How its interval is computed, or 'none'."""
    family: str = ""
    """Metrics that differ only in ``similarity`` share a family: one site column switches between them."""
    similarity: str | None = None
    """'cos' or 'euc' for a metric defined for both similarities; None otherwise."""
    baselined: bool = False
    """Reported as matched / mismatched / excess over the mismatched-pair chance level (METHOD.md §4b)."""
    reportable: bool = False
    """A publication's value may be entered in a reported-numbers file (unbaselined figures only)."""
    digits: int = 3
    """Decimals shown on the site."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


GAP_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "text",
        "Text",
        True,
        "scorer value on the written item, in [0, 1]",
        "task score (mean × 100 unless the scorer aggregates otherwise); group: mean of task scores",
        "bootstrap standard error (same resamples as the gap)",
        digits=2,
    ),
    MetricSpec(
        "speech",
        "Speech",
        True,
        "scorer value on the spoken item, in [0, 1]",
        "as text",
        "bootstrap standard error (same resamples as the gap)",
        digits=2,
    ),
    MetricSpec(
        "gap",
        "GAP",
        False,
        "text value − speech value of one paired item",
        "text score − speech score over the paired items (points)",
        PAIRED_BOOTSTRAP,
        digits=2,
    ),
)

_SIM_REDUCTION = "mean over samples of the mean over layers 1..L"
REPRESENTATION_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "sim_cos",
        "Sim",
        True,
        "cosine of the mean-pooled speech and text states per layer (METHOD.md §3)",
        _SIM_REDUCTION,
        SAMPLE_STD,
        family="sim",
        similarity="cos",
        baselined=True,
    ),
    MetricSpec(
        "sim_euc",
        "Sim",
        False,
        "distance of the mean-pooled speech and text states per layer (METHOD.md §3)",
        _SIM_REDUCTION,
        SAMPLE_STD,
        family="sim",
        similarity="euc",
        baselined=True,
    ),
    MetricSpec(
        "aps_cos",
        "APS",
        True,
        "mean cosine on the alignment path per layer (METHOD.md §4)",
        _SIM_REDUCTION + "; samples without any cosine left out and counted",
        SAMPLE_STD,
        family="aps",
        similarity="cos",
        baselined=True,
    ),
    MetricSpec(
        "aps_euc",
        "APS",
        False,
        "mean distance on the Euclidean alignment path per layer (METHOD.md §4)",
        _SIM_REDUCTION,
        SAMPLE_STD,
        family="aps",
        similarity="euc",
        baselined=True,
    ),
    MetricSpec(
        "monotonicity_cos",
        "Monotonicity",
        True,
        "Spearman ρ of the cosine path with text position",
        "mean over samples of the mean over defined layers; undefined samples left out and counted",
        "none",
        family="monotonicity",
        similarity="cos",
        reportable=True,
    ),
    MetricSpec(
        "monotonicity_euc",
        "Monotonicity",
        True,
        "Spearman ρ of the Euclidean path with text position",
        "mean over samples of the mean over defined layers; undefined samples left out and counted",
        "none",
        family="monotonicity",
        similarity="euc",
        reportable=True,
    ),
    MetricSpec(
        "consistency",
        "Consistency",
        True,
        "share of text tokens where the cosine and Euclidean paths agree",
        "mean over samples of the mean over layers 1..L",
        "none",
        family="consistency",
        reportable=True,
    ),
)


def baselined_names() -> tuple[str, ...]:
    """Representation metrics reported with a chance baseline (what ``correlate`` can put on x)."""
    return tuple(m.name for m in REPRESENTATION_METRICS if m.baselined)


def reportable_names() -> tuple[str, ...]:
    return tuple(m.name for m in REPRESENTATION_METRICS if m.reportable)
