"""Merge incoming runs into a leaderboard, and read/write ``leaderboard.json`` deterministically.

Rules, per (model, task) and (model, group) cell:
- the same run added again changes nothing (the file stays byte-identical);
- a newer run (by ``finished_at``) replaces the older and says so; an older one is skipped and says so;
- a reproduced run whose task definition (``TaskIdentity``), representation settings or group
  membership differs from another model's entry is refused, naming both; nothing is written.
Reported entries are never compared with reproduced ones: their task definitions are the publication's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from modgap_eval.errors import ConfigError
from modgap_eval.leaderboard.entries import IncomingRun, parse_timestamp
from modgap_eval.leaderboard.schema import (
    LEADERBOARD_SCHEMA_VERSION,
    GroupEntry,
    Leaderboard,
    ModelEntry,
    Provenance,
    TaskEntry,
    TaskIdentity,
)
from modgap_eval.strict import validated


class IncomparableRunError(ConfigError):
    """A run measures a task differently from the entries already on the leaderboard."""


@dataclass(frozen=True)
class MergeOutcome:
    board: Leaderboard
    messages: tuple[str, ...]
    changed: bool


def load_leaderboard(path: Path) -> Leaderboard:
    """Read ``leaderboard.json``; a missing file is an empty leaderboard."""
    if not path.exists():
        return Leaderboard()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(raw, dict) and raw.get("schema_version") != LEADERBOARD_SCHEMA_VERSION:
        raise ConfigError(
            f"{path}: schema_version {raw.get('schema_version')!r} is not supported"
            f" (expected {LEADERBOARD_SCHEMA_VERSION})"
        )
    return validated(Leaderboard, raw, path)


def dump_leaderboard(board: Leaderboard) -> str:
    """Canonical text: sorted keys, models in a fixed order, so equal boards give equal bytes."""
    ordered = board.model_copy(
        update={"models": sorted(board.models, key=lambda m: (m.provenance.value, m.name, m.id))}
    )
    return (
        json.dumps(ordered.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
        + "\n"
    )


def save_leaderboard(board: Leaderboard, path: Path) -> bool:
    """Write ``board`` to ``path`` unless the file already holds exactly these bytes; return whether it wrote."""
    return write_if_changed(path, dump_leaderboard(board))


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless ``path`` already holds exactly it (equal boards, equal bytes, untouched files)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves a half-written file
    return True


def merge_all(board: Leaderboard, runs: list[IncomingRun]) -> MergeOutcome:
    """Merge runs in order; any refusal raises before anything is returned (all or nothing)."""
    outcomes = []
    for run in runs:
        outcomes.append(merge_run(board, run))
        board = outcomes[-1].board
    return MergeOutcome(board, tuple(m for o in outcomes for m in o.messages), any(o.changed for o in outcomes))


def merge_run(board: Leaderboard, run: IncomingRun) -> MergeOutcome:
    existing = next((m for m in board.models if m.id == run.model.id), None)
    label = f"{run.model.name!r} ({run.model.provenance.value})"
    if existing is not None and run.run.id in existing.runs:
        return MergeOutcome(
            board, (f"unchanged: {run.source}: run {run.run.id} of {label} is already on the leaderboard",), False
        )
    if not run.tasks and not run.groups:
        return MergeOutcome(board, (f"unchanged: {run.source}: run {run.run.id} of {label} holds no task",), False)
    if run.model.provenance is Provenance.REPRODUCED:
        _check_comparable(board, run)

    model = existing.model_copy(deep=True) if existing is not None else run.model.model_copy(deep=True)
    messages: list[str] = []
    touched = False
    for entry in run.tasks + run.groups:
        touched |= _place(model, entry, run, messages)
    if not touched:
        return MergeOutcome(board, tuple(messages), False)
    model.runs[run.run.id] = run.run
    used = {e.run for e in model.tasks.values()} | {e.run for e in model.groups.values()}
    model.runs = {rid: rec for rid, rec in sorted(model.runs.items()) if rid in used}
    model.tasks = dict(sorted(model.tasks.items()))
    model.groups = dict(sorted(model.groups.items()))
    if _is_newest(model, run):  # facts about the model (parameters, details) follow its newest run
        model.parameters = run.model.parameters
        model.details = run.model.details
    others = [m for m in board.models if m.id != model.id]
    messages.insert(0, f"added: {run.source}: run {run.run.id} of {label}")
    return MergeOutcome(Leaderboard(models=others + [model]), tuple(messages), True)


def _place(model: ModelEntry, entry: TaskEntry | GroupEntry, run: IncomingRun, messages: list[str]) -> bool:
    """Put ``entry`` in its cell unless the cell holds a newer run; say what happened."""
    kind = "task" if isinstance(entry, TaskEntry) else "group"
    cells, name = getattr(model, f"{kind}s"), getattr(entry, kind)  # model.tasks and entry.task, or the groups'
    old = cells.get(name)
    if old is None:
        cells[name] = entry
        return True
    old_run = model.runs[old.run]
    old_key = (parse_timestamp(old_run.finished_at, old_run.results_path or old_run.id), old_run.id)
    new_key = (run.finished, run.run.id)  # the id breaks exact ties so the outcome never depends on order
    if new_key > old_key:
        cells[name] = entry
        messages.append(
            f"replaced: {kind} {name!r} of {model.name!r}: run {old_run.id} (finished {old_run.finished_at}) "
            f"by newer run {run.run.id} (finished {run.run.finished_at})"
        )
        return True
    messages.append(
        f"skipped: {kind} {name!r} of {model.name!r}: run {run.run.id} (finished {run.run.finished_at}) is older "
        f"than run {old_run.id} (finished {old_run.finished_at}) already on the leaderboard"
    )
    return False


def _is_newest(model: ModelEntry, run: IncomingRun) -> bool:
    return all(parse_timestamp(r.finished_at, r.id) <= run.finished for r in model.runs.values())


def _describe(identity: TaskIdentity | None) -> str:
    """A task identity in words; reported entries have none (their task is the publication's)."""
    return identity.describe() if identity is not None else "no task identity (a reported entry)"


def _check_comparable(board: Leaderboard, run: IncomingRun) -> None:
    problems: list[str] = []
    others = [m for m in board.models if m.provenance is Provenance.REPRODUCED and m.id != run.model.id]
    for entry in run.tasks:
        for other in others:
            held = other.tasks.get(entry.task)
            if held is None:
                continue
            if held.identity != entry.identity:
                problems.append(
                    f"task {entry.task!r}: this run has {_describe(entry.identity)}; "
                    f"model {other.name!r} on the leaderboard has {_describe(held.identity)}"
                )
                break
            mismatch = _representation_mismatch(entry, held)
            if mismatch:
                problems.append(f"task {entry.task!r}: {mismatch} (model {other.name!r} on the leaderboard)")
                break
    for group in run.groups:
        for other in others:
            held_group = other.groups.get(group.group)
            if held_group is not None and sorted(held_group.tasks) != sorted(group.tasks):
                problems.append(
                    f"group {group.group!r}: this run's tasks are {sorted(group.tasks)}; "
                    f"model {other.name!r} on the leaderboard has {sorted(held_group.tasks)}"
                )
                break
    if problems:
        raise IncomparableRunError(
            f"{run.source}: refused, not comparable with the leaderboard: "
            + "; ".join(problems)
            + ". Re-run with the same task definitions, or keep this run on another leaderboard (--leaderboard PATH)."
        )


def _representation_mismatch(new: TaskEntry, held: TaskEntry) -> str | None:
    if new.representation is None or held.representation is None:
        return None
    a, b = new.representation, held.representation
    if (a.layer_convention, a.centering) != (b.layer_convention, b.centering):
        return (
            f"representations taken as {a.layer_convention!r} with centering={a.centering}, "
            f"but as {b.layer_convention!r} with centering={b.centering} on the leaderboard"
        )
    return None
