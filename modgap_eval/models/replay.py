"""``--model replay``: score responses made elsewhere, without running (or loading) any model.

``--model_args path=FILE.jsonl`` reads one JSON object per line::

    {"task": "voicebench_mmsu", "id": "42", "modality": "text" | "speech", "response": "..."}

``id`` is the task's sample id (its id column, or the row's index in the split when the task has
none, as VoiceBench's rows do). ``path=DIR`` reads VoiceBench's own output files instead
(``main.py`` writes ``<model>-<subset>-<split>-<audio|text>.jsonl``, one row per dataset row in
dataset order, with the dataset's columns and ``response``); a task whose split joins several
(``biology+business+...``) reads one file per part, in that order.

The runner asks ``replay_outputs`` instead of building prompts, so no audio is decoded. A sample
with no recorded response is an error naming task, id and modality, or under ``--on_error skip``
is left out of both modalities and counted with the task's errors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.models.args import ModelArgs, validate_args
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.types import GenerateRequest, Generation, Modality, Sample

_VOICEBENCH_MODALITY = {Modality.TEXT: "text", Modality.SPEECH: "audio"}


class ReplayArgs(ModelArgs):
    path: str = ""
    """A JSONL file of responses, or a folder of VoiceBench's own output files."""


class ReplayModel(Model):
    """Answers every request from a recorded file; see the module docstring for the formats."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.GENERATE})

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines: dict[tuple[str, str, str], str] | None = None
        self._digest = _digest(path)

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> ReplayModel:
        options = validate_args(ReplayArgs, args, "replay")
        if not options.path:
            raise ConfigError("--model replay needs --model_args path=FILE.jsonl (or a folder of VoiceBench outputs)")
        path = Path(options.path).expanduser()
        if not path.exists():
            raise ConfigError(f"--model_args path: {path} does not exist")
        return cls(path)

    def info(self) -> ModelInfo:
        kind = "voicebench outputs" if self.path.is_dir() else "replay jsonl"
        return ModelInfo(
            name="replay",
            args={"path": str(self.path)},
            source=f"{kind}: {self.path}",
            revision=self._digest,
            details={"format": kind, "sha256": self._digest},
        )

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        raise ConfigError("model 'replay' answers by task and sample id only; this run path does not provide them")

    def responses_for(self, task: Any, samples: Sequence[Sample], modality: Modality) -> dict[str, str | None]:
        """Each sample's recorded response (None where there is none) for ``task`` in ``modality``."""
        if self.path.is_dir():
            recorded = self._voicebench_rows(task, modality)
        else:
            lines = self._jsonl()
            recorded = {
                sample_id: text
                for (name, sample_id, mod), text in lines.items()
                if name == task.name and mod == modality.value
            }
        return {s.id: recorded.get(s.id) for s in samples}

    def _jsonl(self) -> dict[tuple[str, str, str], str]:
        if self._lines is None:
            self._lines = {}
            with self.path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    where = f"{self.path}:{number}"
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{where}: not JSON ({exc.msg})") from exc
                    if not isinstance(row, dict) or set(row) < {"task", "id", "modality", "response"}:
                        raise DataError(f"{where}: need the keys task, id, modality, response")
                    if row["modality"] not in ("text", "speech"):
                        raise DataError(f"{where}: modality must be 'text' or 'speech', not {row['modality']!r}")
                    if not isinstance(row["response"], str):
                        raise DataError(f"{where}: response must be a string")
                    key = (str(row["task"]), str(row["id"]), row["modality"])
                    if key in self._lines:
                        raise DataError(f"{where}: a second response for task {key[0]}, id {key[1]}, {key[2]}")
                    self._lines[key] = row["response"]
        return self._lines

    def _voicebench_rows(self, task: Any, modality: Modality) -> dict[str, str]:
        source = task.spec.source
        id_column = task.spec.fields.id
        recorded: dict[str, str] = {}
        index = 0
        for part in (source.split or "test").split("+"):
            suffix = f"-{source.name or 'default'}-{part}-{_VOICEBENCH_MODALITY[modality]}.jsonl"
            found = sorted(p for p in self.path.glob("*.jsonl") if p.name.endswith(suffix))
            if len(found) > 1:  # api_judge.py's result-<file> copies the responses: the plain file is the source
                found = [p for p in found if not p.name.startswith("result-")] or found
            if len(found) > 1:
                raise DataError(
                    f"{self.path}: several VoiceBench output files end with {suffix}: "
                    f"{[p.name for p in found]}; keep one per subset and modality"
                )
            if not found:
                return {}
            with found[0].open(encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        continue
                    row = json.loads(line)
                    sample_id = str(row[id_column]) if id_column and id_column in row else str(index)
                    recorded[sample_id] = str(row.get("response", ""))
                    index += 1
        return recorded


def _digest(path: Path) -> str:
    """A content hash of the recorded responses (recorded as the model's revision; keys the cache)."""
    digest = hashlib.sha256()
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for file in files:
        digest.update(file.name.encode("utf-8"))
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def replay_outputs(
    model: ReplayModel, task: Any, samples: Sequence[Sample], modality: Modality, on_error: str, errors: dict[str, str]
) -> dict[str, Generation]:
    """The runner's replay path: recorded responses as generations; a missing one raises or is skipped."""
    outputs: dict[str, Generation] = {}
    for sample_id, text in model.responses_for(task, [s for s in samples if s.id not in errors], modality).items():
        if text is None:
            message = f"replay: no response for task {task.name}, id {sample_id}, modality {modality.value}"
            if on_error == "raise":
                raise DataError(f"{message} (in {model.path}; --on_error skip leaves it out and counts it)")
            errors[sample_id] = message
            continue
        outputs[sample_id] = Generation(text=text)
    return {k: v for k, v in outputs.items() if k not in errors}
