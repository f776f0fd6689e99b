"""What ``--batch_size`` means, in one place.

A batch is the number of requests handed to one adapter call. A fixed ``--batch_size N`` is exactly
that. ``auto`` means: start at ``AUTO_BATCH_START`` requests per call; an adapter that can run out of
memory halves its own call size on out-of-memory and keeps it halved (``models.hf_common.Batcher``).
The runner owns the call size (``requests_per_call``): it hands requests in calls of that size, which
is also how often the response cache is written, and the representation stage fetches the states of
that many samples per modality at once. Adapters never pick another start.
"""

from __future__ import annotations

from typing import Literal

AUTO_BATCH_START = 32
"""Requests per call under ``--batch_size auto`` (adapters halve it on out-of-memory)."""


def requests_per_call(batch_size: int | Literal["auto"]) -> int:
    """Requests per adapter call (and samples per representation fetch) for a ``--batch_size`` value."""
    return batch_size if isinstance(batch_size, int) else AUTO_BATCH_START


def adapter_batch_size(batch_size: int | Literal["auto"]) -> int | None:
    """What ``RuntimeOptions.batch_size`` receives: the fixed size, or None for 'auto' (halve on OOM)."""
    return batch_size if isinstance(batch_size, int) else None
