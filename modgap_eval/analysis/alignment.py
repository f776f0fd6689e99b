"""Token-level alignment between speech and text states: the alignment path and APS (METHOD.md §4).

``compare_states`` is the one core function: a sample's speech and text states in, a rich
``PairComparison`` out (per-layer pooled similarities, both paths, their scores, monotonicity and
consistency per layer, and every representation metric's single number). All functions are pure
float64 torch (see ``similarity``) and take any leading batch dimensions (usually the layer axis).

A zero state has no cosine: a zero speech frame is no candidate of the cosine path, a zero text
token (or a column with only zero frames) has no cosine path entry, and such columns are left out
of APS^cos, monotonicity^cos and consistency; the zero states are counted (``zero_states``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch

from modgap_eval.analysis.similarity import (
    as_float64,
    cosine,
    euclidean,
    is_zero,
    mean_pool,
    over_blocks,
    token_matrices,
)


def alignment_path(matrix: torch.Tensor, higher_is_better: bool) -> torch.Tensor:
    """Per text column, the speech frame that scores best (METHOD.md §4): ``[..., T_s, T_t] -> [..., T_t]`` (int64).

    ``i*_j = argmax_i A[i, j]`` (cosine, ``higher_is_better``) or ``argmin_i`` (Euclidean); ties take the
    first index; each column on its own (no DTW). NaN entries (no cosine) are never chosen; a column of
    NaN gets frame 0, and ``path_scores`` gives it NaN.
    """
    if matrix.shape[-2] == 0:
        raise ValueError("alignment_path needs at least one speech frame")
    # torch documents argmax/argmin as returning the first of equal extrema.
    if higher_is_better:
        return matrix.nan_to_num(nan=-torch.inf).argmax(dim=-2)
    return matrix.nan_to_num(nan=torch.inf).argmin(dim=-2)


def path_scores(matrix: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
    """``A[i*_j, j]`` for every column: ``[..., T_s, T_t], [..., T_t] -> [..., T_t]``."""
    return matrix.gather(-2, path.unsqueeze(-2)).squeeze(-2)


def spearman_with_position(path: torch.Tensor, defined: torch.Tensor | None = None) -> torch.Tensor:
    """Spearman ρ between text position and the path (METHOD.md §4 monotonicity): ``[..., T_t] -> [...]``.

    Only columns where ``defined`` (default: all) take part; ties get average ranks. ρ is undefined
    (NaN) with fewer than 2 columns or a constant path; callers exclude and count those.
    """
    keep = torch.ones(path.shape, dtype=torch.bool, device=path.device) if defined is None else defined
    weight = keep.to(torch.float64)
    values = path.to(torch.float64)
    pairs = weight.unsqueeze(-1) * weight.unsqueeze(-2)
    less = ((values.unsqueeze(-1) > values.unsqueeze(-2)) * pairs).sum(-1)
    equal = ((values.unsqueeze(-1) == values.unsqueeze(-2)) * pairs).sum(-1)
    ranks = less + (equal + 1.0) / 2.0  # average rank among the kept columns, 1-based
    positions = weight.cumsum(-1)  # rank of each kept column's position
    count = weight.sum(-1, keepdim=True).clamp_min(1.0)
    dr = (ranks - (ranks * weight).sum(-1, keepdim=True) / count) * weight
    dp = (positions - (positions * weight).sum(-1, keepdim=True) / count) * weight
    spread = (dr * dr).sum(-1) * (dp * dp).sum(-1)
    ok = spread > 0
    rho = (dr * dp).sum(-1) / torch.sqrt(torch.where(ok, spread, torch.ones_like(spread)))
    return rho.clamp(-1.0, 1.0).masked_fill(~ok, float("nan"))


def path_agreement(path_a: torch.Tensor, path_b: torch.Tensor, defined: torch.Tensor | None = None) -> torch.Tensor:
    """Share of text tokens whose two paths pick the same frame (METHOD.md §4 consistency): ``-> [...]``;
    over the ``defined`` columns only (default: all), NaN where none is."""
    agree = (path_a == path_b).to(torch.float64)
    return agree.mean(dim=-1) if defined is None else agree.masked_fill(~defined, float("nan")).nanmean(dim=-1)


@dataclass(frozen=True)
class PairComparison:
    """Everything METHOD.md §3–§4 defines for one (speech, text) pair, per layer l = 0..L.

    Tensors are float64 (paths int64) with a leading layer axis of size L + 1; a per-layer figure is
    NaN where it is undefined (no cosine, or a path Spearman cannot rank).
    """

    layer_cos: torch.Tensor
    """[L+1] cos of the mean-pooled states (higher is better)."""
    layer_euc: torch.Tensor
    """[L+1] distance of the mean-pooled states (lower is better)."""
    path_cos: torch.Tensor
    """[L+1, T_t] argmax_i A^cos_l[i, j]."""
    path_euc: torch.Tensor
    """[L+1, T_t] argmin_i A^euc_l[i, j]."""
    path_score_cos: torch.Tensor
    """[L+1, T_t] A^cos_l[i*_j, j]; NaN for a column without a cosine (zero states)."""
    path_score_euc: torch.Tensor
    """[L+1, T_t] A^euc_l[i*_j, j]."""
    monotonicity_cos_by_layer: torch.Tensor
    """[L+1] Spearman of the cosine path with position; NaN for T_t < 2 or a constant path."""
    monotonicity_euc_by_layer: torch.Tensor
    consistency_by_layer: torch.Tensor
    """[L+1] share of tokens where the cosine and Euclidean paths agree (tokens with a cosine path)."""
    zero_states: int = 0
    """Zero-vector states (speech frames and text tokens) in layers 1..L: they have no cosine."""

    @cached_property
    def by_layer(self) -> dict[str, torch.Tensor]:
        """Every metric of ``metrics.REPRESENTATION_METRICS`` per layer, ``[L+1]`` each: Sim = the pooled
        similarity, APS = the mean path score over the columns (METHOD.md §3, §4)."""
        return {
            "sim_cos": self.layer_cos,
            "sim_euc": self.layer_euc,
            "aps_cos": self.path_score_cos.nanmean(dim=-1),
            "aps_euc": self.path_score_euc.mean(dim=-1),
            "monotonicity_cos": self.monotonicity_cos_by_layer,
            "monotonicity_euc": self.monotonicity_euc_by_layer,
            "consistency": self.consistency_by_layer,
        }

    @cached_property
    def values(self) -> dict[str, float | None]:
        """Each metric's single number: the mean over the layers 1..L where it is defined (METHOD.md
        §3–§4; for monotonicity, ours); None when it is defined at none."""
        numbers = {name: float(over_blocks(per_layer)) for name, per_layer in self.by_layer.items()}
        return {name: None if math.isnan(number) else number for name, number in numbers.items()}

    def excluded_layers(self, name: str) -> int:
        """Layers 1..L where metric ``name`` is undefined (monotonicity: T_t < 2 or a constant path)."""
        return int(self.by_layer[name][1:].isnan().sum())


def state_problem(speech: torch.Tensor, text: torch.Tensor) -> str | None:
    """Why speech ``[L+1, T_s, d]`` and text ``[L+1, T_t, d]`` states cannot be compared, or None."""
    if speech.dim() != 3 or text.dim() != 3:
        return f"states must be [L+1, T, d]; got speech {tuple(speech.shape)}, text {tuple(text.shape)}"
    if speech.shape[0] != text.shape[0] or speech.shape[2] != text.shape[2]:
        return f"speech {tuple(speech.shape)} and text {tuple(text.shape)} states differ in layers or width"
    if speech.shape[1] == 0 or text.shape[1] == 0:
        return f"empty content span (speech {speech.shape[1]} positions, text {text.shape[1]} tokens)"
    if speech.shape[0] < 2:
        return "states need layer 0 and at least one decoder block"
    return None


def compare_states(speech: torch.Tensor, text: torch.Tensor, center: torch.Tensor | None = None) -> PairComparison:
    """The core comparison of one sample's states (METHOD.md §3, §4; centering §4b).

    ``speech`` is ``[L+1, T_s, d]``, ``text`` ``[L+1, T_t, d]`` (content spans only). ``center``, if
    given, is ``[L+1, d]``: subtracted from every state first (per-layer mean-centering, METHOD.md §4b;
    it changes cosines, not distances).
    """
    problem = state_problem(speech, text)
    if problem:
        raise ValueError(problem)
    speech, text = as_float64(speech), as_float64(text)
    if center is not None:
        center = as_float64(center).to(speech.device).unsqueeze(-2)
        speech, text = speech - center, text - center
    pooled_speech, pooled_text = mean_pool(speech), mean_pool(text)
    a_cos, a_euc = token_matrices(speech, text)
    path_cos = alignment_path(a_cos, higher_is_better=True)
    path_euc = alignment_path(a_euc, higher_is_better=False)
    score_cos = path_scores(a_cos, path_cos)
    has_cos = ~score_cos.isnan()  # [L+1, T_t]: the column has a cosine path entry
    return PairComparison(
        layer_cos=cosine(pooled_speech, pooled_text),
        layer_euc=euclidean(pooled_speech, pooled_text),
        path_cos=path_cos,
        path_euc=path_euc,
        path_score_cos=score_cos,
        path_score_euc=path_scores(a_euc, path_euc),
        monotonicity_cos_by_layer=spearman_with_position(path_cos, has_cos),
        monotonicity_euc_by_layer=spearman_with_position(path_euc),
        consistency_by_layer=path_agreement(path_cos, path_euc, has_cos),
        zero_states=int(is_zero(speech[1:]).sum() + is_zero(text[1:]).sum()),
    )
