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
import re
from pathlib import Path
from typing import Any

from modgap_eval.errors import ConfigError, DataError, RegistryError, require
from modgap_eval.tasks.schema import SourceKind, SourceSpec

Row = dict[str, Any]


def resolve_local(
    path: str, base_dir: Path, data_dir: Path | None, where: str, must_exist: bool = True, field: str = "source.path"
) -> Path:
    """Resolve ``path`` relative to the task folder (or data dir); refuse anything outside them.

    Symlinks are followed before the check (``realpath``), so a link in a shared task folder cannot
    point at a file elsewhere. An absolute path is accepted only when it lies inside one of the two
    folders. ``must_exist=False`` returns the first inside candidate even when it is missing or a
    directory; otherwise a directory is reported as such, not as "not found".
    """
    if not path or "\x00" in path:
        raise ConfigError(f"{where}: field '{field}': {path!r} is not a file path")
    roots = [Path(os.path.realpath(base_dir))] + ([Path(os.path.realpath(data_dir))] if data_dir else [])
    candidates = [Path(os.path.realpath(root / path)) for root in roots]
    inside = [c for c in candidates if any(c.is_relative_to(root) for root in roots)]
    if not inside:
        raise ConfigError(
            f"{where}: field '{field}': path {path!r} leaves the task folder {roots[0]}"
            + (f" and the data dir {roots[1]}" if data_dir else "")
            + " (task files may only read inside them)"
        )
    for candidate in inside:
        if candidate.is_file():
            return candidate
    if not must_exist:
        return inside[0]  # the reader reports a missing file or a directory (audio: per sample)
    for candidate in inside:
        if candidate.is_dir():
            raise DataError(f"{where}: field '{field}': {path!r} is a directory, not a file ({candidate})")
    raise DataError(f"{where}: field '{field}': file {path!r} not found in {', '.join(str(r) for r in roots)}")


HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")
"""A Hugging Face hub dataset id: ``name`` or ``owner/name`` (no ``..``, no absolute path)."""


def hf_location(spec: SourceSpec, base_dir: Path, data_dir: Path | None, where: str) -> tuple[str, list[Path] | None]:
    """Where a ``kind: hf`` source is read from: (what to pass to ``load_dataset``, its mirror parquet files or None).

    A hub id is read from the hub (or the ``data_dir`` mirror). Anything else is a local dataset
    folder and must resolve inside the task folder or data dir like every other task path; a hub id
    that also names a folder relative to the working directory is refused, because ``load_dataset``
    would read that folder instead of the hub.
    """
    path = spec.path
    is_hub_id = bool(HUB_ID.match(path)) and ".." not in path.split("/")
    if not is_hub_id:
        local = resolve_local(path, base_dir, data_dir, where, must_exist=False)
        if not local.exists():
            raise DataError(
                f"{where}: field 'source.path': {path!r} is neither a hub dataset id (owner/name) "
                f"nor an existing folder inside the task folder"
            )
        return str(local), None
    if data_dir is not None:
        from modgap_eval.tasks.mirror import mirror_files

        root = os.path.realpath(data_dir)
        if not Path(os.path.realpath(data_dir / path / (spec.name or "default"))).is_relative_to(root):
            raise ConfigError(f"{where}: field 'source.name': the mirror path leaves the data dir {data_dir}")
        assert spec.split is not None  # the schema requires a split for kind 'hf'
        mirror = mirror_files(data_dir, path, spec.name, spec.split)
        if mirror is not None:
            if any(not Path(os.path.realpath(file)).is_relative_to(root) for file in mirror):
                raise ConfigError(f"{where}: field 'source.split': the mirror path leaves the data dir {data_dir}")
            return path, mirror
    local = Path(os.path.realpath(base_dir / path))
    if local.is_dir() and local.is_relative_to(os.path.realpath(base_dir)):
        return str(local), None  # a dataset folder shipped with the task
    if os.path.exists(path):
        raise ConfigError(
            f"{where}: field 'source.path': {path!r} names the folder {os.path.abspath(path)} outside "
            f"the task folder (load_dataset would read it instead of the hub); run from another folder"
        )
    return path, None


def rows_available(spec: SourceSpec, base_dir: Path, data_dir: Path | None, where: str) -> str | None:
    """None when the rows can be read without the network; else why not (hub data, a download)."""
    if spec.kind is SourceKind.HF:
        target, mirror = hf_location(spec, base_dir, data_dir, where)
        if os.path.isabs(target) or mirror:
            return None  # a local dataset folder inside the task folder, or the mirror
        return "hub data, no mirror in --data_dir"
    if spec.kind is SourceKind.BIGBENCH:
        from modgap_eval.tasks.bigbench import is_extracted

        return None if is_extracted(spec.path) else "BIG-bench data not yet downloaded"
    return None


def load_rows(
    spec: SourceSpec, base_dir: Path, data_dir: Path | None, audio_column: str | None, where: str
) -> list[Row]:
    if spec.kind is SourceKind.HF:
        return _hf_rows(spec, base_dir, data_dir, audio_column, where)
    if spec.kind in (SourceKind.GENERATED, SourceKind.BIGBENCH):
        from modgap_eval.tasks.bigbench import load_rows as bigbench_rows
        from modgap_eval.tasks.generators import GENERATORS

        try:
            if spec.kind is SourceKind.BIGBENCH:
                return bigbench_rows(spec.path, **spec.args)
            return list(GENERATORS.get(spec.path)(**spec.args))
        except RegistryError as exc:  # no generator of that name
            raise ConfigError(f"{where}: field 'source.path': {exc}") from exc
        except (ConfigError, TypeError, ValueError, OverflowError) as exc:  # a bad argument's type or value
            raise ConfigError(f"{where}: field 'source.args': {exc}") from exc
    path = resolve_local(spec.path, base_dir, data_dir, where)
    try:
        if spec.kind is SourceKind.JSONL:
            return _jsonl_rows(path)
        if spec.kind is SourceKind.CSV:
            with path.open(newline="", encoding="utf-8") as handle:
                return [dict(row) for row in csv.DictReader(handle)]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: not valid CSV ({exc})") from None
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
            except RecursionError:
                raise DataError(f"{path}:{number}: JSON nested too deeply") from None
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


def _hf_rows(
    spec: SourceSpec, base_dir: Path, data_dir: Path | None, audio_column: str | None, where: str
) -> list[Row]:
    target, mirrored = hf_location(spec, base_dir, data_dir, where)
    if mirrored:
        return [row for file in mirrored for row in _parquet_rows(file)]
    datasets = require("datasets", "data")
    try:
        dataset = datasets.load_dataset(target, spec.name, split=spec.split, revision=spec.revision)
    except Exception as exc:  # hub/network/config errors come in many types
        raise DataError(
            f"{where}: cannot load Hugging Face dataset {spec.path!r} (config {spec.name!r}, split {spec.split!r}): "
            f"{type(exc).__name__}: {exc}. Offline, mirror it as "
            f"<data_dir>/{spec.path}/{spec.name or 'default'}/{spec.split}.parquet "
            f"(or the hub's <split>-00000-of-00001.parquet shards)"
        ) from exc
    if audio_column and audio_column in dataset.column_names:
        dataset = dataset.cast_column(audio_column, datasets.Audio(decode=False))
    return [dict(row) for row in dataset]
