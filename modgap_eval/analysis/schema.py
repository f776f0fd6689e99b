"""Typed results of the representation analysis (METHOD.md §3, §4, §4b, §6), as stored in results JSON.

Every similarity is reported three ways: on the true pairs (``matched``), on a fixed seeded
derangement of the task's samples (``mismatched``: speech of one item against the text of another)
and the ``excess`` = matched − mismatched (Euclidean: mismatched − matched), so higher is better.
"""

from __future__ import annotations

from typing import Any

from pydantic import create_model

from modgap_eval.metrics import REPRESENTATION_METRICS
from modgap_eval.strict import Strict


class LayerCurve(Strict):
    """One number per layer l = 0..L: the mean over samples and its standard deviation."""

    mean: list[float]
    std: list[float]


class Baselined(Strict):
    """A similarity on true pairs, on mismatched pairs, and the excess of the first over the second."""

    matched: float
    mismatched: float
    excess: float


class BaselinedCurve(Strict):
    matched: LayerCurve
    mismatched: LayerCurve
    excess: list[float]


class SummaryFacts(Strict):
    """A task's representation summary besides its metrics: how the states were taken, the per-layer
    curves and what was left out."""

    n_samples: int
    num_layers: int
    """L: curves have L + 1 entries (layer 0 = decoder input)."""
    layer_convention: str
    """How states were taken (METHOD.md §2), e.g. 'residual stream before final norm (hooks)'."""
    centering: bool
    """Whether per-layer mean-centering was applied before cosine (METHOD.md §4b, optional)."""
    derangement_seed: int
    layer_cos: BaselinedCurve
    layer_euc: BaselinedCurve
    monotonicity_excluded_cos: int
    """Samples whose cosine path had T_t < 2 or was constant in every layer (Spearman undefined)."""
    monotonicity_excluded_euc: int
    monotonicity_excluded_layers_cos: int = 0
    """(sample, layer) pairs, layers 1..L, whose cosine path was undefined for Spearman; a sample's
    monotonicity is the mean over its defined layers and the sample is excluded when none is."""
    monotonicity_excluded_layers_euc: int = 0
    zero_states: int = 0
    """Zero-vector states (speech frames and text tokens, layers 1..L, summed over samples): a zero
    vector has no cosine, so these were left out of the cosine figures."""
    cosine_excluded: int = 0
    """Samples without any cosine on their alignment path (all states zero), left out of APS^cos."""
    derangement: str = ""
    """How mismatched pairs were drawn (METHOD.md §4b)."""
    centering_reference: str = ""
    """What was subtracted when ``centering`` is on."""


def _metric_fields() -> dict[str, Any]:
    """A field per declared metric: baselined ones as ``Baselined``, the others as the mean over the
    samples where defined (None at none) with the same mean on the mismatched pairs beside it."""
    fields: dict[str, Any] = {}
    for m in REPRESENTATION_METRICS:
        if m.baselined:
            fields[m.name] = (Baselined, ...)
        else:
            fields[m.name] = (float | None, ...)
            fields[m.name + "_mismatched"] = (float | None, None)
    return fields


RepresentationSummary = create_model(
    "RepresentationSummary",
    __base__=SummaryFacts,
    __doc__="""A task's representation figures: ``SummaryFacts`` and a field per metric of
    ``metrics.REPRESENTATION_METRICS``, derived from that list.""",
    **_metric_fields(),
)


class InterventionSummary(Strict):
    """Speech accuracy with and without an intervention on the same items (METHOD.md §6)."""

    mode: str
    critical: str
    layers: list[int]
    n: int
    speech_without: float
    speech_with: float
    delta: float
    # Added by the analysis stage (optional, additive):
    selection: str = ""
    """How critical positions were chosen (which path, which layers)."""
    mean_positions: float | None = None
    """Mean number of speech positions rewritten per item."""
    n_changed: int | None = None
    """Items whose score differs with the intervention."""


class TokenSimilarityExample(Strict):
    """One sample's token similarity matrix and alignment paths at one layer (the paper's Fig. 6)."""

    sample_id: str
    layer: int
    text_tokens: list[str]
    cosine: list[list[float | None]]
    """A^cos, rows speech frames, columns text tokens (METHOD.md §4); None where a state is zero (no cosine)."""
    path_cos: list[int]
    path_euc: list[int]
    mismatched: bool = False


class RepresentationExamples(Strict):
    """The file ``representations_<task>.json`` beside results.json: examples for heatmaps."""

    task: str
    examples: list[TokenSimilarityExample]
