"""Where modgap-eval finds its built-in tasks and keeps files it makes once and reuses (TTS audio,
converted weights, downloads)."""

from __future__ import annotations

import os
from pathlib import Path

from modgap_eval.errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
# An installed wheel carries the repo's top-level tasks/ folder as package data (setup.py maps it);
# a checkout (plain or `pip install -e`) has no copy inside the package and reads tasks/ itself.
_INSTALLED_TASKS_DIR = PACKAGE_ROOT / "_builtin_tasks"
_CHECKOUT_TASKS_DIR = REPO_ROOT / "tasks"
BUILTIN_TASKS_DIR = _INSTALLED_TASKS_DIR if _INSTALLED_TASKS_DIR.is_dir() else _CHECKOUT_TASKS_DIR


def builtin_tasks_dir() -> Path:
    """The built-in tasks folder; a ConfigError (never an empty task list) when the install lacks it."""
    if not BUILTIN_TASKS_DIR.is_dir():
        raise ConfigError(
            f"built-in tasks folder not found (looked in {_INSTALLED_TASKS_DIR} and {_CHECKOUT_TASKS_DIR}): "
            "reinstall modgap-eval from a wheel or sdist built with its tasks/ folder"
        )
    return BUILTIN_TASKS_DIR


def cache_dir(*parts: str) -> Path:
    """``$MODGAP_CACHE`` (default ``~/.cache/modgap_eval``) joined with ``parts``, created."""
    root = Path(os.environ.get("MODGAP_CACHE") or Path.home() / ".cache" / "modgap_eval")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_stem(text: str) -> str:
    """``text`` made safe as a file or folder name: characters other than letters, digits and ``-_.`` become ``_``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
