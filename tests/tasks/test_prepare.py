"""``modgap-eval prepare``: loads the selected tasks and fills the TTS cache once."""

from __future__ import annotations

import shutil

import pytest

from modgap_eval.cli import main
from modgap_eval.tasks import tts

pytestmark = pytest.mark.skipif(shutil.which("flite") is None, reason="flite not installed (apt-get install flite)")

YAML = """\
task: spoken_numbers
version: 1
source: {kind: generated, path: number_comparison, args: {count: 5, seed: 1}}
fields: {id: id, text: "{question}", choices: choices, answer: answer}
speech: {tts: {engine: flite, sample_rate: 16000}}
output_type: loglikelihood
continuations: choices
scorer: {name: mc_loglikelihood}
"""


def test_prepare_synthesises_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    (tmp_path / "t.yaml").write_text(YAML)
    assert main(["prepare", "spoken_numbers", "--include_path", str(tmp_path), "--no_progress"]) == 0
    out = capsys.readouterr().out
    assert "spoken_numbers" in out and "5 samples" in out and "tts flite" in out
    clips = list(tts.cache_dir("tts", "flite").glob("*.wav"))
    assert len(clips) == 5
    monkeypatch.setattr(tts.TTS_ENGINES.get("flite"), "synthesize", lambda self, text: pytest.fail("not cached"))
    assert main(["prepare", "spoken_numbers", "--include_path", str(tmp_path), "--no_progress", "--limit", "2"]) == 0
    assert "2 samples" in capsys.readouterr().out


def test_prepare_unknown_task_is_a_one_line_error(capsys):
    assert main(["prepare", "no_such_task"]) == 2
    assert "unknown task or group 'no_such_task'" in capsys.readouterr().err
