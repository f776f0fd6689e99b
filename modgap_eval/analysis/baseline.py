"""The mismatched-pair chance baseline (METHOD.md §4b): a fixed, seeded derangement in small blocks.

Sample ids are sorted, permuted with the seed and cut into blocks of 2 (the last block holds 3 when
the count is odd). Within a block the speech of member k meets the text of member k + 1 (cyclic), so
every sample's speech and text are used once, no sample meets itself, and both members' states are
computed together: nothing has to outlive its block, whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DERANGEMENT_SCHEME = (
    "sorted ids, seeded permutation (numpy PCG64), blocks of 2 (last of 3 if odd), speech k vs text k+1 cyclic"
)


@dataclass(frozen=True)
class Block:
    """Positions (into the caller's sample list) analysed together; member k's speech meets member k+1's text."""

    members: tuple[int, ...]

    def partners(self) -> tuple[tuple[int, int], ...]:
        """(speech member, text member) pairs of the mismatched comparisons in this block."""
        n = len(self.members)
        return tuple((self.members[k], self.members[(k + 1) % n]) for k in range(n))


def derangement_blocks(sample_ids: Sequence[str], seed: int) -> tuple[Block, ...]:
    """The derangement blocks (module docstring) of the set of ids and the seed, whatever their order."""
    if len(sample_ids) < 2:
        raise ValueError("a mismatched-pair baseline needs at least 2 samples")
    if len(set(sample_ids)) != len(sample_ids):
        raise ValueError("sample ids must be unique for the mismatched-pair baseline")
    by_id = sorted(range(len(sample_ids)), key=lambda k: sample_ids[k])
    order = [by_id[k] for k in np.random.default_rng(seed).permutation(len(by_id))]
    starts = list(range(0, len(order) - 1, 2))  # an odd count leaves the last block 3 long
    return tuple(Block(tuple(order[a:b])) for a, b in zip(starts, [*starts[1:], len(order)]))
