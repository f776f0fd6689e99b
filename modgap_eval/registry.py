"""One generic registry of named, lazily imported objects (models, scorers, TTS engines, sources).

Entries are ``"package.module:Attr"`` strings resolved on first use, so ``import modgap_eval`` imports
no torch. Third-party packages add entries through the entry-point group given to the registry.
Unknown names raise RegistryError with close matches ("did you mean").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from modgap_eval.errors import RegistryError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> objects given directly or as lazy ``"module:Attr"`` references (``builtins``: the package's own)."""

    def __init__(
        self, kind: str, entry_point_group: str | None = None, builtins: Mapping[str, str] | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._refs: dict[str, str] = {}
        self._objects: dict[str, T] = {}
        self._entry_points_loaded = entry_point_group is None
        for name, ref in (builtins or {}).items():
            self.add(name, ref)

    def add(self, name: str, ref: str | T) -> None:
        """Register ``ref`` (a ``"module:Attr"`` string or the object itself) under ``name``."""
        if name in self._refs or name in self._objects:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        if isinstance(ref, str):
            if ":" not in ref:
                raise RegistryError(f"{self.kind} {name!r}: lazy reference {ref!r} must be 'module:Attr'")
            self._refs[name] = ref
        else:
            self._objects[name] = ref

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(set(self._refs) | set(self._objects))

    def get(self, name: str) -> T:
        """Resolve ``name``, importing its module on first use."""
        self._load_entry_points()
        if name in self._objects:
            return self._objects[name]
        if name not in self._refs:
            known = self.names()
            raise RegistryError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, known)} (known: {', '.join(known) or 'none'})"
            )
        module_name, _, attr = self._refs[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = extra_hint(exc)
            raise RegistryError(f"{self.kind} {name!r}: cannot import {module_name!r}: {exc}{hint}") from exc
        try:
            obj = getattr(module, attr)
        except AttributeError as exc:
            raise RegistryError(f"{self.kind} {name!r}: {module_name!r} has no attribute {attr!r}") from exc
        self._objects[name] = obj
        return obj

    def _load_entry_points(self) -> None:
        group = self.entry_point_group
        if self._entry_points_loaded or group is None:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=group):
            if ep.name not in self._refs and ep.name not in self._objects:
                self._refs[ep.name] = ep.value


# Top-level modules of the optional extras (pyproject.toml), so a missing one is named with its install line.
EXTRA_OF_MODULE = {
    "torch": "models",
    "transformers": "models",
    "accelerate": "models",
    "peft": "models",
    "mistral_common": "models",
    "datasets": "data",
    "pyarrow": "data",
    "matplotlib": "analysis",
    "evaluate": "analysis",
    "piper": "tts",
    "langdetect": "ifeval",
    "gguf": "offline",
    "sentencepiece": "offline",
}


def extra_hint(exc: ImportError) -> str:
    """``: pip install 'modgap-eval[EXTRA]'`` when ``exc`` is a missing module of an extra, else ''."""
    missing = (exc.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(missing)
    return f" (pip install 'modgap-eval[{extra}]')" if extra else ""
