"""BIG-bench rows from a (small, hand-made) sdist archive laid out like bigbench-1.0.0.tar.gz."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.tasks import bigbench

TASK = {
    "name": "toy",
    "examples": [
        {"input": "How many legs do horses have?", "target_scores": {"two": 0, "four": 1, "six": 0}},
        {"input": "Capital  of\u00a0France?", "target_scores": {"Paris": 1, "Rome": 0}},
        {"input": "Free text only", "target": "no scores"},
        {"input": "Two right answers", "target_scores": {"a": 0, "b": 1, "c": 1}},
    ],
}


def write_sdist(cache: Path, tasks: dict[str, dict]) -> Path:
    folder = cache / "bigbench"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / bigbench.SDIST_NAME
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in tasks.items():
            data = json.dumps(content).encode()
            info = tarfile.TarInfo(f"bigbench-1.0.0/bigbench/benchmark_tasks/{name}/task.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    write_sdist(
        tmp_path / "cache",
        {
            "toy": TASK,
            "nested/sub": TASK,
            "general_knowledge": TASK,
            "free_only": {"examples": [{"input": "x", "target": "y"}]},
        },
    )
    return tmp_path / "cache"


def test_rows_from_task_json(cache):
    rows = bigbench.load_rows("toy")
    assert rows == [
        {
            "id": "toy-00000",
            "question": "How many legs do horses have?",
            "choices": ["two", "four", "six"],
            "answer": 1,
            "correct_choices": ["four"],
        },
        {
            "id": "toy-00001",
            "question": "Capital of France?",
            "choices": ["Paris", "Rome"],
            "answer": 0,
            "correct_choices": ["Paris"],
        },
        {
            "id": "toy-00003",
            "question": "Two right answers",
            "choices": ["a", "b", "c"],
            "answer": 1,
            "correct_choices": ["b", "c"],
        },
    ]
    assert (cache / "bigbench" / "tasks" / "toy" / "task.json").is_file()
    # shipped tasks present in the archive were extracted in the same scan; others were not
    assert (cache / "bigbench" / "tasks" / "general_knowledge" / "task.json").is_file()
    assert not (cache / "bigbench" / "tasks" / "free_only").exists()


def test_seeded_shuffle_and_max_items_keep_ids(cache):
    shuffled = bigbench.load_rows("toy", seed=1)
    assert sorted(r["id"] for r in shuffled) == ["toy-00000", "toy-00001", "toy-00003"]
    assert shuffled == bigbench.load_rows("toy", seed=1)
    assert bigbench.load_rows("toy", seed=1, max_items=2) == shuffled[:2]
    assert bigbench.load_rows("nested/sub")[0]["id"] == "nested.sub-00000"


def test_reads_extracted_file_without_the_archive(cache):
    bigbench.load_rows("toy")
    (cache / "bigbench" / bigbench.SDIST_NAME).unlink()
    assert len(bigbench.load_rows("toy")) == 3


def test_errors(cache):
    with pytest.raises(DataError, match="not found in bigbench-1.0.0.tar.gz"):
        bigbench.load_rows("missing_task")
    with pytest.raises(DataError, match="no multiple-choice examples"):
        bigbench.load_rows("free_only")
    with pytest.raises(ConfigError, match="task name"):
        bigbench.load_rows("../etc")
    with pytest.raises(ConfigError, match="max_items"):
        bigbench.load_rows("toy", max_items=0)


def test_shipped_task_list_matches_yaml_folder():
    import yaml

    from modgap_eval.paths import BUILTIN_TASKS_DIR

    names = set()
    for path in (BUILTIN_TASKS_DIR / "bigbench").glob("*.yaml"):
        spec = yaml.safe_load(path.read_text())
        if "task" in spec:
            names.add(spec["source"]["path"])
    assert names == set(bigbench.SHIPPED_TASKS)


@pytest.mark.slow
@pytest.mark.skipif(
    not (Path.home() / ".cache/modgap_eval/bigbench" / bigbench.SDIST_NAME).is_file(),
    reason="needs the real bigbench sdist in ~/.cache/modgap_eval (downloaded by the first real run)",
)
def test_real_sdist_general_knowledge(monkeypatch, tmp_path):
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path))
    (tmp_path / "bigbench").mkdir()
    (tmp_path / "bigbench" / bigbench.SDIST_NAME).symlink_to(
        Path.home() / ".cache/modgap_eval/bigbench" / bigbench.SDIST_NAME
    )
    rows = bigbench.load_rows("general_knowledge")
    assert len(rows) == 70
    assert rows[0]["question"] == "How many legs do horses have?" and rows[0]["choices"][rows[0]["answer"]] == "four"
