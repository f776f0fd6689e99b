"""The few exception types modgap-eval raises on purpose.

Every error a user can cause (bad YAML, unknown name, missing audio, a model lacking a capability)
is a ``ModgapError``; the CLI turns it into one line on stderr and exit code 2. Anything else
escaping is a bug in modgap-eval.
"""

from __future__ import annotations

from collections.abc import Iterable


class ModgapError(Exception):
    """Base class: a problem the user can fix, with a message that says where."""


class ConfigError(ModgapError):
    """A task/group YAML, run config or CLI argument is invalid (message names file and field)."""


class RegistryError(ModgapError):
    """An unknown registered name (message offers 'did you mean')."""


class DataError(ModgapError):
    """A dataset row, audio clip or file is missing, corrupt or empty (message names task and sample)."""


class CapabilityError(ModgapError):
    """A model lacks a capability a task or option needs (checked before any data loads)."""


class DependencyError(ModgapError):
    """An optional dependency is missing; the message names the ``pip install`` that fixes it."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'a', 'b'?"`` for up to three close matches of ``name``, or ``""``."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def require(module: str, extra: str):
    """Import an optional dependency or raise DependencyError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"{module!r} is needed here but not installed: pip install 'modgap-eval[{extra}]' ({exc})"
        ) from exc
