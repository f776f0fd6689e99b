"""Which tasks can run here, decided from files alone before any synthesis or model work."""

from __future__ import annotations

import pytest

from modgap_eval.tasks.availability import unavailable_reason
from modgap_eval.tasks.loader import parse_yaml_file
from tests.extras import extra

HUB_TASK = """task: hubby
version: 1
source: {kind: hf, path: someone/spoken-qa, name: sd-qa, split: test}
fields: {id: id, text: question, references: answer}
speech: {column: audio}
output_type: generate
scorer: {name: exact_match}
"""


@pytest.fixture
def hub_task(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub", reason=extra("huggingface_hub", "data"))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    path = tmp_path / "t" / "hubby.yaml"
    path.parent.mkdir()
    path.write_text(HUB_TASK, encoding="utf-8")
    return parse_yaml_file(path)


def test_hub_data_offline_needs_the_cache_or_a_mirror(hub_task, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reason = unavailable_reason(hub_task, None)
    assert (
        "'someone/spoken-qa' is not in the local hub cache" in reason
        and "<data_dir>/someone/spoken-qa/sd-qa/test.parquet" in reason
    )
    mirror = tmp_path / "mirror" / "someone" / "spoken-qa" / "sd-qa" / "test.parquet"
    mirror.parent.mkdir(parents=True)
    mirror.write_bytes(b"PAR1")
    assert unavailable_reason(hub_task, tmp_path / "mirror") is None
    (tmp_path / "hub" / "datasets--someone--spoken-qa").mkdir(parents=True)
    assert unavailable_reason(hub_task, None) is None


def test_hub_data_online_is_left_to_the_loader(hub_task, monkeypatch):
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "MODGAP_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    assert unavailable_reason(hub_task, None) is None


def test_an_unusable_tts_engine_is_named(tmp_path, monkeypatch):
    from modgap_eval.errors import DependencyError
    from modgap_eval.tasks.tts_engines import FliteEngine

    path = tmp_path / "spoken.yaml"
    (tmp_path / "d.jsonl").write_text('{"id": 1, "q": "hi", "a": "hi"}\n', encoding="utf-8")
    path.write_text(
        "task: spoken\nversion: 1\nsource: {kind: jsonl, path: d.jsonl}\nfields: {id: id, text: q, references: a}\n"
        "speech: {tts: {engine: flite}}\noutput_type: generate\nscorer: {name: exact_match}\n",
        encoding="utf-8",
    )
    task = parse_yaml_file(path)

    def missing(self):
        raise DependencyError("flite is not installed (apt-get install flite)")

    monkeypatch.setattr(FliteEngine, "version", missing)
    assert (
        unavailable_reason(task, None)
        == "TTS engine 'flite' is not usable: flite is not installed (apt-get install flite)"
    )


def test_big_bench_needs_the_cache_only_when_modgap_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "bb.yaml"
    path.write_text(
        "task: bb\nversion: 1\nsource: {kind: bigbench, path: physics}\n"
        "fields: {id: id, text: question, choices: choices, answer: answer}\nspeech: {tts: {engine: flite}}\n"
        "output_type: loglikelihood\nscorer: {name: mc_loglikelihood}\n",
        encoding="utf-8",
    )
    task = parse_yaml_file(path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("MODGAP_OFFLINE", raising=False)
    assert unavailable_reason(task, None) is None  # PyPI, not the hub
    monkeypatch.setenv("MODGAP_OFFLINE", "1")
    assert "BIG-bench data is not cached" in unavailable_reason(task, None)
    (tmp_path / "cache" / "bigbench" / "tasks" / "physics").mkdir(parents=True)
    (tmp_path / "cache" / "bigbench" / "tasks" / "physics" / "task.json").write_text("{}")
    assert unavailable_reason(task, None) is None
