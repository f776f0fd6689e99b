"""LayerTaps on decoder blocks that pass several residual streams stacked on dim 0 (Gemma 3n's AltUp).

A toy stack of real modules whose blocks take and return ``[streams, batch, T, d]``: the taps must
read and edit exactly the named stream (checked against the states computed by hand) and refuse a
stacked layout when no stream is named, instead of indexing rows of the wrong dimension.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from modgap_eval.errors import ConfigError  # noqa: E402
from modgap_eval.models.hf_taps import Edit, LayerTaps  # noqa: E402
from modgap_eval.types import InterventionMode  # noqa: E402


class Mix(torch.nn.Module):
    """One block: every stream becomes a linear map of the sum of all streams (so streams interact)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(d, d)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.linear(hidden.sum(0)) + k for k in range(hidden.shape[0])])


def run(blocks, hidden):
    for block in blocks:
        hidden = block(hidden)
    return hidden


@pytest.fixture
def stack():
    torch.manual_seed(0)
    blocks = torch.nn.ModuleList([Mix(8), Mix(8)])
    return blocks, torch.randn(3, 2, 5, 8)  # 3 streams, batch 2, 5 positions


def test_capture_reads_the_named_stream(stack):
    blocks, hidden = stack
    taps = LayerTaps(blocks, stream=1)
    with taps.active(capture=[range(1, 4), range(0, 2)]):
        out = run(blocks, hidden)
    with torch.no_grad():
        layer1 = blocks[0](hidden)
        by_hand = [hidden, layer1, blocks[1](layer1)]
    assert torch.equal(out, by_hand[2])
    for layer, states in enumerate(by_hand):
        assert torch.allclose(taps.stacked(0)[layer], states[1, 0, 1:4])
        assert torch.allclose(taps.stacked(1)[layer], states[1, 1, 0:2])


def test_edit_rewrites_the_named_stream_only(stack):
    blocks, hidden = stack
    partners = -hidden[2, 0, [1, 3]]
    edit = Edit(0, torch.tensor([1, 3]), partners, InterventionMode.ANGLE)
    taps = LayerTaps(blocks, stream=2)
    seen = []
    with taps.active(edits={0: [edit]}):  # a pre-hook after the taps' own sees the edited input
        handle = blocks[0].register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
        run(blocks, hidden)
    handle.remove()
    edited = seen[0]
    # The same norm pointing the other way, at the two positions of row 0 in stream 2; nothing else moved.
    assert torch.allclose(edited[2, 0, [1, 3]], -hidden[2, 0, [1, 3]], atol=1e-6)
    unchanged = torch.ones(hidden.shape, dtype=torch.bool)
    unchanged[2, 0, [1, 3]] = False
    assert torch.equal(edited[unchanged], hidden[unchanged])


def test_stacked_layout_without_a_stream_is_refused(stack):
    blocks, hidden = stack
    with pytest.raises(ConfigError, match="residual_stream"):
        with LayerTaps(blocks).active(capture=[range(0, 2)] * 2):
            run(blocks, hidden)
