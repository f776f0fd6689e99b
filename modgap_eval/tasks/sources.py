"""Dataset sources: turn a task's ``source:`` block into a list of row dicts.

Hub datasets are read with their audio column left encoded (``Audio(decode=False)``); local files
resolve inside the task's folder or the data dir, never elsewhere. ``data_dir`` also mirrors hub
datasets offline: ``<data_dir>/<path>/<name>/<split>.parquet`` (or the hub's shard names, see
``tasks.mirror``) is used in place of the hub.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from modgap_eval.errors import ConfigError, DataError, require
from modgap_eval.tasks.schema import SourceKind, SourceSpec

Row = dict[str, Any]


def resolve_local(path: str, base_dir: Path, data_dir: Path | None, where: str, must_exist: bool = True) -> Path:
    """Resolve ``path`` relative to the task folder (or data dir); refuse anything outside them.

    Containment is checked on the normalised path (no per-file filesystem calls: tasks can hold
    many thousands of clips); ``must_exist=False`` leaves a missing file for the decoder to report.
    """
    roots = [Path(os.path.abspath(base_dir))] + ([Path(os.path.abspath(data_dir))] if data_dir else [])
    candidates = [Path(os.path.normpath(root / path)) for root in roots]
    inside = [c for r, c in zip(roots, candidates) if c.is_relative_to(r)]
    if not inside:
        raise ConfigError(f"{where}: path {path!r} leaves the task folder {roots[0]}")
    if len(inside) == 1 and not must_exist:
        return inside[0]
    for candidate in inside:
        if candidate.exists():
            return candidate
    if not must_exist:
        return inside[0]
    raise DataError(f"{where}: file {path!r} not found in {', '.join(str(r) for r in roots)}")


def load_rows(spec: SourceSpec, base_dir: Path, data_dir: Path | None, audio_column: str | None, where: str) -> list[Row]:
    if spec.kind is SourceKind.HF:
        return _hf_rows(spec, data_dir, audio_column, where)
    if spec.kind is SourceKind.GENERATED:
        from modgap_eval.tasks.generators import GENERATORS

        try:
            return list(GENERATORS.get(spec.path)(**spec.args))
        except TypeError as exc:
            raise ConfigError(f"{where}: field 'source.args': {exc}") from exc
    if spec.kind is SourceKind.BIGBENCH:
        from modgap_eval.tasks.bigbench import load_rows as bigbench_rows

        try:
            return list(bigbench_rows(spec.path, **spec.args))
        except TypeError as exc:
            raise ConfigError(f"{where}: field 'source.args': {exc}") from exc
    path = resolve_local(spec.path, base_dir, data_dir, where)
    if spec.kind is SourceKind.JSONL:
        return _jsonl_rows(path)
    if spec.kind is SourceKind.CSV:
        with path.open(newline="", encoding="utf-8") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    return _parquet_rows(path)


def _jsonl_rows(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise DataError(f"{path}:{number}: each line must be a JSON object")
            rows.append(row)
    return rows


def _parquet_rows(path: Path) -> list[Row]:
    pq = require("pyarrow.parquet", "data")
    try:
        return pq.read_table(str(path)).to_pylist()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: cannot read parquet ({exc})") from exc


def _hf_rows(spec: SourceSpec, data_dir: Path | None, audio_column: str | None, where: str) -> list[Row]:
    if data_dir is not None:
        from modgap_eval.tasks.mirror import mirror_files

        mirrored = mirror_files(data_dir, spec.path, spec.name, spec.split)
        if mirrored is not None:
            return [row for file in mirrored for row in _parquet_rows(file)]
    datasets = require("datasets", "data")
    try:
        dataset = datasets.load_dataset(spec.path, spec.name, split=spec.split, revision=spec.revision)
    except Exception as exc:  # hub/network/config errors come in many types
        raise DataError(
            f"{where}: cannot load Hugging Face dataset {spec.path!r} (config {spec.name!r}, split {spec.split!r}): "
            f"{type(exc).__name__}: {exc}. Offline, mirror it as <data_dir>/{spec.path}/{spec.name or 'default'}/{spec.split}.parquet "
            f"(or the hub's <split>-00000-of-00001.parquet shards)"
        ) from exc
    if audio_column and audio_column in dataset.column_names:
        dataset = dataset.cast_column(audio_column, datasets.Audio(decode=False))
    return [dict(row) for row in dataset]
