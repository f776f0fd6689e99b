"""Read one task or group YAML within fixed bounds: size, aliases, nesting, UTF-8.

``yaml.safe_load`` runs no code, but a few hundred bytes of anchors and aliases ("billion laughs")
describe a structure that explodes when it is later copied or serialised into results, and deep
nesting exhausts the parser's recursion. Every failure is a ConfigError of one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modgap_eval.errors import ConfigError

MAX_YAML_BYTES = 1 << 20
"""A task file is a page of settings; 1 MiB is far beyond any real one."""
MAX_ALIASES = 100
"""``*alias`` references per file."""
MAX_VALUES = 100_000
"""Scalars, lists and mappings after aliases are expanded (what serialising the file would write)."""


class _TooManyAliases(Exception):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts alias references while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # PyYAML ships no type stubs
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _TooManyAliases
        return super().compose_node(parent, index)


def one_line(text: object) -> str:
    """Collapse a multi-line message (PyYAML's, a validator's) into one line."""
    return " ".join(str(text).split())


def shorten(message: str, limit: int = 300) -> str:
    """``message`` cut to ``limit`` characters (a row's value quoted in an error stays readable)."""
    return message if len(message) <= limit else message[:limit] + "..."


def read_yaml(path: Path) -> tuple[str, Any]:
    """(text, parsed value) of ``path``; ConfigError naming the file when any bound is broken."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {one_line(exc)}") from exc
    if len(data) > MAX_YAML_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_YAML_BYTES:,} bytes; a task file holds settings, not data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})") from None
    loader = None
    try:
        loader = _BoundedLoader(text)  # the reader already refuses control characters here
        raw = loader.get_single_data()
    except _TooManyAliases:
        raise ConfigError(f"{path}: more than {MAX_ALIASES} YAML aliases (*name); write the values out") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(exc)}") from exc
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    _check_size(raw, path)
    return text, raw


def _check_size(value: Any, path: Path) -> None:
    """Count values as serialising would (aliases expanded), stopping at the bound; iterative, so depth is free."""
    stack = [(value, 0)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(
                f"{path}: expands to more than {MAX_VALUES:,} values (YAML aliases repeat their anchor's "
                f"content each time); write the values out"
            )
        if depth > 100:
            raise ConfigError(f"{path}: nested more than 100 levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for pair in item.items() for v in pair)
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
