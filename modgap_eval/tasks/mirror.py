"""Where a Hugging Face dataset's split lives in an offline mirror under ``--data_dir``.

Three layouts are accepted, under ``<data_dir>/<path>/<config or "default">/``:

- ``<split>.parquet`` — one file for the whole split string (this project's original layout);
- ``<split>-00000-of-00001.parquet`` (any ``-NNNNN-of-NNNNN`` shards, in order) — the hub's own file
  names, so a ``huggingface-cli download`` of the dataset repository works as a mirror as it is;
- for a split that joins parts with ``+`` (VoiceBench mmsu's 12 domains), one file or shard set per
  part, read in the order the split names them (mmsu's per-domain files on the hub).

A part that has none of these makes the whole split "not mirrored" (None), so nothing is mixed.
"""

from __future__ import annotations

from pathlib import Path


def _part_files(folder: Path, part: str) -> list[Path]:
    single = folder / f"{part}.parquet"
    if single.is_file():
        return [single]
    return sorted(p for p in folder.glob(f"{part}-*-of-*.parquet") if p.is_file())


def mirror_files(data_dir: Path, path: str, name: str | None, split: str) -> list[Path] | None:
    """The parquet files holding ``split`` in the mirror, in row order; None when it is not mirrored."""
    folder = data_dir / path / (name or "default")
    whole = _part_files(folder, split)
    if whole:
        return whole
    files: list[Path] = []
    for part in split.split("+") if "+" in split else ():
        found = _part_files(folder, part.strip())
        if not found:
            return None
        files.extend(found)
    return files or None
