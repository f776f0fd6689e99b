"""Record every file Python opens (``sys.addaudithook``'s "open" event) while a block runs.

An audit hook cannot be removed, so one is installed per process and only records while a
``recording_opens()`` block is active. It sees ``open``/``io.open``/``os.open`` and everything
built on them (``Path.read_text``, ``json``, ``csv``), which is how task files and rows are read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_active: list[list[Path]] = []
_installed = False


def _hook(event: str, args: tuple) -> None:
    if event == "open" and _active and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _active[-1].append(Path(os.path.realpath(os.fsdecode(args[0]))))


@contextmanager
def recording_opens() -> Iterator[list[Path]]:
    """Yield the list that collects (real) paths opened inside the block."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
    opened: list[Path] = []
    _active.append(opened)
    try:
        yield opened
    finally:
        _active.pop()
