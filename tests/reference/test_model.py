"""The shipped reference checkpoints: small, complete, registered, and loadable by name."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.errors import ConfigError
from modgap_eval.models import MODELS
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.paper_lslm import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint
from modgap_eval.reference.model import shipped_checkpoints
from modgap_eval.reference.recipe import SHIPPED_DIR


def test_at_least_five_checkpoints_are_shipped_small_and_in_training_order():
    names = shipped_checkpoints()
    assert len(names) >= 5 and names[-1] == "final"
    steps = [json.loads((SHIPPED_DIR / n / CONFIG_FILE).read_text())["notes"]["step"] for n in names]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    total = sum(p.stat().st_size for p in SHIPPED_DIR.rglob("*") if p.is_file())
    assert total < 40 * 2**20  # 7 float16 adapters of 2.7 M parameters (hidden 1024)
    assert (SHIPPED_DIR / "MODEL_CARD.md").is_file()


def test_each_checkpoint_loads_and_matches_its_config():
    pytest.importorskip("torch")
    for name in shipped_checkpoints():
        config, weights = load_checkpoint(SHIPPED_DIR / name)
        assert config.lm_input == "ctc-embeddings" and config.stack == 5
        assert weights["vocab_ids"].shape == (config.ctc_vocab_size,)
        assert weights["proj_in.weight"].shape == (config.adapter_hidden, config.stack * config.encoder_dim)
        assert (SHIPPED_DIR / name / WEIGHTS_FILE).stat().st_size < 6 * 2**20


def test_unknown_checkpoint_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="choose one of"):
        MODELS.get("reference").from_args({"checkpoint": "step-999999"}, RuntimeOptions())


@pytest.mark.slow
def test_reference_model_hears_a_spoken_question(tmp_path, monkeypatch):
    """The final checkpoint's speech path: its CTC transcript of a clear flite clip is mostly right."""
    import shutil
    import subprocess

    import soundfile as sf

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if shutil.which("flite") is None:
        pytest.skip("flite not installed")
    from modgap_eval.reference.evaluate import ctc_transcript
    from modgap_eval.types import LoglikelihoodRequest, Modality, Prompt, Waveform
    from modgap_eval.wer import word_error_rate

    model = MODELS.get("reference").from_args({}, RuntimeOptions(batch_size=2))
    sentence = "The children walked to the school near the river."
    subprocess.run(["flite", "-voice", "slt", "-t", sentence, "-o", str(tmp_path / "a.wav")], check=True)
    audio, rate = sf.read(tmp_path / "a.wav", dtype="float32")
    assert rate == 16_000
    assert word_error_rate([sentence], [ctc_transcript(model, audio)]) < 0.7
    prompt = Prompt(Modality.SPEECH, "", "", audio=Waveform(audio, rate))
    result = model.loglikelihood([LoglikelihoodRequest(prompt, ("yes", "no"))])[0]
    assert all(lp < 0 for lp in result.logprobs)
    info = model.info()
    assert info.args["checkpoint"] == "final" and "pretrained" not in info.args
    assert info.source == "modgap_eval/reference/checkpoints/final (shipped)"  # no machine-specific path
    assert info.revision.startswith("sha256:")
