"""Task files are untrusted: each hostile input of issue 15 is refused with one line naming file and field.

Paths stay inside the task folder (or --data_dir), ``validate`` runs the run's checks, parsing and
templates are bounded, and a task cannot name endpoints or credential variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modgap_eval.cli import main
from modgap_eval.errors import ConfigError, DataError, ModgapError
from modgap_eval.tasks.loader import check_task, discover, load_samples, parse_yaml_file
from modgap_eval.tasks.safe_yaml import MAX_YAML_BYTES
from modgap_eval.tasks.templates import MAX_RENDERED_CHARS
from tests.conftest import write_wav
from tests.tasks.audit import recording_opens

YAML = """\
task: t
version: 1
source: {source}
fields: {{id: id, text: "{text}", choices: choices, answer: answer, choice_format: "{choice_format}"}}
speech: {{column: audio}}
output_type: loglikelihood
scorer: {scorer}
"""
ROW = {"id": "r0", "question": "Q?", "choices": ["x", "y"], "answer": 1, "audio": "a.wav"}


def make(
    folder: Path,
    rows: list[dict] | None = None,
    source: str = "{kind: jsonl, path: d.jsonl}",
    text: str = "{question}\\n{choices}",
    choice_format: str = "{letter}. {choice}",
    scorer: str = "{name: mc_loglikelihood}",
    extra: str = "",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "a.wav", 0.5)
    (folder / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in (rows or [ROW])))
    path = folder / "t.yaml"
    path.write_text(YAML.format(source=source, text=text, choice_format=choice_format, scorer=scorer) + extra)
    return path


def validate_error(capsys, path: Path, *extra: str) -> str:
    """Run ``modgap-eval validate`` on ``path``: it must fail with exit 2 and exactly one line."""
    assert main(["validate", str(path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def secret(tmp_path: Path) -> Path:
    """A file outside the task folder that no task may read."""
    path = tmp_path / "outside" / "secret.wav"
    write_wav(path, 0.4)
    return path


# ---------------------------------------------------------------- 2. the task-folder rule


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "sub/../../d.jsonl"])
def test_source_path_outside_the_folder_fails_validate(tmp_path, capsys, path):
    yaml_path = make(tmp_path / "task", source=f"{{kind: jsonl, path: '{path}'}}")
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and "source.path" in err and "leaves the task folder" in err


@pytest.mark.parametrize("audio", ["/etc/passwd", "OUTSIDE", "../outside/secret.wav", "link.wav"])
def test_audio_value_outside_the_folder_is_refused_at_validate_and_load(tmp_path, capsys, audio):
    outside = secret(tmp_path)
    folder = tmp_path / "task"
    audio = str(outside) if audio == "OUTSIDE" else audio
    yaml_path = make(folder, rows=[{**ROW, "audio": audio}])
    (folder / "link.wav").symlink_to(outside)  # a link inside the folder to a file outside it
    err = validate_error(capsys, yaml_path)
    assert "speech.column" in err and "leaves the task folder" in err and "sample r0" in err
    task = discover([folder], builtin=False).tasks["t"]
    with recording_opens() as opened, pytest.raises(ConfigError, match="leaves the task folder"):
        load_samples(task)
    assert outside.resolve() not in opened and Path("/etc/passwd") not in opened


def test_absolute_path_inside_the_folder_or_data_dir_is_accepted(tmp_path):
    folder = tmp_path / "task"
    data = tmp_path / "data"
    write_wav(data / "clip.wav", 0.5)
    make(
        folder,
        rows=[{**ROW, "audio": str(folder / "a.wav")}, {**ROW, "id": "r1", "audio": str(data / "clip.wav")}],
        source=f"{{kind: jsonl, path: '{folder / 'd.jsonl'}'}}",
    )
    task = discover([folder], builtin=False).tasks["t"]
    assert check_task(task, data_dir=data) is None
    samples = load_samples(task, data_dir=data)
    assert [s.audio.path for s in samples] == [(folder / "a.wav").resolve(), (data / "clip.wav").resolve()]


def test_hf_source_with_a_local_path_outside_the_folder_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    err = validate_error(
        capsys, make(tmp_path / "t1", source=f"{{kind: hf, path: '{tmp_path / 'elsewhere'}', split: test}}")
    )
    assert "source.path" in err and "leaves the task folder" in err
    err = validate_error(capsys, make(tmp_path / "t2", source="{kind: hf, path: ../elsewhere, split: test}"))
    assert "source.path" in err and "leaves the task folder" in err
    # a hub id that is also a folder of the working directory: load_dataset would read the folder
    (tmp_path / "org" / "set").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    err = validate_error(capsys, make(tmp_path / "t3", source="{kind: hf, path: org/set, split: test}"))
    assert "source.path" in err and "outside the task folder" in err
    err = validate_error(capsys, make(tmp_path / "t4", source="{kind: hf, path: org/set, split: ../../x}"))
    assert "source.split" in err


@pytest.mark.parametrize("voice", ["/etc/passwd.onnx", "../outside/voice.onnx", "~/../../voice.onnx"])
def test_a_tts_voice_file_outside_the_folder_is_refused(tmp_path, capsys, voice):
    yaml_path = make(tmp_path / "task")
    yaml_path.write_text(
        yaml_path.read_text().replace(
            "speech: {column: audio}", f"speech: {{tts: {{engine: piper, voice: '{voice}'}}}}"
        )
    )
    err = validate_error(capsys, yaml_path)
    assert "speech.tts.voice" in err and "leaves the task folder" in err


def test_a_tts_voice_file_inside_the_folder_is_passed_resolved(tmp_path):
    from modgap_eval.tasks.loader import tts_spec

    yaml_path = make(tmp_path / "task")
    yaml_path.write_text(
        yaml_path.read_text().replace("speech: {column: audio}", "speech: {tts: {engine: piper, voice: v/my.onnx}}")
    )
    task = parse_yaml_file(yaml_path)
    assert tts_spec(task).voice == str((tmp_path / "task" / "v" / "my.onnx").resolve())
    assert task.spec.speech.tts.voice == "v/my.onnx"  # the recorded spec keeps what the file says


def test_a_directory_given_as_audio_is_named_a_directory(tmp_path, capsys):
    folder = tmp_path / "task"
    yaml_path = make(folder, rows=[{**ROW, "audio": "clips"}])
    (folder / "clips").mkdir()
    assert "is a directory" in validate_error(capsys, yaml_path)
    (sample,) = load_samples(discover([folder], builtin=False).tasks["t"])
    from modgap_eval.audio import decode

    with pytest.raises(DataError, match="is a directory"):
        decode(sample.audio, 16_000)


# ---------------------------------------------------------------- one validator


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**ROW, "answer": 7}, "field 'fields.answer': 7"),
        ({**ROW, "audio": "missing.wav"}, "file 'missing.wav' not found"),
        ({k: v for k, v in ROW.items() if k != "question"}, "field 'fields.text' uses {question}"),
        ({**ROW, "choices": []}, "must hold a non-empty list"),
    ],
)
def test_validate_reads_every_local_row(tmp_path, capsys, row, message):
    yaml_path = make(tmp_path / "task", rows=[ROW, {**row, "id": "r9"}])
    err = validate_error(capsys, yaml_path)
    assert "sample r9" in err and message in err


def test_validate_catches_a_clash_with_a_builtin_name(tmp_path, capsys):
    yaml_path = make(tmp_path / "task")
    yaml_path.write_text(yaml_path.read_text().replace("task: t\n", "task: example_arithmetic_mc\n"))
    assert "'example_arithmetic_mc' is already defined" in validate_error(capsys, yaml_path)


def test_validate_accepts_a_good_task_and_counts_only_the_named_files(tmp_path, capsys):
    assert main(["validate", str(make(tmp_path / "task"))]) == 0
    assert capsys.readouterr().out.splitlines() == ["ok: 1 task(s), 0 group(s)"]


# ---------------------------------------------------------------- 3. bounded parsing

LAUGHS = "metadata:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_billion_laughs_is_refused_naming_the_file(tmp_path, capsys):
    yaml_path = make(tmp_path / "task", extra=LAUGHS)
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and "expands to more than" in err
    many = "metadata:\n  a: &a x\n  b: [" + ", ".join(["*a"] * 150) + "]\n"
    assert "more than 100 YAML aliases" in validate_error(capsys, make(tmp_path / "t2", extra=many))


def test_file_size_nesting_and_encoding_bounds(tmp_path, capsys):
    big = make(tmp_path / "t1", extra="description: '" + "x" * MAX_YAML_BYTES + "'\n")
    assert "larger than" in validate_error(capsys, big)
    deep = make(tmp_path / "t2", extra="metadata: {a: " + "[" * 5000 + "]" * 5000 + "}\n")
    assert "nested" in validate_error(capsys, deep)
    latin = make(tmp_path / "t3")
    latin.write_bytes(latin.read_bytes() + b"description: caf\xe9\n")
    err = validate_error(capsys, latin)
    assert str(latin) in err and "not UTF-8" in err


@pytest.mark.parametrize(
    ("field", "template", "message"),
    [
        ("choice_format", "{choice:>300000000}", "no format specs"),
        ("choice_format", "{choice.__class__.__mro__}", "no attribute or index access"),
        ("choice_format", "{choice[0]}", "no attribute or index access"),
        ("choice_format", "{letter}) {answer}", "unknown placeholder(s) ['{answer}']"),
        ("choice_format", "{letter", "not a valid template"),
        ("text", "{question!r}", "no format specs or conversions"),
        ("text", "{}", "no attribute or index access, no positional"),
    ],
)
def test_templates_are_restricted(tmp_path, capsys, field, template, message):
    yaml_path = make(tmp_path / "task", **{field: template})
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and f"field 'fields.{field}'" in err and message in err


def test_braces_are_escaped_and_the_prompt_split_is_exact(tmp_path):
    path = make(
        tmp_path / "task",
        text="{{literal}} {question}\\n{choices}",
        extra='prompt: {template: "{{content}} -> {content} <-"}\n',
    )
    task = parse_yaml_file(path)
    assert task.spec.prompt.split() == ("{content} -> ", " <-")
    (sample,) = load_samples(task)
    assert sample.text == "{literal} Q?\nA. x\nB. y"


def test_a_rendered_prompt_over_the_bound_names_the_sample(tmp_path, capsys):
    long_row = {**ROW, "id": "long", "question": "w" * (MAX_RENDERED_CHARS + 1)}
    yaml_path = make(tmp_path / "task", rows=[ROW, long_row])
    err = validate_error(capsys, yaml_path)
    assert "sample long" in err and "field 'fields.text'" in err and f"{MAX_RENDERED_CHARS:,} characters" in err
    with pytest.raises(DataError, match="sample long"):
        load_samples(discover([yaml_path.parent], builtin=False).tasks["t"])


def test_the_prompt_around_the_content_counts_towards_the_bound(tmp_path, capsys):
    system = "s" * (MAX_RENDERED_CHARS - 2)
    yaml_path = make(tmp_path / "task", extra=f"prompt: {{template: '{{content}}', system: '{system}'}}\n")
    err = validate_error(capsys, yaml_path)
    assert "sample r0" in err and "field 'prompt.template'" in err


@pytest.mark.parametrize(
    ("setting", "field", "message"),
    [
        ("generation: {max_new_tokens: 1000000000}", "generation.max_new_tokens", "less than or equal to 4096"),
        ("generation: {max_new_tokens: 4097}", "generation.max_new_tokens", "less than or equal to 4096"),
        ("generation: {max_new_tokens: -5}", "generation.max_new_tokens", "greater than or equal to 1"),
        ("generation: {max_new_tokens: 0}", "generation.max_new_tokens", "greater than or equal to 1"),
        ("generation: {max_new_tokens: 1.0e9}", "generation.max_new_tokens", "valid integer"),
        ("generation: {max_new_tokens: '256'}", "generation.max_new_tokens", "valid integer"),
        ("generation: {max_new_tokens: true}", "generation.max_new_tokens", "valid integer"),
        ("generation: {max_new_tokens: [1]}", "generation.max_new_tokens", "valid integer"),
        ("generation: {stop: [" + ", ".join(["x"] * 33) + "]}", "generation.stop", "at most 32 items"),
        ("generation: {stop: 7}", "generation.stop", "valid list"),
    ],
)
def test_generation_settings_are_bounded(tmp_path, capsys, setting, field, message):
    """A task file may not ask for unbounded generation: its KV cache would exhaust memory."""
    yaml_path = make(tmp_path / "task", extra=setting + "\n")
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and f"field '{field}'" in err and message in err


@pytest.mark.parametrize("rate", ["1000000000", "-16000", "0", "4000", "48001", "16000.0", "'16000'", "true"])
def test_tts_sample_rate_is_bounded(tmp_path, capsys, rate):
    yaml_path = make(tmp_path / "task")
    yaml_path.write_text(
        yaml_path.read_text().replace("{column: audio}", f"{{tts: {{engine: flite, sample_rate: {rate}}}}}")
    )
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and "field 'speech.tts.sample_rate'" in err


@pytest.mark.parametrize(
    ("tts", "message"),
    [
        ("{engine: flite, rate: 1000000000}", "speech.tts.rate must be within [0.25, 4]"),
        ("{engine: flite, rate: -1}", "speech.tts.rate must be within [0.25, 4]"),
        ("{engine: flite, voice: 'slt; rm -rf /'}", "is not a built-in voice name"),
        ("{engine: flyte}", "did you mean 'flite'"),
    ],
)
def test_tts_settings_are_checked_at_validate(tmp_path, capsys, tts, message):
    yaml_path = make(tmp_path / "task")
    yaml_path.write_text(yaml_path.read_text().replace("{column: audio}", f"{{tts: {tts}}}"))
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and "field 'speech.tts'" in err and message in err


def test_generation_and_sample_rate_at_their_bounds_are_accepted(tmp_path):
    yaml_path = make(tmp_path / "task", extra="generation: {max_new_tokens: 4096, stop: ['\\n']}\n")
    assert parse_yaml_file(yaml_path).spec.generation.max_new_tokens == 4096
    for rate in (8000, 48000):
        path = make(tmp_path / f"t{rate}")
        path.write_text(path.read_text().replace("{column: audio}", f"{{tts: {{engine: flite, sample_rate: {rate}}}}}"))
        assert parse_yaml_file(path).spec.speech.tts.sample_rate == rate


def test_the_audit_hook_sees_opens(tmp_path):
    """The open-detector the fuzz test relies on does see an ordinary read."""
    path = secret(tmp_path)
    with recording_opens() as opened:
        path.read_bytes()
    assert path.resolve() in opened


# ---------------------------------------------------------------- 1. no credentials, endpoints or downloads


@pytest.mark.parametrize(
    ("scorer", "field"),
    [
        ("{name: llm_judge, args: {base_url: 'http://127.0.0.1:9/v1', api_key_env: HF_TOKEN}}", "base_url"),
        ("{name: llm_judge, args: {api_key_env: HF_TOKEN}}", "api_key_env"),
        ("{name: llm_judge, args: {mode: open, judge: {endpoint: x}}}", "judge.endpoint"),
        ("{name: llm_judge, args: {mode: 'https://evil.example/v1'}}", "mode"),
        ("{name: llm_judge, args: {hf_token: x}}", "hf_token"),
    ],
)
def test_scorer_args_may_not_name_endpoints_or_keys(tmp_path, capsys, scorer, field):
    yaml_path = make(tmp_path / "task", scorer=scorer)
    yaml_path.write_text(
        yaml_path.read_text()
        .replace("loglikelihood", "generate")
        .replace("choices: choices, answer: answer, ", "references: question, ")
    )
    err = validate_error(capsys, yaml_path)
    assert "field 'scorer.args'" in err and field in err
    assert "endpoint" in err or "URL" in err


def test_source_args_may_not_name_urls(tmp_path, capsys):
    yaml_path = make(tmp_path / "task", source="{kind: generated, path: arithmetic, args: {seed: 'http://x/y'}}")
    assert "field 'source.args'" in validate_error(capsys, yaml_path)


@pytest.mark.parametrize(
    ("source", "field", "message"),
    [
        ("{kind: generated, path: arithmetc}", "source.path", "did you mean 'arithmetic'"),
        ("{kind: generated, path: arithmetic, args: {count: 0}}", "source.args", "count must be an integer"),
        ("{kind: generated, path: arithmetic, args: {bogus: 1}}", "source.args", "unexpected keyword argument"),
        ("{kind: bigbench, path: 'Bad Name'}", "source.path", "not of the form 'task' or 'task/subtask'"),
    ],
)
def test_generated_and_bigbench_sources_name_the_file_and_field(tmp_path, capsys, source, field, message):
    yaml_path = make(tmp_path / "task", source=source)
    err = validate_error(capsys, yaml_path)
    assert str(yaml_path) in err and f"field '{field}'" in err and message in err


# ---------------------------------------------------------------- 4. one line, never a traceback


def test_output_path_naming_a_file_fails_before_any_work(task_dir, tmp_path, capsys, monkeypatch):
    from modgap_eval.models.dummy import DummyModel

    def no_model(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(DummyModel, "from_args", classmethod(no_model))
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    for out in (target, target / "sub"):
        assert (
            main(
                [
                    "--model",
                    "dummy",
                    "--tasks",
                    "arith",
                    "--include_path",
                    str(task_dir),
                    "--output_path",
                    str(out),
                    "--no_cache",
                    "--no_progress",
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--output_path" in err and "is a file, not a folder" in err


def test_every_hostile_task_is_a_modgap_error_at_run_time_too(tmp_path):
    """The run's loading refuses what validate refuses (a ModgapError, before the model is built)."""
    folder = tmp_path / "task"
    make(folder, rows=[{**ROW, "audio": "/etc/passwd"}])
    from modgap_eval.config import RunConfig
    from modgap_eval.runner import evaluate

    with pytest.raises(ModgapError, match="leaves the task folder"):
        evaluate(
            RunConfig(model="dummy", tasks=["t"], include_path=[folder], output_path=tmp_path / "o", progress=False)
        )
    assert not (tmp_path / "o").exists()


def test_paths_are_not_followed_through_symlinked_task_folders_elsewhere(tmp_path):
    # the containment check compares real paths on both sides: a task folder reached through a link still works
    real = tmp_path / "real"
    make(real)
    os.symlink(real, tmp_path / "alias")
    (sample,) = load_samples(discover([tmp_path / "alias"], builtin=False).tasks["t"])
    assert sample.audio.path == (real / "a.wav").resolve()


def test_a_negative_intervention_layer_is_blamed_on_the_option(task_dir, tmp_path, capsys):
    assert (
        main(
            [
                "--model",
                "dummy",
                "--tasks",
                "arith",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path / "o"),
                "--intervention",
                "angle",
                "--intervention_layers=-3",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("modgap-eval: error: --intervention_layers:") and "'-3'" in err
