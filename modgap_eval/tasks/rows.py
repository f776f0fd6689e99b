"""Turn one source row into the fields of a paired Sample, checking each as it goes.

Columns, options, the answer, references, the rendered written text and the audio reference;
every problem is a DataError naming the task, the sample and the field. ``loader.build_samples``
walks the rows (ids, duplicates) and calls ``sample_fields`` once per row.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from modgap_eval.errors import DataError
from modgap_eval.scoring.base import letter
from modgap_eval.tasks import templates
from modgap_eval.tasks.safe_yaml import shorten
from modgap_eval.tasks.schema import FieldsSpec, SourceKind, TaskSpec
from modgap_eval.tasks.sources import Row, resolve_local
from modgap_eval.tasks.templates import MAX_RENDERED_CHARS, TemplateError
from modgap_eval.types import Audio

MAX_OPTIONS = 26  # options are lettered A-Z


def column(row: Row, name: str, field: str, where: str) -> Any:
    """The row's value in column ``name``; DataError naming the task field that asked for it."""
    if name not in row:
        raise DataError(f"{where}: field '{field}': no column {name!r} (columns {sorted(map(str, row))})")
    return row[name]


def sample_fields(
    spec: TaskSpec, task_dir: Path, row: Row, where: str, data_dir: Path | None, strict_audio: bool
) -> dict[str, Any]:
    """The Sample fields of one row except its id: text, audio, references, choices, answer, metadata."""
    fields = spec.fields
    choices = _choices(row, fields, where)
    answer_index = None
    if fields.answer and choices:
        answer_index = _answer_index(column(row, fields.answer, "fields.answer", where), choices, where)
    references = _references(row, fields, where)
    text = _text(spec, row, _choices_text(fields, choices, where), where)
    audio = None
    if spec.speech.column:
        value = column(row, spec.speech.column, "speech.column", where)
        audio = _audio(value, spec.source.kind, task_dir, data_dir, where, strict_audio)
    metadata = {m: column(row, m, "fields.metadata", where) for m in fields.metadata}
    return dict(
        text=text, audio=audio, references=references, choices=choices, answer_index=answer_index, metadata=metadata
    )


def _choices(row: Row, fields: FieldsSpec, where: str) -> tuple[str, ...]:
    choices: tuple[str, ...] = ()
    if isinstance(fields.choices, str):
        raw_choices = column(row, fields.choices, "fields.choices", where)
        if not isinstance(raw_choices, (list, tuple)) or not raw_choices:
            raise DataError(f"{where}: field 'fields.choices': column {fields.choices!r} must hold a non-empty list")
        choices = tuple(str(c) for c in raw_choices)
    elif isinstance(fields.choices, list):
        choices = tuple(str(column(row, c, "fields.choices", where)) for c in fields.choices)
    if len(choices) > MAX_OPTIONS:
        raise DataError(f"{where}: field 'fields.choices': {len(choices)} options; at most {MAX_OPTIONS} (letters A-Z)")
    return choices


def _references(row: Row, fields: FieldsSpec, where: str) -> tuple[str, ...]:
    if not fields.references:
        return ()
    raw_refs = column(row, fields.references, "fields.references", where)
    return tuple(str(r) for r in raw_refs) if isinstance(raw_refs, (list, tuple)) else (str(raw_refs),)


def _choices_text(fields: FieldsSpec, choices: Sequence[str], where: str) -> str:
    """The options as the ``{choices}`` placeholder shows them, one ``choice_format`` line each."""
    try:
        lines = [
            templates.render(fields.choice_format, {"letter": letter(i), "choice": c}) for i, c in enumerate(choices)
        ]
    except TemplateError as exc:
        raise DataError(f"{where}: field 'fields.choice_format': {exc}") from None
    choices_text = "\n".join(lines)
    if len(choices_text) > MAX_RENDERED_CHARS:
        raise DataError(
            f"{where}: field 'fields.choices': the options render to more than {MAX_RENDERED_CHARS:,} characters"
        )
    return choices_text


