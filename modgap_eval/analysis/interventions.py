"""Interventions on critical tokens (METHOD.md §6): rewrite selected speech states from their text partners.

``rewrite`` is the pure per-position rule the HF adapters apply inside forward hooks. The rest of the
module chooses the critical tokens from a sample's alignment path, builds ``types.Intervention``
objects and runs the with/without comparison on the same items.
"""

from __future__ import annotations

import torch

from modgap_eval.types import InterventionMode


def rewrite(speech: torch.Tensor, text: torch.Tensor, mode: InterventionMode) -> torch.Tensor:
    """Rewrite speech states ``[k, d]`` from their text partners ``[k, d]`` (METHOD.md §6).

    - ``ANGLE``: ĥ = ||h^s|| · h^t / ||h^t|| (text direction, speech norm).
    - ``LENGTH``: ĥ = ||h^t|| · h^s / ||h^s|| (speech direction, text norm).

    Computed in float32, returned in ``speech.dtype`` (hooks may run in bf16). Zero vectors have no
    direction: where the vector whose direction is taken is zero, the speech state is returned as is
    (angle with a zero text partner) or stays zero (length with a zero speech state); never NaN.
    With identical speech and text states both modes return the input (up to rounding).
    """
    if speech.shape != text.shape or speech.dim() != 2:
        raise ValueError(f"rewrite needs speech and text of equal shape [k, d]; got {tuple(speech.shape)} and {tuple(text.shape)}")
    mode = InterventionMode(mode)
    s = speech.to(torch.float32)
    t = text.to(device=s.device, dtype=torch.float32)
    s_norm = torch.linalg.vector_norm(s, dim=-1, keepdim=True)
    t_norm = torch.linalg.vector_norm(t, dim=-1, keepdim=True)
    if mode is InterventionMode.ANGLE:
        direction_norm, direction, scale = t_norm, t, s_norm
    else:
        direction_norm, direction, scale = s_norm, s, t_norm
    has_direction = direction_norm > 0
    unit = direction / torch.where(has_direction, direction_norm, torch.ones_like(direction_norm))
    out = torch.where(has_direction, scale * unit, s)
    return out.to(speech.dtype)
