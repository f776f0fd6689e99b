"""The TTS hook: turn a task's written texts into spoken clips, cached on disk.

A clip is synthesised once and stored under a hash of (text, engine, engine version, voice, rate,
sample rate); results record the engine and its version. Engines register in ``TTS_ENGINES``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.paths import cache_dir
from modgap_eval.registry import Registry
from modgap_eval.tasks.schema import TTSSpec


class TTSEngine:
    """Base class: ``synthesize`` returns one encoded WAV file's bytes for ``text``."""

    name: ClassVar[str]
    default_voice: ClassVar[str | None] = None

    def __init__(self, spec: TTSSpec) -> None:
        if not 0.25 <= spec.rate <= 4.0:
            raise ConfigError(f"TTS {self.name}: speech.tts.rate must be within [0.25, 4], got {spec.rate}")
        self.spec = spec
        self.voice_name = spec.voice or self.default_voice

    def version(self) -> str:
        raise NotImplementedError

    def synthesize(self, text: str) -> bytes:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        return {
            "engine": self.spec.engine,
            "version": self.version(),
            "voice": self.voice_name,
            "rate": self.spec.rate,
            "sample_rate": self.spec.sample_rate,
        }


TTS_ENGINES: Registry[type[TTSEngine]] = Registry("TTS engine", entry_point_group="modgap_eval.tts")
TTS_ENGINES.add("piper", "modgap_eval.tasks.tts_engines:PiperEngine")
TTS_ENGINES.add("flite", "modgap_eval.tasks.tts_engines:FliteEngine")
TTS_ENGINES.add("espeak-ng", "modgap_eval.tasks.tts_engines:EspeakNGEngine")


def clip_key(text: str, engine: TTSEngine) -> str:
    desc = engine.describe()
    material = "\x1f".join([text] + [f"{k}={desc[k]}" for k in sorted(desc)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def speak(texts: Sequence[str], spec: TTSSpec, progress: bool = False) -> list[Path]:
    """Return one cached WAV path per text, synthesising the missing ones."""
    engine = TTS_ENGINES.get(spec.engine)(spec)
    folder = cache_dir("tts", spec.engine)
    paths = [folder / f"{clip_key(text, engine)}.wav" for text in texts]
    todo = [(text, path) for text, path in zip(texts, paths) if not path.exists()]
    if todo:
        from tqdm.auto import tqdm

        print(
            f"modgap-eval: speaking {len(todo)} new clip(s) with {spec.engine} (once; cached in {folder})",
            file=sys.stderr,
        )
        for text, path in tqdm(todo, desc=f"TTS {spec.engine}", unit="clip", disable=not progress):
            if not text.strip():
                raise DataError(f"TTS {spec.engine}: cannot speak an empty text")
            data = engine.synthesize(text)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    return paths
