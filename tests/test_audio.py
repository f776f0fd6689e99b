"""Decoding real audio files: resampling, mixing down, and the errors for bad clips."""

from __future__ import annotations

import numpy as np
import pytest

from modgap_eval.audio import decode
from modgap_eval.errors import DataError
from modgap_eval.types import Audio
from tests.conftest import write_wav


def test_resample_and_mono(tmp_path):
    path = write_wav(tmp_path / "a.wav", 1.0, sample_rate=44_100, channels=2, freq=440)
    wave = decode(Audio(path=path), 16_000)
    assert wave.sample_rate == 16_000 and wave.samples.dtype == np.float32
    assert abs(len(wave.samples) - 16_000) <= 2
    # the tone survives resampling: its dominant frequency is still 440 Hz
    spectrum = np.abs(np.fft.rfft(wave.samples))
    assert abs(np.argmax(spectrum) * 16_000 / len(wave.samples) - 440) < 2


def test_bytes_and_path_decode_alike(tmp_path):
    path = write_wav(tmp_path / "a.wav", 0.25)
    assert np.array_equal(
        decode(Audio(path=path), 16_000).samples, decode(Audio(data=path.read_bytes()), 16_000).samples
    )


def test_bad_clips(tmp_path):
    with pytest.raises(DataError, match="audio file not found"):
        decode(Audio(path=tmp_path / "missing.wav"), 16_000)
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    with pytest.raises(DataError, match="cannot decode audio"):
        decode(Audio(path=tmp_path / "bad.wav"), 16_000)
    with pytest.raises(DataError, match="is empty"):
        decode(Audio(path=write_wav(tmp_path / "empty.wav", 0.0)), 16_000)
    with pytest.raises(DataError, match="cannot decode"):
        decode(Audio(data=b""), 16_000)
