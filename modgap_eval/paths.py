"""Where modgap-eval keeps files it makes once and reuses (TTS audio, converted weights, downloads)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
BUILTIN_TASKS_DIR = REPO_ROOT / "tasks"


def cache_dir(*parts: str) -> Path:
    """``$MODGAP_CACHE`` (default ``~/.cache/modgap_eval``) joined with ``parts``, created."""
    root = Path(os.environ.get("MODGAP_CACHE") or Path.home() / ".cache" / "modgap_eval")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
