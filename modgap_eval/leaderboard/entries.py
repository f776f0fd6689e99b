"""Turn a results file (reproduced) or a reported-numbers file into leaderboard entries.

``read_incoming`` validates the file against its schema and returns an ``IncomingRun``: the model's
identity, the run record and one entry per task and group, ready for ``merge``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from modgap_eval.analysis.schema import RepresentationSummary
from modgap_eval.errors import ConfigError
from modgap_eval.leaderboard.schema import (
    GapInterval,
    GroupEntry,
    ModelEntry,
    PairTable,
    Provenance,
    ReadingEntry,
    ReportedResults,
    ReportedScores,
    RepresentationEntry,
    RepresentationFacts,
    RunRecord,
    TaskEntry,
    TaskIdentity,
)
from modgap_eval.metrics import REPRESENTATION_METRICS, reportable_names
from modgap_eval.results import (
    RESULTS_FILE,
    GapStats,
    GroupReading,
    ModelRecord,
    ReadingResult,
    RunResults,
    TaskResult,
    read_results,
)
from modgap_eval.strict import validated

ID_DIGITS = 16


@dataclass(frozen=True)
class IncomingRun:
    """One validated input file, as leaderboard pieces."""

    source: str
    """The path it was read from (for messages)."""
    model: ModelEntry
    """The model's identity and facts, with empty tasks, groups and runs."""
    run: RunRecord
    tasks: tuple[TaskEntry, ...]
    groups: tuple[GroupEntry, ...]

    @property
    def finished(self) -> datetime:
        return parse_timestamp(self.run.finished_at, self.source)


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_DIGITS]


def model_id(provenance: Provenance, record: ModelRecord) -> str:
    """The model's identity: provenance, name, args, source and revision (another revision is another row)."""
    key = [provenance.value, record.name, sorted(record.args.items()), record.source, record.revision]
    return short_hash(json.dumps(key, ensure_ascii=False))


def parse_timestamp(value: str, where: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} is not an ISO date/time") from exc
    # Naive stamps are taken as UTC so that every comparison is well defined.
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=timezone.utc)


def results_location(path: Path, leaderboard_dir: Path) -> str:
    """Relative to the leaderboard's folder when both lie under the same parent (the repository), else absolute."""
    path = path.resolve()
    base = leaderboard_dir.resolve()
    if path.is_relative_to(base.parent):
        return Path(os.path.relpath(path, base)).as_posix()
    return path.as_posix()


def read_incoming(path: Path, leaderboard_dir: Path) -> IncomingRun:
    """Validate ``path`` (a results file, a run directory or a reported-numbers YAML/JSON) and convert it."""
    file = path / RESULTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"{path}: no such results file")
    if _looks_reported(file):
        incoming = _from_reported(file, leaderboard_dir)
    else:
        incoming = _from_results(file, read_results(file), leaderboard_dir)
    _require_finite(incoming)
    return incoming


def _require_finite(incoming: IncomingRun) -> None:
    """NaN and infinities have no JSON spelling: refuse them here, naming the file and the entry."""
    parts = [(f"task {e.task!r}", e) for e in incoming.tasks] + [(f"group {e.group!r}", e) for e in incoming.groups]
    for where, part in [*parts, ("the model record", incoming.model), ("the envelope", incoming.run)]:
        try:
            json.dumps(part.model_dump(mode="json"), allow_nan=False)
        except ValueError as exc:
            raise ConfigError(f"{incoming.source}: {where} holds a NaN or infinite number ({exc})") from exc


def _looks_reported(file: Path) -> bool:
    """A reported-numbers file says so in its first key; anything else must be a results file."""
    if file.suffix in (".yaml", ".yml"):
        return True
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False  # read_results reports the problem with its own message
    return isinstance(raw, dict) and "provenance" in raw


# ---- reproduced -------------------------------------------------------------------------------


def _from_results(file: Path, results: RunResults, leaderboard_dir: Path) -> IncomingRun:
    canonical = results.model_dump_json()
    run = RunRecord(
        id=short_hash(canonical),
        provenance=Provenance.REPRODUCED,
        finished_at=results.envelope.finished_at,
        results_path=results_location(file, leaderboard_dir),
        results_sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
        envelope=results.envelope,
    )
    incoming = IncomingRun(
        source=str(file),
        model=_model_entry(Provenance.REPRODUCED, results.model),
        run=run,
        tasks=tuple(_task_entry(name, task, run.id) for name, task in sorted(results.tasks.items())),
        groups=tuple(
            GroupEntry(
                run=run.id,
                **group.model_dump(include=set(GroupEntry.model_fields) - {"readings"}),
                readings={k: _reading(v) for k, v in group.readings.items()},
            )
            for _, group in sorted(results.groups.items())
        ),
    )
    parse_timestamp(run.finished_at, f"{file}: envelope.finished_at")  # fail now, naming the file
    return incoming


