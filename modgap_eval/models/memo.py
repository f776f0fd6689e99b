"""One memo class for what an adapter keeps from earlier passes, and the keys it keeps it under.

``BoundedMemo`` drops the least recently used entries beyond a byte budget; every memo in the
adapters is one (a clip's audio embeddings, a clip's LSLM vectors, a clip's
transcript), so none grows without bound over a long run.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np

from modgap_eval.types import Waveform


class BoundedMemo:
    """Values keyed by string; the least recently used are dropped beyond a byte budget (0 disables it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.size = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> Any | None:
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key][0]
        return None

    def put(self, key: str, value: Any, nbytes: int) -> None:
        if not self.enabled:
            return
        if key in self.entries:
            self.entries.move_to_end(key)
            return
        self.entries[key] = (value, nbytes)
        self.size += nbytes
        while self.size > self.max_bytes and self.entries:
            _, (_, old) = self.entries.popitem(last=False)
            self.size -= old


def audio_key(audio: Waveform) -> str:
    """A clip's identity: a digest of its samples, its rate and dtype."""
    digest = hashlib.sha1(np.ascontiguousarray(audio.samples).tobytes())
    return f"{digest.hexdigest()}:{audio.sample_rate}:{audio.samples.dtype}"


def tensor_bytes(tensor: Any) -> int:
    """A tensor's size in bytes (what a memo entry costs)."""
    return tensor.numel() * tensor.element_size()
