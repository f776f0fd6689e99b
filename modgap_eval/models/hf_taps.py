"""Forward hooks on the decoder blocks: capture content-span states, rewrite them (interventions).

Layer 0 is the input to block 1 (for audio positions, the projector output merged into the
embeddings), layer ``l`` the output of block ``l``: the residual stream before the final norm
(METHOD.md §2), read as float32. Edits act on the first forward call only (the prefill); the KV
cache carries them into decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.types import Intervention

HIDDEN_STATE_CONVENTION = "residual stream before the final norm; layer 0 = input to block 1 (forward hooks)"


@dataclass(frozen=True)
class Edit:
    """Rewrite ``positions`` (absolute, in padded coordinates) of batch row ``row`` at one layer."""

    row: int
    positions: torch.Tensor
    partners: torch.Tensor
    mode: Any


def edits_for(intervention: Intervention, row: int, content: range) -> dict[int, list[Edit]]:
    """Per-layer edits for one row, positions made absolute from the content span."""
    if intervention.partners.shape[:2] != (len(intervention.layers), len(intervention.positions)):
        raise DataError(
            f"intervention partners have shape {tuple(intervention.partners.shape)}; expected "
            f"[{len(intervention.layers)}, {len(intervention.positions)}, d]"
        )
    bad = [p for p in intervention.positions if not 0 <= p < len(content)]
    if bad:
        raise DataError(f"intervention positions {bad} fall outside the content span of length {len(content)}")
    absolute = torch.tensor([content.start + p for p in intervention.positions], dtype=torch.long)
    return {
        layer: [Edit(row, absolute, intervention.partners[k], intervention.mode)]
        for k, layer in enumerate(intervention.layers)
    }


class LayerTaps:
    """Hooks that capture content-span states and/or apply edits: a pre-hook on block 1 (layer 0) and
    one on each block's output (layer ``l``)."""

    def __init__(self, blocks: Sequence[torch.nn.Module], stream: int | None = None) -> None:
        self.blocks = list(blocks)
        self.stream = stream
        """Blocks passing several residual streams stacked on dim 0 (Gemma 3n's AltUp): the one read and edited."""
        self.capture: list[range] | None = None
        self.captured: list[list[torch.Tensor]] = []
        self.keep_inputs: list[range] | None = None
        self.inputs: list[torch.Tensor] = []
        """Block 1's unedited input over ``keep_inputs`` per row, in the model's dtype (for reuse)."""
        self.edits: dict[int, list[Edit]] = {}
        self.calls = 0

    @property
    def num_layers(self) -> int:
        return len(self.blocks)

    @contextmanager
    def active(
        self,
        capture: list[range] | None = None,
        edits: Mapping[int, list[Edit]] | None = None,
        keep_inputs: list[range] | None = None,
    ) -> Iterator[LayerTaps]:
        bad = [layer for layer in (edits or {}) if not 0 <= layer <= self.num_layers]
        if bad:
            raise DataError(f"intervention layers {bad} are outside 0..{self.num_layers}")
        self.capture, self.edits, self.calls, self.keep_inputs = capture, dict(edits or {}), 0, keep_inputs
        self.inputs = []
        self.captured = [[] for _ in range(self.num_layers + 1)]
        handles = [self.blocks[0].register_forward_pre_hook(self._pre_hook, with_kwargs=True)]
        for layer, block in enumerate(self.blocks, start=1):
            handles.append(block.register_forward_hook(self._make_post_hook(layer)))
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()
            self.edits = {}

    def stacked(self, row: int) -> torch.Tensor:
        """Captured states of batch row ``row`` as float32 ``[L + 1, T, d]``."""
        return torch.stack([self.captured[layer][row] for layer in range(self.num_layers + 1)])

    def _pre_hook(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple | None:
        self.calls += 1
        if self.keep_inputs is not None and self.calls == 1:
            hidden = self._rows(args[0] if args else kwargs["hidden_states"])
            self.inputs = [
                hidden[i, span.start : span.stop].detach().cpu().clone() for i, span in enumerate(self.keep_inputs)
            ]
        if args:
            new = self._visit(0, args[0])
            return (new, *args[1:]), kwargs
        new = self._visit(0, kwargs["hidden_states"])
        return args, {**kwargs, "hidden_states": new}

    def _make_post_hook(self, layer: int) -> Callable:
        def hook(module: torch.nn.Module, args: tuple, output: Any) -> Any:
            if isinstance(output, tuple):
                return (self._visit(layer, output[0]), *output[1:])
            return self._visit(layer, output)

        return hook

    def _rows(self, hidden: torch.Tensor) -> torch.Tensor:
        """The ``[batch, T, d]`` residual stream of a block's input or output."""
        rows = hidden if self.stream is None else hidden[self.stream]
        if rows.dim() != 3:  # rows of another layout would be other streams' states, read silently
            raise ConfigError(
                f"decoder blocks pass states of shape {tuple(hidden.shape)}, not [batch, T, d]: "
                "the family must name its residual stream (HFFamily.residual_stream)"
            )
        return rows

    def _visit(self, layer: int, hidden: torch.Tensor) -> torch.Tensor:
        rows = self._rows(hidden)
        new = self._visit_rows(layer, rows)
        if self.stream is None:
            return new
        if new is rows:
            return hidden
        hidden = hidden.clone()
        hidden[self.stream] = new
        return hidden

    def _visit_rows(self, layer: int, hidden: torch.Tensor) -> torch.Tensor:
        if self.edits.get(layer) and self.calls == 1:
            hidden = self._apply(layer, hidden)
        if self.capture is not None and self.calls == 1:
            self.captured[layer] = [
                hidden[i, span.start : span.stop].float().cpu() for i, span in enumerate(self.capture)
            ]
        return hidden

    def _apply(self, layer: int, hidden: torch.Tensor) -> torch.Tensor:
        from modgap_eval.analysis.interventions import rewrite

        hidden = hidden.clone()
        for edit in self.edits[layer]:
            positions = edit.positions.to(hidden.device)
            if int(positions.max()) >= hidden.shape[1]:
                raise DataError(
                    f"intervention position {int(positions.max())} beyond sequence length {hidden.shape[1]}"
                )
            speech = hidden[edit.row, positions].float()
            new = rewrite(speech, edit.partners.to(hidden.device).float(), edit.mode)
            hidden[edit.row, positions] = new.to(hidden.dtype)
        return hidden
