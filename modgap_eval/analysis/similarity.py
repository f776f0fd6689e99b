"""Sequence- and token-level similarity between speech and text hidden states (METHOD.md §3, §4).

Pure torch functions computed in float64: states of real LLMs carry a few dimensions of size ~600,
and in float32 the rounding of such dot products flips argmax choices on the alignment path (issue
12); float64 costs little beside the model. Every function accepts arbitrary leading (batch)
dimensions, typically the layer axis. A zero vector has no cosine: it gives NaN, and callers exclude
and count it (``alignment``), never read it as 0.

Direction of goodness: cosine, higher = more similar; Euclidean distance, lower = more similar.
"""

from __future__ import annotations

import torch


def as_float64(states: torch.Tensor) -> torch.Tensor:
    """States as float64 on their device (see the module docstring for why not float32)."""
    return states if states.dtype == torch.float64 else states.to(torch.float64)


def mean_pool(states: torch.Tensor) -> torch.Tensor:
    """Mean over the token axis of the content span (METHOD.md §3): ``[..., T, d] -> [..., d]``."""
    if states.shape[-2] == 0:
        raise ValueError("mean_pool needs at least one position in the content span")
    return as_float64(states).mean(dim=-2)


def is_zero(vectors: torch.Tensor) -> torch.Tensor:
    """``[..., d] -> [...]`` bool: the vector is all zeros (it has no direction, so no cosine)."""
    return torch.linalg.vector_norm(vectors, dim=-1) == 0  # cheaper than a boolean copy of the states


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine of paired vectors ``[..., d] x [..., d] -> [...]``, in [-1, 1] (higher is better); NaN if either is 0."""
    a, b = as_float64(a), as_float64(b)
    norms = torch.linalg.vector_norm(a, dim=-1) * torch.linalg.vector_norm(b, dim=-1)
    return ((a * b).sum(dim=-1) / norms).clamp(-1.0, 1.0).masked_fill(norms == 0, float("nan"))


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of paired vectors ``[..., d] x [..., d] -> [...]``. Lower is better."""
    return torch.linalg.vector_norm(as_float64(a) - as_float64(b), dim=-1)


def over_blocks(per_layer: torch.Tensor) -> torch.Tensor:
    """Mean over layers l = 1..L of a ``[..., L+1]`` per-layer quantity (METHOD.md §3: layer 0 excluded),
    leaving undefined (NaN) layers out; NaN only when no layer 1..L is defined."""
    if per_layer.shape[-1] < 2:
        raise ValueError("Sim and APS average layers 1..L: the states need at least one decoder block")
    return per_layer[..., 1:].nanmean(dim=-1)


def token_matrices(speech: torch.Tensor, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(A^cos, A^euc)`` (METHOD.md §4): ``[..., T_s, d], [..., T_t, d] -> 2 × [..., T_s, T_t]``.

    Rows are speech frames, columns text tokens. One float64 matmul serves both: ``A^cos = a·b / (|a||b|)``
    (NaN where either state is a zero vector) and ``A^euc = sqrt(|a|² + |b|² − 2 a·b)``. In float64 the
    large common component of deep LLM states costs distances about 1e-16 · |a|², so no centring is needed.
    """
    speech, text = as_float64(speech), as_float64(text)
    dots = speech @ text.transpose(-1, -2)
    speech_norm = torch.linalg.vector_norm(speech, dim=-1).unsqueeze(-1)
    text_norm = torch.linalg.vector_norm(text, dim=-1).unsqueeze(-2)
    norms = speech_norm * text_norm
    a_euc = (speech_norm.square() + text_norm.square()).sub_(dots, alpha=2.0).clamp_min_(0.0).sqrt_()
    a_cos = dots.div_(norms).clamp_(-1.0, 1.0).masked_fill_(norms == 0, float("nan"))
    return a_cos, a_euc
