"""Find task and group YAML files, validate them strictly, and load a task's paired samples.

Every YAML under the built-in ``tasks/`` folder and each ``--include_path`` is parsed within fixed
bounds by a safe loader (``safe_yaml``: no tags execute code) and validated; any problem is a
ConfigError naming the file and the field. Nothing is skipped silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modgap_eval.errors import ConfigError, DataError, RegistryError, did_you_mean
from modgap_eval.paths import builtin_tasks_dir
from modgap_eval.scoring import SCORERS
from modgap_eval.scoring.base import Scorer
from modgap_eval.tasks.rows import audio_digest, column, sample_fields
from modgap_eval.tasks.safe_yaml import one_line, read_yaml, shorten
from modgap_eval.tasks.schema import GroupSpec, SourceKind, TaskSpec, TTSSpec
from modgap_eval.tasks.sources import Row, hf_location, load_rows, resolve_local, rows_available
from modgap_eval.types import Audio, Sample


@dataclass(frozen=True)
class LoadedTask:
    spec: TaskSpec
    path: Path
    yaml_text: str

    @property
    def name(self) -> str:
        return self.spec.task

    def make_scorer(self) -> Scorer:
        return build_scorer(self.spec, self.path)


@dataclass(frozen=True)
class LoadedGroup:
    spec: GroupSpec
    path: Path

    @property
    def name(self) -> str:
        return self.spec.group


@dataclass(frozen=True)
class TaskIndex:
    tasks: dict[str, LoadedTask]
    groups: dict[str, LoadedGroup]

    def select(self, selection: str | Sequence[str]) -> list[str]:
        """Expand ``all`` or a comma list of task/group names into task names, in order, once each."""
        names = [n.strip() for n in (selection.split(",") if isinstance(selection, str) else selection) if n.strip()]
        if not names:
            raise ConfigError("--tasks is empty")
        out: list[str] = []
        for name in names:
            for task in sorted(self.tasks) if name == "all" else self._expand(name, ()):
                if task not in out:
                    out.append(task)
        return out

    def _expand(self, name: str, seen: tuple[str, ...]) -> list[str]:
        if name in self.tasks:
            return [name]
        if name in self.groups:
            if name in seen:
                raise ConfigError(f"{self.groups[name].path}: group cycle {' -> '.join(seen + (name,))}")
            return [t for member in self.groups[name].spec.tasks for t in self._expand(member, seen + (name,))]
        known = sorted(self.tasks) + sorted(self.groups)
        raise RegistryError(f"unknown task or group {name!r}{did_you_mean(name, known)} (see 'modgap-eval ls tasks')")

    def group_members(self, group: str) -> list[str]:
        return self._expand(group, ())


def parse_yaml_file(path: Path) -> LoadedTask | LoadedGroup:
    """Parse and validate one task or group YAML; errors name the file and the field.

    Everything that needs no data is checked here (so ``validate`` and a run both do it): bounded
    YAML, the schema (templates, credential-free scorer args), the scorer and where the source lives.
    """
    text, raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'task' or 'group' key")
    if "task" not in raw and "group" not in raw:
        raise ConfigError(f"{path}: neither 'task' nor 'group' is set")
    try:
        if "task" not in raw:
            return LoadedGroup(GroupSpec.model_validate(raw), path)
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(map(str, e['loc'])) or '<root>'}': {shorten(e['msg'])}" for e in exc.errors()
        )
        raise ConfigError(one_line(f"{path}: {problems}")) from exc
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    loaded = LoadedTask(spec, path, text)
    build_scorer(spec, path)  # unknown scorer, bad args or wrong output type fail at load time
    check_task_paths(loaded)
    return loaded


def check_task_paths(task: LoadedTask, data_dir: Path | None = None) -> None:
    """The task's own paths (source file or dataset folder, TTS voice file) lie inside the task folder (or data dir)."""
    spec = task.spec.source
    where = str(task.path)
    if spec.kind in (SourceKind.JSONL, SourceKind.CSV, SourceKind.PARQUET):
        resolve_local(spec.path, task.path.parent, data_dir, where, must_exist=False)
    elif spec.kind is SourceKind.HF:
        hf_location(spec, task.path.parent, data_dir, where)
    tts_spec(task, data_dir)


def tts_spec(task: LoadedTask, data_dir: Path | None = None) -> TTSSpec | None:
    """The task's TTS settings with a voice *file* resolved inside the task folder (or data dir).

    A voice name (``en_US-joe-medium``, ``slt``) passes unchanged; anything path-like is a file the
    task would make the engine read, so it obeys the task-folder rule like every other path. The
    engine is built once here, so an unknown engine, a rate out of range or a bad voice name fails
    at validate, naming the file (finding the engine's program is the availability check's job).
    """
    tts = task.spec.speech.tts
    if tts is None:
        return None
    voice = tts.voice or ""
    if any(mark in voice for mark in ("/", "\\", "~")) or voice.endswith((".onnx", ".json")):
        field = "speech.tts.voice"
        path = resolve_local(voice, task.path.parent, data_dir, str(task.path), must_exist=False, field=field)
        tts = tts.model_copy(update={"voice": str(path)})
    from modgap_eval.tasks.tts import TTS_ENGINES

    try:
        TTS_ENGINES.get(tts.engine)(tts)
    except (ConfigError, RegistryError) as exc:
        raise ConfigError(one_line(f"{task.path}: field 'speech.tts': {exc}")) from exc
    return tts


