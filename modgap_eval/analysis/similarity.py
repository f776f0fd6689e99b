"""Sequence- and token-level similarity between speech and text hidden states (METHOD.md §3, §4).

Pure float32 torch functions; every one accepts arbitrary leading (batch) dimensions, typically the
layer axis. Zero vectors are defined, never NaN: the cosine of anything with a zero vector is 0.

Direction of goodness: cosine, higher = more similar; Euclidean distance, lower = more similar.
"""

from __future__ import annotations

import torch


def as_float32(states: torch.Tensor) -> torch.Tensor:
    """States as float32 on their device (METHOD.md §2: compute in float32)."""
    return states if states.dtype == torch.float32 else states.to(torch.float32)


def mean_pool(states: torch.Tensor) -> torch.Tensor:
    """Mean over the token axis of the content span (METHOD.md §3): ``[..., T, d] -> [..., d]``."""
    if states.shape[-2] == 0:
        raise ValueError("mean_pool needs at least one position in the content span")
    return as_float32(states).mean(dim=-2)


def unit(vectors: torch.Tensor) -> torch.Tensor:
    """``[..., d]`` scaled to unit norm; zero vectors stay zero (so their cosines are 0)."""
    vectors = as_float32(vectors)
    norm = torch.linalg.vector_norm(vectors, dim=-1, keepdim=True)
    return vectors / torch.where(norm > 0, norm, torch.ones_like(norm))


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine of paired vectors ``[..., d] x [..., d] -> [...]``, in [-1, 1]; 0 if either is zero. Higher is better."""
    return (unit(a) * unit(b)).sum(dim=-1).clamp(-1.0, 1.0)


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of paired vectors ``[..., d] x [..., d] -> [...]``. Lower is better."""
    return torch.linalg.vector_norm(as_float32(a) - as_float32(b), dim=-1)


def layer_cosine(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """``cos_l = cos(mean_i h^s_{l,i}, mean_j h^t_{l,j})`` (METHOD.md §3): ``[L+1, T_s, d], [L+1, T_t, d] -> [L+1]``."""
    return cosine(mean_pool(speech), mean_pool(text))


def layer_euclidean(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """``euc_l = ||mean_i h^s_{l,i} − mean_j h^t_{l,j}||_2`` (METHOD.md §3): ``-> [L+1]``."""
    return euclidean(mean_pool(speech), mean_pool(text))


def over_blocks(per_layer: torch.Tensor) -> torch.Tensor:
    """Mean over layers l = 1..L of a ``[..., L+1]`` per-layer quantity (METHOD.md §3: layer 0 excluded)."""
    if per_layer.shape[-1] < 2:
        raise ValueError("Sim and APS average layers 1..L: the states need at least one decoder block")
    return per_layer[..., 1:].mean(dim=-1)


def sim_cos(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """Sim^cos = mean_{l=1..L} cos_l for one sample (METHOD.md §3). Higher is better."""
    return over_blocks(layer_cosine(speech, text))


def sim_euc(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """Sim^euc = mean_{l=1..L} euc_l for one sample (METHOD.md §3). Lower is better."""
    return over_blocks(layer_euclidean(speech, text))


def token_cosine(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """A^cos[i, j] = cos(h^s_i, h^t_j) (METHOD.md §4): ``[..., T_s, d], [..., T_t, d] -> [..., T_s, T_t]``.

    Rows are speech frames, columns text tokens; 0 where either state is a zero vector. Computed as
    dot products over the outer product of norms (no normalised copy of the states).
    """
    speech, text = as_float32(speech), as_float32(text)
    dots = speech @ text.transpose(-1, -2)
    norms = torch.linalg.vector_norm(speech, dim=-1).unsqueeze(-1) * torch.linalg.vector_norm(text, dim=-1).unsqueeze(-2)
    nonzero = norms > 0
    return torch.where(nonzero, dots / torch.where(nonzero, norms, torch.ones_like(norms)), torch.zeros_like(dots)).clamp(-1.0, 1.0)


def token_euclidean(speech: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """A^euc[i, j] = ||h^s_i − h^t_j||_2 (METHOD.md §4): ``-> [..., T_s, T_t]``.

    Computed as ``sqrt(|a|² + |b|² − 2 a·b)`` (one matmul instead of a ``[T_s, T_t, d]`` difference)
    after subtracting the mean text state from both sides: distances are unchanged, but the large
    common component of deep LLM states no longer cancels float32 precision away.
    """
    speech, text = as_float32(speech), as_float32(text)
    offset = text.mean(dim=-2, keepdim=True)
    s, t = speech - offset, text - offset
    s_sq = torch.linalg.vector_norm(s, dim=-1).square().unsqueeze(-1)
    t_sq = torch.linalg.vector_norm(t, dim=-1).square().unsqueeze(-2)
    squared = torch.baddbmm(s_sq + t_sq, s, t.transpose(-1, -2), alpha=-2.0) if s.dim() == 3 else s_sq + t_sq - 2.0 * (s @ t.transpose(-1, -2))
    return squared.clamp_min(0.0).sqrt()
