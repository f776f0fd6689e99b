"""Each validation rule, triggered by a broken YAML: the error names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from modgap_eval.errors import ConfigError
from modgap_eval.tasks.loader import discover, parse_yaml_file

GOOD = """\
task: t1
version: 1
source: {kind: jsonl, path: data.jsonl}
fields: {text: "{question}", choices: choices, answer: answer}
speech: {column: audio}
prompt: {template: "Q: {content}"}
output_type: loglikelihood
scorer: {name: mc_loglikelihood}
"""


def write(tmp_path: Path, text: str, name: str = "t1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_yaml_validates(tmp_path):
    task = parse_yaml_file(write(tmp_path, GOOD))
    assert task.spec.task == "t1" and task.spec.prompt.split() == ("Q: ", "")


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("version: 1", "version: 1\nvesion: 2", "vesion", "Extra inputs are not permitted"),
        ('template: "Q: {content}"', 'template: "Q: {question}"', "prompt.template", "may only use {content}"),
        ('template: "Q: {content}"', 'template: "Q:"', "prompt.template", "exactly one {content}"),
        ('template: "Q: {content}"', 'template: "{content} {content}"', "prompt.template", "exactly one {content}"),
        ("speech: {column: audio}", "speech: {column: audio, tts: {engine: piper}}", "speech", "exactly one of"),
        ("speech: {column: audio}", "speech: {}", "speech", "exactly one of"),
        (
            "source: {kind: jsonl, path: data.jsonl}",
            "source: {kind: hf, path: org/data}",
            "source",
            "split is required",
        ),
        ("source: {kind: jsonl, path: data.jsonl}", "source: {kind: sql, path: x}", "source.kind", "Input should be"),
        ("output_type: loglikelihood", "output_type: logits", "output_type", "Input should be"),
        (
            'fields: {text: "{question}", choices: choices, answer: answer}',
            'fields: {text: "{question}"}',
            "<root>",
            "needs fields.choices",
        ),
        ("task: t1", "task: 'bad name!'", "task", "should match pattern"),
    ],
)
def test_broken_yaml_names_file_and_field(tmp_path, old, new, field, message):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError) as info:
        parse_yaml_file(path)
    text = str(info.value)
    assert str(path) in text and f"field '{field}'" in text and message in text


def test_unknown_scorer_suggests_close_name(tmp_path):
    path = write(tmp_path, GOOD.replace("name: mc_loglikelihood", "name: mc_loglikelihod"))
    with pytest.raises(ConfigError, match=r"field 'scorer.name'.*did you mean 'mc_loglikelihood'"):
        parse_yaml_file(path)


def test_scorer_args_and_output_type_are_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"field 'scorer.args'.*unexpected keyword"):
        parse_yaml_file(
            write(
                tmp_path,
                GOOD.replace("{name: mc_loglikelihood}", "{name: mc_loglikelihood, args: {normalise: length}}"),
            )
        )
    with pytest.raises(ConfigError, match=r"field 'scorer.name'.*scores output_type 'generate'"):
        parse_yaml_file(write(tmp_path, GOOD.replace("mc_loglikelihood", "mc_letter")))


def test_yaml_cannot_execute_code(tmp_path):
    path = write(tmp_path, GOOD + "metadata: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_yaml_file(path)


def test_invalid_syntax_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_yaml_file(write(tmp_path, "task: [unclosed"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_yaml_file(write(tmp_path, "- just a list"))
    with pytest.raises(ConfigError, match="neither 'task' nor 'group'"):
        parse_yaml_file(write(tmp_path, "name: x"))


def test_duplicate_names_and_bad_groups(tmp_path):
    write(tmp_path, GOOD)
    write(tmp_path, GOOD, name="copy.yaml")
    with pytest.raises(ConfigError, match=r"'t1' is already defined in"):
        discover([tmp_path], builtin=False)
    (tmp_path / "copy.yaml").unlink()
    write(tmp_path, "group: g\ntasks: [t1, t2]\n", name="g.yaml")
    with pytest.raises(ConfigError, match=r"g.yaml: field 'tasks': unknown task or group 't2'"):
        discover([tmp_path], builtin=False)
    write(tmp_path, "group: g\ntasks: [t1, h]\n", name="g.yaml")
    write(tmp_path, "group: h\ntasks: [g]\n", name="h.yaml")
    with pytest.raises(ConfigError, match="group cycle"):
        discover([tmp_path], builtin=False)


def test_builtin_tasks_validate():
    index = discover()
    assert "example_arithmetic_mc" in index.tasks and "examples" in index.groups