def _text(spec: TaskSpec, row: Row, choices_text: str, where: str) -> str:
    """The written content, non-empty and short enough once the prompt template surrounds it."""
    try:
        text = templates.render(spec.fields.text, {**row, "choices": choices_text})
    except KeyError as exc:
        raise DataError(
            f"{where}: field 'fields.text' uses {{{exc.args[0]}}} but the row has columns {sorted(map(str, row))}"
        ) from None
    except TemplateError as exc:
        raise DataError(f"{where}: field 'fields.text': {exc}") from None
    if not text.strip():
        raise DataError(f"{where}: field 'fields.text': the written content is empty")
    frame = sum(map(len, spec.prompt.split())) + len(spec.prompt.system or "")  # what surrounds the content
    if len(text) + frame > MAX_RENDERED_CHARS:
        raise DataError(
            f"{where}: field 'prompt.template': the prompt renders to {len(text) + frame:,} characters, "
            f"more than {MAX_RENDERED_CHARS:,}"
        )
    return text


def _answer_index(raw: Any, choices: Sequence[str], where: str) -> int:
    if isinstance(raw, bool):
        raise DataError(f"{where}: field 'fields.answer': {raw!r} is not an option index, letter or text")
    if isinstance(raw, int) and 0 <= raw < len(choices):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) == 1 and text.isalpha() and 0 <= ord(text.upper()) - ord("A") < len(choices):
            return ord(text.upper()) - ord("A")
        if text.isdigit() and 0 <= int(text) < len(choices):
            return int(text)
        if text in choices:
            return list(choices).index(text)
    raise DataError(
        shorten(f"{where}: field 'fields.answer': {raw!r} is not an option index, letter or text of {list(choices)}")
    )


def _hub_cache_roots() -> list[Path]:
    """Where ``datasets`` keeps downloaded files: hub rows may point at audio there, nowhere else."""
    try:
        import datasets.config
        import huggingface_hub.constants
    except ImportError:
        return []
    return [
        Path(os.path.realpath(r)) for r in (datasets.config.HF_DATASETS_CACHE, huggingface_hub.constants.HF_HUB_CACHE)
    ]


def _audio(value: Any, kind: SourceKind, task_dir: Path, data_dir: Path | None, where: str, strict: bool) -> Audio:
    if isinstance(value, dict):
        if value.get("bytes"):
            if not isinstance(value["bytes"], (bytes, bytearray)):
                raise DataError(
                    f"{where}: field 'speech.column': 'bytes' holds {type(value['bytes']).__name__}, not bytes"
                )
            return Audio(data=bytes(value["bytes"]))
        value = value.get("path")
    if isinstance(value, (bytes, bytearray)) and value:
        return Audio(data=bytes(value))
    if isinstance(value, str) and value:
        if kind is SourceKind.HF and os.path.isabs(value):
            # a hub dataset's audio files live in the hub cache (datasets hands out absolute paths there)
            real = Path(os.path.realpath(value))
            if any(real.is_relative_to(root) for root in _hub_cache_roots()):
                return Audio(path=real)
        path = resolve_local(value, task_dir, data_dir, where, must_exist=strict, field="speech.column")
        return Audio(path=path)
    raise DataError(f"{where}: field 'speech.column': no audio (got {type(value).__name__})")


def audio_digest(audio: Audio) -> str:
    """sha256 of the clip's encoded bytes (a missing file hashes its path: the decode step reports it)."""
    if audio.data is not None:
        return hashlib.sha256(audio.data).hexdigest()
    assert audio.path is not None
    try:
        return file_digest(audio.path)
    except OSError:
        return hashlib.sha256(f"missing:{audio.path}".encode()).hexdigest()


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes, remembered while its modification time stays the same."""
    return _digest(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=65536)
def _digest(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
