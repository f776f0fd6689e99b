"""Append-only response cache: each finished request is persisted as its batch completes.

One JSONL file per model identity under ``<output_path>/.cache/``. A line is written and flushed
per batch, so ``kill -9`` loses at most the batch in flight. Lines are ASCII (``ensure_ascii``), so a
crash cannot tear one inside a multi-byte character; a line that still cannot be read (torn, foreign
bytes, not a record) is skipped and counted in ``skipped``, never fatal. Besides model outputs the
file holds other records keyed the same way (``put_record``): the representation summaries of a task.
Keys hash the model identity and everything that defines the request (prompt, content digest,
continuations, generation settings), so a changed task, prompt or model invalidates only what it touches.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modgap_eval.types import Generation, Loglikelihood, Output


def request_key(model_key: str, parts: Sequence[str]) -> str:
    digest = hashlib.sha256(model_key.encode("utf-8"))
    for part in parts:
        digest.update(b"\x1f" + part.encode("utf-8"))
    return digest.hexdigest()


def encode_output(output: Output) -> dict[str, Any]:
    if isinstance(output, Generation):
        return {"kind": "generate", "text": output.text, "extras": dict(output.extras)}
    return {
        "kind": "loglikelihood",
        "logprobs": list(output.logprobs),
        "token_counts": list(output.token_counts),
        "extras": dict(output.extras),
    }


def decode_output(raw: Mapping[str, Any]) -> Output:
    if raw["kind"] == "generate":
        return Generation(text=raw["text"], extras=raw.get("extras", {}))
    return Loglikelihood(
        logprobs=tuple(raw["logprobs"]), token_counts=tuple(raw["token_counts"]), extras=raw.get("extras", {})
    )


class ResponseCache:
    """Maps request keys to outputs, persisted under ``folder/<stem>*.jsonl``; ``folder=None`` keeps nothing.

    Every file of the stem is read (so a data-parallel run's per-rank files all count on resume);
    this process appends to ``<stem><suffix>.jsonl`` only.
    """

    def __init__(self, folder: Path | None, stem: str = "", suffix: str = "") -> None:
        self.path = folder / f"{stem}{suffix}.jsonl" if folder is not None else None
        self._entries: dict[str, Output] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self.skipped = 0
        """Lines that could not be read (torn by a crash, undecodable bytes, not a record)."""
        for path in sorted(folder.glob(f"{stem}*.jsonl")) if folder is not None and folder.is_dir() else []:
            with path.open("rb") as handle:  # bytes: one bad byte must not end the file's reading
                for line in handle:
                    if line.strip():
                        self._load_line(line)
        self.loaded = len(self._entries)

    def _load_line(self, line: bytes) -> None:
        try:
            record = json.loads(line.decode("utf-8"))
            if "record" in record:
                self._records[record["key"]] = dict(record["record"])
            else:
                self._entries[record["key"]] = decode_output(record["output"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            self.skipped += 1

    def get(self, key: str) -> Output | None:
        return self._entries.get(key)

    def get_record(self, key: str) -> dict[str, Any] | None:
        """A stored record (JSON object) other than a model output, e.g. a task's representations."""
        return self._records.get(key)

    def put_record(self, key: str, record: Mapping[str, Any]) -> None:
        self._records[key] = dict(record)
        self._append([{"key": key, "record": dict(record)}])

    def put_many(self, items: Sequence[tuple[str, Output]]) -> None:
        for key, output in items:
            self._entries[key] = output
        self._append([{"key": k, "output": encode_output(o)} for k, o in items])

    def _append(self, records: Sequence[Mapping[str, Any]]) -> None:
        if self.path is None or not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # ASCII lines: a crash mid-write cannot tear a multi-byte character
        lines = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in records)
        with self.path.open("a", encoding="utf-8") as handle:
            # a torn line from an earlier crash must not swallow the first new record
            if handle.tell() > 0 and not _ends_with_newline(self.path):
                handle.write("\n")
            handle.write(lines)
            handle.flush()  # in the OS's hands: survives kill -9 of this process


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
