"""Can a task's data and speech be had? Checked for every selected task before any synthesis
or model work (issue 15 #8), cheaply: files are looked for, nothing is downloaded or synthesised.

``unavailable_reason`` returns None when the task can run, else one line saying what is missing and
how to provide it. The runner lists such tasks as not run under ``--tasks all`` and refuses a task
named explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

from modgap_eval.errors import ConfigError, DataError, DependencyError, RegistryError
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.tasks.schema import SourceKind
from modgap_eval.tasks.sources import resolve_local, rows_available


def _switched_on(*variables: str) -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in variables)


def unavailable_reason(task: LoadedTask, data_dir: Path | None) -> str | None:
    """None when ``task`` can run here; otherwise why not (data or TTS engine)."""
    return _data_problem(task, data_dir) or _speech_problem(task)  # a problem is never an empty line


def _data_problem(task: LoadedTask, data_dir: Path | None) -> str | None:
    source, folder = task.spec.source, task.path.parent
    try:  # the same resolution as loading: a local file or folder, or a mirror in any accepted layout
        if source.kind in (SourceKind.JSONL, SourceKind.CSV, SourceKind.PARQUET):
            resolve_local(source.path, folder, data_dir, f"{task.path}: field 'source.path'")
        if rows_available(source, folder, data_dir, str(task.path)) is None:
            return None
    except (ConfigError, DataError) as exc:
        return str(exc)
    if source.kind is SourceKind.HF:
        return _hub_problem(source.path, source.name, source.split or "")
    return _bigbench_problem(source.path)


def _hub_problem(path: str, name: str | None, split: str) -> str | None:
    if not _switched_on("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "MODGAP_OFFLINE"):
        return None  # the hub is asked at load time, still before any model work
    mirror = f"<data_dir>/{path}/{name or 'default'}/{split}.parquet (or the hub's own shard files)"
    try:
        from huggingface_hub import constants
    except ImportError:
        return f"hub dataset {path!r} needs the 'datasets' extra, or an offline mirror {mirror}"
    if (Path(constants.HF_HUB_CACHE) / f"datasets--{path.replace('/', '--')}").is_dir():
        return None
    return (
        f"hub dataset {path!r} is not in the local hub cache and the hub is offline; mirror it as {mirror} (--data_dir)"
    )


def _bigbench_problem(name: str) -> str | None:
    from modgap_eval.paths import cache_dir
    from modgap_eval.tasks.bigbench import SDIST_NAME

    # the sdist comes from PyPI, not the hub: only MODGAP_OFFLINE says PyPI cannot be reached
    if (cache_dir("bigbench") / SDIST_NAME).is_file() or not _switched_on("MODGAP_OFFLINE"):
        return None
    return f"BIG-bench data is not cached and MODGAP_OFFLINE is set; place {SDIST_NAME} in {cache_dir('bigbench')}"


def _speech_problem(task: LoadedTask) -> str | None:
    tts = task.spec.speech.tts
    if tts is None:
        return None
    from modgap_eval.tasks.tts import TTS_ENGINES

    try:
        TTS_ENGINES.get(tts.engine)(tts).version()  # finds the engine's program or package and its voice
    except (DependencyError, ConfigError, DataError, RegistryError, OSError) as exc:
        return f"TTS engine {tts.engine!r} is not usable: {exc}"
    return None
