"""Decode an ``Audio`` reference to a mono float32 ``Waveform`` at a target rate (soundfile + soxr).

Corrupt, missing or empty clips (and a directory given as a clip) raise DataError; callers add the task and sample id.
"""

from __future__ import annotations

import io

from modgap_eval.errors import DataError
from modgap_eval.types import Audio, Waveform

RESAMPLER_QUALITY = "HQ"


def decoder_versions() -> tuple[str, str]:
    """(decoder, resampler) descriptions recorded in results."""
    import soundfile
    import soxr

    return (
        f"soundfile {soundfile.__version__} (libsndfile {soundfile.__libsndfile_version__})",
        f"soxr {soxr.__version__} quality={RESAMPLER_QUALITY}",
    )


def decode(audio: Audio, sample_rate: int) -> Waveform:
    """Read the clip, mix to mono, resample to ``sample_rate``."""
    import numpy as np
    import soundfile

    if audio.path is not None and audio.path.is_dir():
        raise DataError(f"audio path is a directory, not a file: {audio.path}")
    if audio.path is not None and not audio.path.is_file():
        raise DataError(f"audio file not found: {audio.path}")
    try:
        source = str(audio.path) if audio.path is not None else io.BytesIO(audio.data or b"")
        samples, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise DataError(f"cannot decode audio {audio.describe()}: {exc}") from exc
    if samples.shape[0] == 0:
        raise DataError(f"audio {audio.describe()} is empty (0 samples)")
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if rate != sample_rate:
        import soxr

        mono = soxr.resample(mono, rate, sample_rate, quality=RESAMPLER_QUALITY)
    return Waveform(samples=np.ascontiguousarray(mono, dtype=np.float32), sample_rate=sample_rate)
