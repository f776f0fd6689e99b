"""The restricted formatter for task templates (``prompt.template``, ``fields.text``, ``choice_format``).

Task files are untrusted, so their templates are not handed to ``str.format``: that would let
``{choice.__class__.__mro__}`` render Python internals and ``{choice:>300000000}`` allocate
gigabytes. A template here is literal text and named ``{placeholders}`` only (``{{``/``}}`` for
braces); attribute or index access, format specs and conversions are refused when the task is
validated, and rendering stops at ``MAX_RENDERED_CHARS``.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

MAX_RENDERED_CHARS = 200_000
"""Longest written content or option list a template may render (characters); beyond it the sample is refused."""


class TemplateError(ValueError):
    """A template that breaks the rules above; the message says which placeholder."""


def parse(template: str) -> list[tuple[str, str | None]]:
    """Split ``template`` into (literal text, placeholder name or None) pieces; TemplateError if not allowed."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"not a valid template ({exc}; write {{{{ and }}}} for literal braces)") from None
    out: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is None:
            out.append((literal, None))
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.isidentifier():
            raise TemplateError(
                f"placeholder {shown} is not allowed: only named placeholders like {{question}} "
                f"(no attribute or index access, no positional {{}})"
            )
        if conversion is not None or spec:
            raise TemplateError(
                f"placeholder {shown} is not allowed: no format specs or conversions (write {{{name}}})"
            )
        out.append((literal, name))
    return out


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template``, in order (repeats kept)."""
    return [name for _, name in parse(template) if name is not None]


def check(template: str, allowed: set[str] | None = None) -> str:
    """Validate ``template`` (pydantic field validators call this); ``allowed`` limits the names."""
    names = placeholders(template)
    if allowed is not None:
        unknown = sorted(set(names) - allowed)
        if unknown:
            raise TemplateError(
                f"unknown placeholder(s) {['{' + n + '}' for n in unknown]}; "
                f"this template may use {sorted('{' + a + '}' for a in allowed)}"
            )
    return template


def render(template: str, values: Mapping[str, object], limit: int = MAX_RENDERED_CHARS) -> str:
    """Fill the placeholders with ``str(value)``; KeyError names a missing one, TemplateError an over-long result."""
    out: list[str] = []
    size = 0
    for literal, name in parse(template):
        text = literal if name is None else literal + str(values[name])
        size += len(text)
        if size > limit:
            raise TemplateError(f"renders to more than {limit:,} characters")
        out.append(text)
    return "".join(out)


def split(template: str, slot: str) -> tuple[str, str]:
    """(text before, text after) the single ``{slot}`` placeholder, with literal braces unescaped."""
    before: list[str] = []
    after: list[str] = []
    target = before
    for literal, name in parse(template):
        target.append(literal)
        if name == slot:
            target = after
        elif name is not None:
            raise TemplateError(f"placeholder {{{name}}} is not allowed here; only {{{slot}}}")
    return "".join(before), "".join(after)
