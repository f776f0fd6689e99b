"""Token-level alignment between speech and text states: the alignment path and APS (METHOD.md §4).

``compare_states`` is the one core function: a sample's speech and text states in, a rich
``PairComparison`` out (per-layer pooled similarities, both paths, their scores, monotonicity and
consistency per layer). The thin wrappers (``aps_cos`` ...) give single numbers. All functions are
pure float64 torch (see ``similarity``) and take any leading batch dimensions (usually the layer axis).

A zero state has no cosine: a zero speech frame is no candidate of the cosine path, a zero text
token (or a column with only zero frames) has no cosine path entry, and such columns are left out
of APS^cos, monotonicity^cos and consistency; the zero states are counted (``zero_states``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def spearman_with_position(
    path: torch.Tensor, defined: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spearman ρ between text position and the path (METHOD.md §4 monotonicity): ``[..., T_t] -> ([...], [...])``.

    Only columns where ``defined`` (default: all) take part. Returns ``(rho, ok)``; ties get average
    ranks. ρ is undefined (``ok`` False, ``rho`` 0) with fewer than 2 columns or a constant path;
    callers exclude and count those.
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
    return torch.where(ok, rho.clamp(-1.0, 1.0), torch.zeros_like(rho)), ok


def path_agreement(path_a: torch.Tensor, path_b: torch.Tensor, defined: torch.Tensor | None = None) -> torch.Tensor:
    """Share of text tokens whose two paths pick the same frame (METHOD.md §4 consistency): ``-> [...]``.

    Over the ``defined`` columns only (default: all); NaN where none is.
    """
    agree = (path_a == path_b).to(torch.float64)
    return agree.mean(dim=-1) if defined is None else agree.masked_fill(~defined, float("nan")).nanmean(dim=-1)


@dataclass(frozen=True)
class PairComparison:
    """Everything METHOD.md §3–§4 defines for one (speech, text) pair, per layer l = 0..L.

    Tensors are float64 (paths int64, masks bool) with a leading layer axis of size L + 1. Single
    numbers (Sim, APS, monotonicity, consistency) average layers 1..L, as METHOD.md §3–§4 do; a
    cosine figure is NaN in a layer without any cosine and None when no layer 1..L has one.
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
    """[L+1] Spearman of the cosine path with position (0 where undefined)."""
    monotonicity_cos_defined: torch.Tensor
    """[L+1] bool: T_t ≥ 2 and the cosine path is not constant."""
    monotonicity_euc_by_layer: torch.Tensor
    monotonicity_euc_defined: torch.Tensor
    consistency_by_layer: torch.Tensor
    """[L+1] share of tokens where the cosine and Euclidean paths agree (tokens with a cosine path)."""
    zero_states: int = 0
    """Zero-vector states (speech frames and text tokens) in layers 1..L: they have no cosine."""

    @property
    def num_layers(self) -> int:
        return int(self.layer_cos.shape[0]) - 1

    @property
    def sim_cos(self) -> float | None:
        """Sim^cos = mean_{l=1..L} cos_l (METHOD.md §3). Higher is better."""
        return _defined(over_blocks(self.layer_cos))

    @property
    def sim_euc(self) -> float:
        """Sim^euc = mean_{l=1..L} euc_l (METHOD.md §3). Lower is better."""
        return float(over_blocks(self.layer_euc))

    @property
    def aps_cos_by_layer(self) -> torch.Tensor:
        return self.path_score_cos.nanmean(dim=-1)

    @property
    def aps_euc_by_layer(self) -> torch.Tensor:
        return self.path_score_euc.mean(dim=-1)

    @property
    def aps_cos(self) -> float | None:
        """APS^cos = mean_{l=1..L} mean_j A^cos_l[i*_j, j] (METHOD.md §4). Higher is better."""
        return _defined(over_blocks(self.aps_cos_by_layer))

    @property
    def aps_euc(self) -> float:
        """APS^euc = mean_{l=1..L} mean_j A^euc_l[i*_j, j] on the Euclidean path (METHOD.md §4). Lower is better."""
        return float(over_blocks(self.aps_euc_by_layer))

    @property
    def monotonicity_cos(self) -> float | None:
        """Mean over the layers 1..L where it is defined; None when it is defined at none (ours)."""
        return _mean_defined(self.monotonicity_cos_by_layer[1:], self.monotonicity_cos_defined[1:])

    @property
    def monotonicity_euc(self) -> float | None:
        return _mean_defined(self.monotonicity_euc_by_layer[1:], self.monotonicity_euc_defined[1:])

    @property
    def monotonicity_excluded_layers_cos(self) -> int:
        """Layers 1..L whose cosine path was undefined for Spearman (T_t < 2 or constant)."""
        return int((~self.monotonicity_cos_defined[1:]).sum())

    @property
    def monotonicity_excluded_layers_euc(self) -> int:
        return int((~self.monotonicity_euc_defined[1:]).sum())

    @property
    def consistency(self) -> float | None:
        """Mean over l = 1..L of the share of tokens where both paths agree (METHOD.md §4)."""
        return _defined(over_blocks(self.consistency_by_layer))


