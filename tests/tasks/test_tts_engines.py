"""Piper, flite and espeak-ng make real WAVs that decode; clips are cached and deterministic."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
import soundfile

from modgap_eval.errors import ConfigError
from modgap_eval.tasks import tts
from modgap_eval.tasks.schema import TTSSpec
from modgap_eval.tasks.tts_engines import encode_wav

TEXT = "How many legs do horses have?"


def decode(path):
    samples, rate = soundfile.read(str(path), dtype="float32")
    return samples, rate


needs = {
    name: pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} not installed (apt-get install {name})")
    for name in ("flite", "espeak-ng")
}

from tests.extras import extra

needs_piper = pytest.mark.skipif(importlib.util.find_spec("piper") is None, reason=extra("piper", "tts"))


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("piper", marks=needs_piper),
        pytest.param("flite", marks=needs["flite"]),
        pytest.param("espeak-ng", marks=needs["espeak-ng"]),
    ],
)
def test_engine_speaks_a_decodable_clip_and_caches_it(engine, monkeypatch):
    spec = TTSSpec(engine=engine, sample_rate=16_000)
    (first,) = tts.speak([TEXT], spec)
    samples, rate = decode(first)
    assert rate == 16_000
    assert 0.8 < len(samples) / rate < 6.0  # a short question, spoken
    assert np.abs(samples).max() > 0.05  # not silence
    calls = []
    monkeypatch.setattr(tts.TTS_ENGINES.get(engine), "synthesize", lambda self, text: calls.append(text))
    assert tts.speak([TEXT], spec) == [first] and calls == []  # cache hit: nothing synthesised again
    assert engine in str(first.parent)


@needs["flite"]
def test_rate_and_native_sample_rate(monkeypatch):
    (normal,) = tts.speak([TEXT], TTSSpec(engine="flite"))
    (fast,) = tts.speak([TEXT], TTSSpec(engine="flite", rate=1.5))
    normal_samples, normal_rate = decode(normal)
    fast_samples, fast_rate = decode(fast)
    assert normal_rate == fast_rate == 16_000  # flite's slt voice is 16 kHz natively
    assert len(fast_samples) < 0.8 * len(normal_samples)
    assert normal != fast  # rate is part of the cache key


@needs_piper
def test_piper_is_deterministic(tmp_path, monkeypatch):
    spec = TTSSpec(engine="piper", sample_rate=16_000)
    (first,) = tts.speak([TEXT], spec)
    data = first.read_bytes()
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "other"))
    (second,) = tts.speak([TEXT], spec)
    assert second != first and second.read_bytes() == data  # synthesised again, same bytes
    engine = tts.TTS_ENGINES.get("piper")(spec)
    described = engine.describe()
    assert described["voice"] == "en_US-joe-medium" and described["noise_scale"] == 0.0
    assert described["version"].startswith("piper-tts ") and "joe-medium" in described["version"]


def test_bad_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="rate"):
        tts.TTS_ENGINES.get("flite")(TTSSpec(engine="flite", rate=10))
    with pytest.raises(ConfigError, match="voice"):
        tts.TTS_ENGINES.get("flite")(TTSSpec(engine="flite", voice="slt; rm -rf /"))
    pytest.importorskip("piper", reason=extra("piper", "tts"))
    with pytest.raises(ConfigError, match="existing .onnx voice file"):
        tts.TTS_ENGINES.get("piper")(TTSSpec(engine="piper", voice=str(tmp_path / "none.onnx"))).version()


def test_encode_wav_resamples():
    tone = np.sin(np.linspace(0, 200 * np.pi, 22_050)).astype(np.float32) * 0.5
    samples, rate = soundfile.read(__import__("io").BytesIO(encode_wav(tone, 22_050, 16_000)))
    assert rate == 16_000 and abs(len(samples) - 16_000) <= 2