def build_scorer(spec: TaskSpec, path: Path) -> Scorer:
    try:
        scorer_cls = SCORERS.get(spec.scorer.name)
    except RegistryError as exc:
        raise ConfigError(f"{path}: field 'scorer.name': {exc}") from exc
    if scorer_cls.output_type is not spec.output_type:
        raise ConfigError(
            f"{path}: field 'scorer.name': {spec.scorer.name!r} scores output_type "
            f"{scorer_cls.output_type.value!r}, but the task declares {spec.output_type.value!r}"
        )
    if scorer_cls.needs_choices and (spec.fields.choices is None or spec.fields.answer is None):
        raise ConfigError(
            f"{path}: field 'fields.choices': scorer {spec.scorer.name!r} needs fields.choices and fields.answer"
        )
    if scorer_cls.needs_references and spec.fields.references is None:
        raise ConfigError(f"{path}: field 'fields.references': scorer {spec.scorer.name!r} needs reference answers")
    try:
        return scorer_cls(**spec.scorer.args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(one_line(f"{path}: field 'scorer.args': {shorten(str(exc))}")) from exc
    except ConfigError as exc:
        raise ConfigError(one_line(f"{path}: field 'scorer.args': {exc}")) from exc


def discover(include_paths: Sequence[Path] = (), builtin: bool = True) -> TaskIndex:
    """Validate every YAML in the built-in tasks folder and the include paths (files or folders)."""
    files: dict[Path, Path] = {}  # by real path: the built-in folder named again with --include_path is read once
    for root in ([builtin_tasks_dir()] if builtin else []) + [Path(p) for p in include_paths]:
        if not (root.is_file() or root.is_dir()):
            raise ConfigError(f"--include_path {root}: no such file or folder")
        found = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        for path in found:
            files.setdefault(path.resolve(), path)
    tasks: dict[str, LoadedTask] = {}
    groups: dict[str, LoadedGroup] = {}
    for path in files.values():
        item = parse_yaml_file(path)
        other = tasks.get(item.name) or groups.get(item.name)
        if other is not None:
            raise ConfigError(f"{path}: name {item.name!r} is already defined in {other.path}")
        if isinstance(item, LoadedTask):
            tasks[item.name] = item
        else:
            groups[item.name] = item
    index = TaskIndex(tasks, groups)
    for group in groups.values():
        for member in group.spec.tasks:
            try:
                index.select([member])
            except (RegistryError, ConfigError) as exc:
                raise ConfigError(f"{group.path}: field 'tasks': {exc}") from exc
    return index


# ---------------------------------------------------------------- samples


def build_samples(
    task: LoadedTask, rows: Sequence[Row], data_dir: Path | None, strict_audio: bool = False
) -> list[dict[str, Any]]:
    """Every row-level check, shared by ``validate`` and a run: one dict of Sample fields per row.

    Ids, columns, answers in range, placeholders, rendered length, and every audio path (inside the
    task folder or data dir). ``strict_audio`` (validate) also requires each audio file to exist; a
    run leaves a missing clip to the decoder so that ``--on_error skip`` can skip just that sample.
    """
    spec = task.spec
    where_task = f"task {spec.task} ({task.path})"
    id_column = spec.fields.id
    drafts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        sample_id = str(column(row, id_column, "fields.id", f"{where_task}, row {index}")) if id_column else str(index)
        shown = sample_id if sample_id.isprintable() and len(sample_id) <= 80 else repr(shorten(sample_id, 80))
        where = f"{where_task}, sample {shown}"
        if sample_id in seen:
            raise DataError(f"{where}: duplicate sample id")
        seen.add(sample_id)
        drafts.append(dict(id=sample_id, **sample_fields(spec, task.path.parent, row, where, data_dir, strict_audio)))
    return drafts


def _rows(task: LoadedTask, data_dir: Path | None) -> list[Row]:
    spec = task.spec
    where_task = f"task {spec.task} ({task.path})"
    rows = load_rows(spec.source, task.path.parent, data_dir, spec.speech.column, where_task)
    if not rows:
        raise DataError(f"{where_task}: the source has no rows")
    return rows


def check_task(task: LoadedTask, data_dir: Path | None = None) -> str | None:
    """Run every check a run makes before model work, without network, TTS or the model.

    Returns None when the task's data was read and every row passed; otherwise the reason the
    rows could not be read here (hub data or a download; the run checks them when it loads them).
    """
    check_task_paths(task, data_dir)
    reason = rows_available(task.spec.source, task.path.parent, data_dir, f"task {task.name} ({task.path})")
    if reason is not None:
        return reason
    build_samples(task, _rows(task, data_dir), data_dir, strict_audio=True)
    return None


def load_samples(
    task: LoadedTask, data_dir: Path | None = None, limit: int | None = None, progress: bool = False
) -> list[Sample]:
    """Load the task's rows and turn each into a paired Sample (TTS synthesised and cached if declared)."""
    check_task_paths(task, data_dir)
    drafts = build_samples(task, _rows(task, data_dir)[:limit], data_dir)  # [:None] keeps every row
    tts = tts_spec(task, data_dir)  # None exactly when the task declares no TTS
    if tts is not None:
        from modgap_eval.tasks.tts import speak

        paths = speak([d["text"] for d in drafts], tts, progress=progress)
        for draft, path in zip(drafts, paths):
            draft["audio"] = Audio(path=path)
    return [Sample(**draft) for draft in drafts]


def content_hash(task: LoadedTask, samples: Sequence[Sample]) -> str:
    """sha256 over the YAML and every sample's text, targets and audio bytes."""
    digest = hashlib.sha256(task.yaml_text.encode("utf-8"))
    for sample in samples:
        fields = [sample.id, sample.text, *sample.references, *sample.choices, str(sample.answer_index)]
        digest.update("\x1f".join(fields).encode("utf-8"))
        digest.update(audio_digest(sample.audio).encode("ascii"))
    return digest.hexdigest()