def _defined(value: torch.Tensor) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number  # NaN: no layer had a cosine


def _mean_defined(values: torch.Tensor, defined: torch.Tensor) -> float | None:
    count = int(defined.sum())
    return float(values[defined].to(torch.float64).sum() / count) if count else None


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


def check_pair(speech: torch.Tensor, text: torch.Tensor) -> None:
    """Raise ValueError unless the states fit together (``state_problem``)."""
    problem = state_problem(speech, text)
    if problem:
        raise ValueError(problem)


def compare_states(speech: torch.Tensor, text: torch.Tensor, center: torch.Tensor | None = None) -> PairComparison:
    """The core comparison of one sample's states (METHOD.md §3, §4; centering §4b).

    ``speech`` is ``[L+1, T_s, d]``, ``text`` ``[L+1, T_t, d]`` (content spans only). ``center``, if
    given, is ``[L+1, d]``: subtracted from every state first (per-layer mean-centering, METHOD.md §4b;
    it changes cosines, not distances).
    """
    check_pair(speech, text)
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
    mono_cos, mono_cos_ok = spearman_with_position(path_cos, has_cos)
    mono_euc, mono_euc_ok = spearman_with_position(path_euc)
    return PairComparison(
        layer_cos=cosine(pooled_speech, pooled_text),
        layer_euc=euclidean(pooled_speech, pooled_text),
        path_cos=path_cos,
        path_euc=path_euc,
        path_score_cos=score_cos,
        path_score_euc=path_scores(a_euc, path_euc),
        monotonicity_cos_by_layer=mono_cos,
        monotonicity_cos_defined=mono_cos_ok,
        monotonicity_euc_by_layer=mono_euc,
        monotonicity_euc_defined=mono_euc_ok,
        consistency_by_layer=path_agreement(path_cos, path_euc, has_cos),
        zero_states=int(is_zero(speech[1:]).sum() + is_zero(text[1:]).sum()),
    )


def aps_cos(speech: torch.Tensor, text: torch.Tensor) -> float | None:
    """APS^cos of one sample (METHOD.md §4). Higher is better."""
    return compare_states(speech, text).aps_cos


def aps_euc(speech: torch.Tensor, text: torch.Tensor) -> float:
    """APS^euc of one sample (METHOD.md §4). Lower is better."""
    return compare_states(speech, text).aps_euc


def monotonicity(speech: torch.Tensor, text: torch.Tensor) -> tuple[float | None, float | None]:
    """(cosine, Euclidean) path monotonicity of one sample; None where undefined (METHOD.md §4)."""
    result = compare_states(speech, text)
    return result.monotonicity_cos, result.monotonicity_euc


def consistency(speech: torch.Tensor, text: torch.Tensor) -> float | None:
    """Share of tokens where the cosine and Euclidean paths agree, mean over layers 1..L (METHOD.md §4)."""
    return compare_states(speech, text).consistency
