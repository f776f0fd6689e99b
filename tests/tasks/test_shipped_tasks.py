"""Every YAML under tasks/ validates and documents itself; the groups have the promised shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modgap_eval.paths import BUILTIN_TASKS_DIR
from modgap_eval.tasks.loader import discover, load_samples

MY_FOLDERS = ("voicebench", "bigbench", "generated")


@pytest.fixture(scope="module")
def index():
    return discover()


def my_yaml_files() -> list[Path]:
    return sorted(p for folder in MY_FOLDERS for p in (BUILTIN_TASKS_DIR / folder).glob("*.yaml"))


def test_validate_command_accepts_every_builtin_yaml(capsys):
    from modgap_eval.cli import main

    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


@pytest.mark.parametrize("path", my_yaml_files(), ids=lambda p: p.name)
def test_yaml_documents_source_licence_size_and_scorer(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "a comment header says what the file is"
    raw = yaml.safe_load(text)
    if "task" in raw:
        assert {"source", "license", "size", "scorer"} <= set(raw["metadata"]), path.name
        assert raw["task"] == path.stem


def test_core5_is_the_papers_4947_items(index):
    members = index.group_members("voicebench_core5")
    assert members == [
        "voicebench_advbench",
        "voicebench_ifeval",
        "voicebench_openbookqa",
        "voicebench_mmsu",
        "voicebench_sdqa_usa",
    ]
    assert sum(index.tasks[m].spec.metadata["size"] for m in members) == 4947
    assert index.tasks["voicebench_sdqa_usa"].spec.source.split == "usa"


def test_offline_default_is_small_offline_and_loglikelihood(index):
    members = index.group_members("offline_default")
    sizes = [index.tasks[m].spec.metadata["size"] for m in members]
    assert sum(sizes) == index.groups["offline_default"].spec.metadata["size"] <= 300
    for name in members:
        spec = index.tasks[name].spec
        assert spec.source.kind.value in ("generated", "bigbench"), name
        assert spec.speech.tts is not None and spec.speech.tts.engine == "piper", name
        assert spec.output_type.value == "loglikelihood" and spec.continuations == "choices", name
    assert any(m.startswith("bigbench_") for m in members) and any(m.startswith("generated_") for m in members)


@pytest.mark.parametrize(
    "name,size",
    [
        ("generated_arithmetic", 40),
        ("generated_number_comparison", 40),
        ("generated_weekday_after", 28),
        ("generated_month_neighbour", 48),
        ("generated_weekday_neighbour", 56),
    ],
)
def test_generated_tasks_load_with_declared_size(index, name, size, monkeypatch):
    # TTS is stubbed here (one path per text, the speak() contract); real Piper audio: the slow test below.
    from modgap_eval.tasks import loader

    calls = []

    def fake_speak(texts, spec, progress=False):
        calls.append(spec.engine)
        return [Path(f"/clips/{i}.wav") for i, _ in enumerate(texts)]

    monkeypatch.setattr("modgap_eval.tasks.tts.speak", fake_speak)
    samples = loader.load_samples(index.tasks[name])
    assert len(samples) == size == index.tasks[name].spec.metadata["size"]
    assert calls == ["piper"]
    assert all(s.choices[s.answer_index] for s in samples)


@pytest.mark.slow
def test_generated_task_with_real_piper_audio(index):
    from modgap_eval.audio import decode

    samples = load_samples(index.tasks["generated_weekday_neighbour"], limit=3)
    for sample in samples:
        wave = decode(sample.audio, 16_000)
        assert 1.0 < wave.seconds < 8.0 and abs(wave.samples).max() > 0.05


def test_bigbench_tasks_load_through_the_loader_from_an_sdist(index, tmp_path, monkeypatch):
    from modgap_eval.tasks import bigbench, loader
    from tests.tasks.test_bigbench import write_sdist

    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path))
    task_json = {
        "examples": [{"input": f"Question {i}?", "target_scores": {"yes": i % 2, "no": 1 - i % 2}} for i in range(6)]
    }
    write_sdist(tmp_path, {name: task_json for name in bigbench.SHIPPED_TASKS})
    monkeypatch.setattr(
        "modgap_eval.tasks.tts.speak",
        lambda texts, spec, progress=False: [Path(f"/clips/{i}.wav") for i, _ in enumerate(texts)],
    )
    names = [name for name, task in index.tasks.items() if task.spec.source.kind.value == "bigbench"]
    assert len(names) == len(bigbench.SHIPPED_TASKS)
    for name in names:
        samples = loader.load_samples(index.tasks[name])
        assert sorted(s.id for s in samples) == [f"{index.tasks[name].spec.source.path}-{i:05d}" for i in range(6)]
        assert all(
            s.choices == ("yes", "no") and s.choices[s.answer_index] == ("yes" if s.text[-2] in "13579" else "no")
            for s in samples
        )
        assert [s.id for s in samples] != sorted(s.id for s in samples)  # seeded shuffle (seed 0)
