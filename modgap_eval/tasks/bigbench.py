"""BIG-bench multiple-choice tasks as rows (``source.kind: bigbench``, ``path: <task name>``).

Data comes from the ``bigbench==1.0.0`` source distribution on PyPI (Apache-2.0; some tasks wrap
third-party data under their own licences): downloaded once, hash-checked, into ``cache_dir("bigbench")``,
never installed (it pulls TensorFlow); only the needed ``task.json`` files are extracted beside it.
The Hugging Face hub copies of BIG-bench are loading-script datasets that current ``datasets``
releases refuse to run, so the sdist is the one source, online or not; the same bytes give the same
items and ids everywhere.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.paths import cache_dir

BIGBENCH_VERSION = "1.0.0"
SDIST_NAME = f"bigbench-{BIGBENCH_VERSION}.tar.gz"
# Extracted together on the first scan of the archive (a scan reads all 358 MB): the tasks shipped in
# tasks/bigbench/. Any other task name is extracted on demand.
SHIPPED_TASKS = (
    "general_knowledge",
    "human_organs_senses",
    "misconceptions",
    "physics",
    "riddle_sense",
    "sports_understanding",
    "strategyqa",
)
TASK_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)?$")

Row = dict[str, Any]


def load_rows(path: str, max_items: int | None = None, seed: int | None = None) -> list[Row]:
    """Rows ``{"id", "question", "choices", "answer", "correct_choices"}`` of one BIG-bench task.

    ``path`` is the task name (``sub/task`` for subtasks). ``seed`` shuffles the items (so
    ``--limit`` and ``max_items`` take a fair sample); ``max_items`` keeps the first N after that.
    Only multiple-choice examples (with ``target_scores``) are kept; ids are the example's index
    in the task file, so they never depend on the shuffle.
    """
    if not TASK_NAME.match(path):
        raise ConfigError(f"BIG-bench task name {path!r} is not of the form 'task' or 'task/subtask'")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise ConfigError(f"BIG-bench {path}: max_items must be a positive integer, got {max_items!r}")
    task = read_task(path)
    rows = task_rows(path, task)
    if seed is not None:
        random.Random(seed).shuffle(rows)
    return rows[:max_items] if max_items is not None else rows


def task_rows(name: str, task: dict[str, Any]) -> list[Row]:
    """Convert a parsed task.json into rows; the correct option is the first with the top score."""
    examples = task.get("examples")
    if not isinstance(examples, list):
        raise DataError(f"BIG-bench {name}: task.json has no 'examples' list")
    rows = []
    for index, example in enumerate(examples):
        scores = example.get("target_scores")
        if not isinstance(scores, dict) or len(scores) < 2:
            continue
        choices = [_tidy(str(choice)) for choice in scores]
        values = [float(value) for value in scores.values()]
        best = max(values)
        if best <= 0:
            raise DataError(f"BIG-bench {name}: example {index} has no option with a positive target score")
        question = _tidy(str(example.get("input", "")))
        if not question:
            raise DataError(f"BIG-bench {name}: example {index} has an empty input")
        rows.append(
            {
                "id": f"{name.replace('/', '.')}-{index:05d}",
                "question": question,
                "choices": choices,
                "answer": values.index(best),
                "correct_choices": [choice for choice, value in zip(choices, values) if value == best],
            }
        )
    if not rows:
        raise DataError(f"BIG-bench {name}: no multiple-choice examples (target_scores) in task.json")
    return rows


def read_task(name: str) -> dict[str, Any]:
    """The parsed task.json of ``name``, extracting it from the cached sdist on first use."""
    path = _task_file(name)
    if not path.is_file():
        extract_tasks({name, *SHIPPED_TASKS})
    if not path.is_file():
        raise DataError(f"BIG-bench task {name!r} not found in {SDIST_NAME} (benchmark_tasks/{name}/task.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg}); delete it to extract again") from exc


def extract_tasks(names: set[str]) -> None:
    """Extract ``benchmark_tasks/<name>/task.json`` for each name from the sdist (one archive scan)."""
    archive = sdist_path()
    print(f"modgap-eval: extracting {len(names)} BIG-bench task(s) from {archive.name} (once)", file=sys.stderr)
    wanted = {f"bigbench/benchmark_tasks/{name}/task.json": name for name in names}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                inner = member.name.partition("/")[2]  # drop the top folder "bigbench-1.0.0/"
                if member.isfile() and inner in wanted:
                    handle = tar.extractfile(member)
                    if handle is None:
                        continue
                    target = _task_file(wanted[inner])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    tmp = target.with_suffix(".tmp")
                    tmp.write_bytes(handle.read())
                    tmp.replace(target)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {archive} ({exc}); delete it to download again") from exc


SDIST_SHA256 = "1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2"
"""sha256 of bigbench-1.0.0.tar.gz on PyPI: the download is checked against it."""
SIMPLE_INDEX = "https://pypi.org/simple/bigbench/"


def sdist_path() -> Path:
    """The cached ``bigbench`` sdist, fetched from PyPI's simple index on first use (about 358 MB).

    A plain download, hash-checked: ``pip download`` would run the sdist's setup.py to read its
    metadata (and newer pips refuse its direct-URL dependency), and nothing from it needs to run.
    """
    import hashlib
    import urllib.parse
    import urllib.request

    folder = cache_dir("bigbench")
    archive = folder / SDIST_NAME
    if archive.is_file():
        return archive
    index = os.environ.get("MODGAP_BIGBENCH_INDEX", SIMPLE_INDEX)
    print(
        f"modgap-eval: downloading the BIG-bench {BIGBENCH_VERSION} sdist (~358 MB, once) into {folder}",
        file=sys.stderr,
    )
    tmp = archive.with_suffix(".part")
    try:
        page = urllib.request.urlopen(index, timeout=60).read().decode("utf-8", "replace")
        links = re.findall(rf'href="([^"]*/{re.escape(SDIST_NAME)}[^"]*)"', page)
        if not links:
            raise OSError(f"{SDIST_NAME} is not listed at {index}")
        url = urllib.parse.urljoin(index, links[0].split("#")[0])
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=120) as response, tmp.open("wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:  # URLError, timeouts and disk errors are all OSErrors
        tmp.unlink(missing_ok=True)
        raise DataError(
            f"cannot download the BIG-bench sdist from {index} ({exc}). Offline, place {SDIST_NAME} in {folder}"
        ) from exc
    if digest.hexdigest() != SDIST_SHA256:
        tmp.unlink(missing_ok=True)
        raise DataError(f"the downloaded {SDIST_NAME} has sha256 {digest.hexdigest()}, expected {SDIST_SHA256}")
    tmp.replace(archive)
    return archive


def _tidy(text: str) -> str:
    """Squeeze runs of spaces, tabs and no-break spaces (kept newlines matter to some tasks)."""
    return re.sub(r"[^\S\n]+", " ", text).strip()


def _task_file(name: str) -> Path:
    return cache_dir("bigbench") / "tasks" / name / "task.json"


def is_extracted(name: str) -> bool:
    """Whether the task's task.json is already on disk (reading it needs no download)."""
    return bool(TASK_NAME.match(name)) and _task_file(name).is_file()