def _model_entry(provenance: Provenance, record: ModelRecord) -> ModelEntry:
    fields = record.model_dump()
    fields["args"] = dict(sorted(record.args.items()))
    return ModelEntry(id=model_id(provenance, record), provenance=provenance, **fields)


def _task_entry(name: str, task: TaskResult, run_id: str) -> TaskEntry:
    return TaskEntry(
        task=name,
        run=run_id,
        identity=TaskIdentity.model_validate(task, from_attributes=True),
        n_samples=task.n_samples,
        **task.gap.model_dump(include={"gap", "relative_gap"}),
        **_paired(task.gap),
        text=task.text.score,
        speech=task.speech.score,
        text_stderr=task.text.stderr,
        speech_stderr=task.speech.stderr,
        unextractable_text=task.text.unextractable,
        unextractable_speech=task.speech.unextractable,
        errors=len(task.errors),
        representation=_representation(task.representations) if task.representations else None,
        readings={k: _reading(v, primary=k == task.primary_reading) for k, v in task.readings.items()},
    )


def _paired(stats: GapStats | None) -> dict[str, Any]:
    """The ``PairedFacts`` of a results file's ``GapStats`` (none when the gap has no paired statistics)."""
    if stats is None:
        return {}
    return dict(
        stats.model_dump(include={"n_paired", "mcnemar_p"}),
        gap_ci=GapInterval.model_validate(stats, from_attributes=True),
        pairs=PairTable.model_validate(stats, from_attributes=True),
    )


def _reading(reading: ReadingResult | GroupReading, primary: bool = False) -> ReadingEntry:
    """A declared reading with its own paired statistics where the run computed them (a group's has none)."""
    stats = reading.stats if isinstance(reading, ReadingResult) else None
    return ReadingEntry(**reading.model_dump(include={"text", "speech", "gap"}), primary=primary, **_paired(stats))


def _representation(summary: RepresentationSummary) -> RepresentationEntry:
    facts = set(RepresentationFacts.model_fields)  # curves and how the states were taken
    return RepresentationEntry(
        **{m.name: getattr(summary, m.name) for m in REPRESENTATION_METRICS}, **summary.model_dump(include=facts)
    )


# ---- reported ---------------------------------------------------------------------------------


def read_reported(file: Path) -> ReportedResults:
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML/JSON ({exc})") from exc
    return validated(ReportedResults, raw, file)


def _from_reported(file: Path, leaderboard_dir: Path) -> IncomingRun:
    reported = read_reported(file)
    run = RunRecord(
        id=short_hash(reported.model_dump_json()),
        provenance=Provenance.REPORTED,
        finished_at=reported.published if len(reported.published) > 7 else reported.published + "-01",
        results_path=results_location(file, leaderboard_dir),
        results_sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
        citation=reported.citation,
        url=reported.url or None,
        note=reported.note or None,
    )
    incoming = IncomingRun(
        source=str(file),
        model=_model_entry(Provenance.REPORTED, reported.model),
        run=run,
        tasks=tuple(
            TaskEntry(
                task=name, n_samples=scores.n_samples, relative_gap=_relative_gap(scores), **_reported(scores, run.id)
            )
            for name, scores in sorted(reported.tasks.items())
        ),
        groups=tuple(
            GroupEntry(group=name, tasks=list(scores.tasks), n_paired=scores.n_samples, **_reported(scores, run.id))
            for name, scores in sorted(reported.groups.items())
        ),
    )
    parse_timestamp(run.finished_at, f"{file}: published")
    return incoming


def _reported(scores: ReportedScores, run_id: str) -> dict:
    """The fields a reported task and a reported group share."""
    return dict(
        run=run_id,
        text=scores.text,
        speech=scores.speech,
        gap=scores.gap,
        representation=_reported_representation(scores),
    )


def _relative_gap(scores: ReportedScores) -> float | None:
    if scores.gap is None or not scores.text:
        return None
    return scores.gap / scores.text


def _reported_representation(scores: ReportedScores) -> RepresentationEntry | None:
    values = RepresentationEntry(**{name: getattr(scores, name) for name in reportable_names()})
    return None if values == RepresentationEntry() else values
