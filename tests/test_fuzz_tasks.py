"""Property-based fuzzing of task files (hypothesis): hostile mutations of the shipped example tasks.

Each example takes a shipped task (two local examples and a generated one), mutates its keys,
values, paths, templates and data rows, then its bytes (stray bytes, an alias bomb, truncation),
and loads it as ``validate`` and a run do. The property: a one-line ModgapError, or a task that
validates and loads; never another exception, and never a file outside the task folder opened
(the "open" audit event sees every Python-level open). Bounded: derandomized, a few hundred
examples, well under a minute.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from modgap_eval.errors import ModgapError  # noqa: E402
from modgap_eval.paths import BUILTIN_TASKS_DIR  # noqa: E402
from modgap_eval.tasks.loader import LoadedTask, check_task, content_hash, load_samples, parse_yaml_file  # noqa: E402
from modgap_eval.tasks.schema import SourceKind  # noqa: E402
from tests.tasks.audit import recording_opens  # noqa: E402

EXAMPLES = BUILTIN_TASKS_DIR / "examples"
BASES = {  # task yaml -> its data file (None: generated in code)
    "arithmetic_mc.yaml": "arithmetic_mc.jsonl",
    "arithmetic_open.yaml": "arithmetic_open.jsonl",
    "../generated/generated_arithmetic.yaml": None,
}


@pytest.fixture(scope="module")
def arena(tmp_path_factory) -> dict[str, Any]:
    """A task folder (copies of the examples and their audio) and, beside it, files no task may open."""
    root = tmp_path_factory.mktemp("fuzz")
    task = root / "task"
    shutil.copytree(EXAMPLES / "audio", task / "audio")
    outside = root / "outside"
    outside.mkdir()
    shutil.copy(EXAMPLES / "audio" / "mc00.flac", outside / "secret.flac")
    shutil.copy(EXAMPLES / "arithmetic_mc.jsonl", outside / "secret.jsonl")
    (outside / "secret.yaml").write_text((EXAMPLES / "arithmetic_mc.yaml").read_text())
    bases = {}
    for name, data in BASES.items():
        spec = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
        rows = [json.loads(line) for line in (EXAMPLES / data).read_text().splitlines()] if data else []
        bases[name] = (spec, rows)
    return {"root": root, "task": task, "outside": outside, "bases": bases}


HOSTILE: list[Any] = [
    "../outside/secret.jsonl",
    "../outside/secret.flac",
    "/etc/passwd",
    "OUTSIDE_ABS",
    "audio",
    "audio/",
    "audio/mc00.flac",
    "audio/../../outside/secret.flac",
    "data.jsonl",
    "./arithmetic_mc.jsonl",
    "~/.ssh/id_rsa",
    "{choice.__class__.__mro__}",
    "{choice:>300000000}",
    "{question!r}",
    "{}",
    "{0}",
    "{question}",
    "{choices}",
    "{letter",
    "}",
    "{content}",
    "{content}{content}",
    "{{content}}",
    "http://127.0.0.1:9/v1",
    "HF_TOKEN",
    "hf",
    "jsonl",
    "csv",
    "parquet",
    "generated",
    "bigbench",
    "arithmetic",
    "physics",
    "llm_judge",
    "qa_pedant",
    "exact_match",
    "mc_loglikelihood",
    "loglikelihood",
    "generate",
    "org/set",
    "../..",
    "a\x00b",
    "two\nlines",
    "",
    0,
    -3,
    1,
    27,
    2**70,
    1.5,
    float("nan"),
    True,
    None,
    [],
    {},
    ["a", "b"],
    {"k": "v"},
    "LONG",
]
KEYS = [
    "task",
    "version",
    "source",
    "source.kind",
    "source.path",
    "source.args",
    "source.args.count",
    "source.args.n_choices",
    "source.name",
    "source.split",
    "fields",
    "fields.text",
    "fields.id",
    "fields.choices",
    "fields.answer",
    "fields.references",
    "fields.metadata",
    "fields.choice_format",
    "speech",
    "speech.column",
    "speech.tts",
    "prompt",
    "prompt.template",
    "prompt.system",
    "output_type",
    "continuations",
    "generation.max_new_tokens",
    "generation.stop",
    "scorer",
    "scorer.name",
    "scorer.args",
    "scorer.args.base_url",
    "scorer.args.api_key_env",
    "scorer.args.mode",
    "metadata",
    "metadata.x",
    "bogus",
]
COLUMNS = ["id", "question", "choices", "answer", "audio", "bogus"]

values = st.recursive(
    st.sampled_from(HOSTILE) | st.text(max_size=20) | st.integers(-5, 40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(COLUMNS + ["path", "bytes"]), inner, max_size=3)
    ),
    max_leaves=6,
)
edits = st.lists(st.tuples(st.sampled_from(["set", "delete"]), st.sampled_from(KEYS), values), max_size=4)
row_edits = st.lists(
    st.tuples(st.integers(0, 11), st.sampled_from(COLUMNS), st.sampled_from(["set", "delete"]), values), max_size=3
)
byte_edits = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.integers(0, 2000), st.binary(min_size=1, max_size=6)),
        st.tuples(st.just("truncate"), st.integers(0, 2000), st.just(b"")),
        st.tuples(st.just("bomb"), st.integers(0, 0), st.just(b"")),
        st.tuples(st.just("anchor"), st.integers(0, 0), st.just(b"")),
    ),
    max_size=2,
)

BOMB = "bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def _resolve(value: Any, arena: dict[str, Any]) -> Any:
    if value == "OUTSIDE_ABS":
        return str(arena["outside"] / "secret.flac")
    if value == "LONG":
        return "x" * 3000
    if isinstance(value, list):
        return [_resolve(v, arena) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, arena) for k, v in value.items()}
    return value


def _apply(spec: dict[str, Any], op: str, key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node: Any = spec
    for part in parents:
        if not isinstance(node, dict):
            return
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    if not isinstance(node, dict):
        return
    if op == "delete":
        node.pop(last, None)
    else:
        node[last] = value


def _bytes(text: bytes, op: str, at: int, data: bytes) -> bytes:
    at = min(at, len(text))
    if op == "insert":
        return text[:at] + data + text[at:]
    if op == "truncate":
        return text[:at]
    if op == "bomb":
        return text + b"\n" + BOMB.encode()
    return text.replace(b"version: 1", b"version: &v 1\nbogus_alias: *v", 1)  # an alias in a key position


DEEP_KEYS = [
    "source.path",
    "fields.text",
    "fields.choice_format",
    "prompt.template",
    "fields.id",
    "fields.answer",
    "speech.column",
    "scorer.args.mode",
    "source.args.count",
]
# Edits that mostly keep the schema valid, so that rows, paths and templates are reached.
deep_edits = st.lists(st.tuples(st.just("set"), st.sampled_from(DEEP_KEYS), st.sampled_from(HOSTILE)), max_size=2)
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(base=st.sampled_from(sorted(BASES)), edits=edits, row_edits=row_edits, byte_edits=byte_edits)
def test_mutated_task_files_fail_in_one_line_or_load_and_never_read_outside(arena, base, edits, row_edits, byte_edits):
    check_property(arena, base, edits, row_edits, byte_edits)


@SETTINGS
@given(base=st.sampled_from(sorted(BASES)), edits=deep_edits, row_edits=row_edits)
def test_mutated_paths_templates_and_rows_fail_in_one_line_or_load(arena, base, edits, row_edits):
    check_property(arena, base, edits, row_edits, [])


def check_property(arena: dict[str, Any], base: str, edits: list, row_edits: list, byte_edits: list) -> None:
    """Write the mutated task, load it as validate and a run do, and check the property."""
    task_dir: Path = arena["task"]
    spec, rows = arena["bases"][base]
    spec = json.loads(json.dumps(spec))
    rows = json.loads(json.dumps(rows))
    for op, key, value in edits:
        _apply(spec, op, key, _resolve(value, arena))
    for index, column, op, value in row_edits:
        if index < len(rows):
            if op == "delete":
                rows[index].pop(column, None)
            else:
                rows[index][column] = _resolve(value, arena)
    for name in ("arithmetic_mc.jsonl", "arithmetic_open.jsonl"):
        (task_dir / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False).encode("utf-8")
    for op, at, data in byte_edits:
        text = _bytes(text, op, at, data)
    path = task_dir / "t.yaml"
    path.write_bytes(text)

    with recording_opens() as opened:
        try:
            task = parse_yaml_file(path)
            if isinstance(task, LoadedTask):
                check_task(task)
                if task.spec.source.kind not in (SourceKind.HF, SourceKind.BIGBENCH) and task.spec.speech.tts is None:
                    samples = load_samples(task)
                    content_hash(task, samples)  # reads every audio file's bytes
            event("validated and loaded")
        except ModgapError as exc:
            event(f"refused: {type(exc).__name__}")
            message = str(exc)
            assert message and "\n" not in message, message
    root = arena["root"]
    strays = [
        p
        for p in opened
        if (p.is_relative_to(root) and not p.is_relative_to(task_dir.resolve()))
        or p.is_relative_to("/etc")
        or p.name in ("id_rsa", "secret.flac", "secret.jsonl")
    ]
    assert not strays, f"opened outside the task folder: {strays}"
