"""Speech data for the reference LSLM: synthesise each training sentence once, encode it once, cache both.

Clips are made by the project's own TTS engines (``tasks.tts_engines``), several voices, and encoded
by the frozen Whisper encoder on each clip's own window (``paper_lslm.WhisperFrontEnd``), both in
worker processes; the final-layer frames are stored in float16 shards of ``SHARD_SIZE`` clips under
``cache_dir("reference", ...)``. A shard that exists is never remade, so an interrupted run resumes;
``load_examples`` reads shards back as the trainer's examples.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import torch

    from modgap_eval.models.paper_lslm import WhisperFrontEnd
    from modgap_eval.reference.ctc import Example
    from modgap_eval.tasks.tts import TTSEngine

SHARD_SIZE = 500
VOICES: tuple[tuple[str, str, float], ...] = (
    ("piper", "en_US-joe-medium", 0.05),
    ("flite", "slt", 0.25),
    ("flite", "rms", 0.18),
    ("flite", "awb", 0.17),
    ("flite", "kal16", 0.35),
)
"""(engine, voice, share of clips): a mix of voices so the adapter does not learn one speaker. Piper (the
evaluation suite's voice) costs ~20x a flite clip on CPU, so it is a small share; kal16 is the cheapest."""


@dataclass(frozen=True)
class ClipJob:
    index: int
    text: str
    engine: str
    voice: str


def assign_voices(texts: Sequence[str], seed: int, voices: Sequence[tuple[str, str, float]] = VOICES) -> list[ClipJob]:
    rng = random.Random(seed)
    names = [(engine, voice) for engine, voice, _ in voices]
    weights = [share for _, _, share in voices]
    return [ClipJob(i, text, *rng.choices(names, weights)[0]) for i, text in enumerate(texts)]


_ENGINES: dict[str, TTSEngine] = {}
"""Per worker process: the TTS engines by ``engine:voice``, built once."""
_FRONT_END: list[WhisperFrontEnd] = []
"""Per worker process: the encoder front end (at most one), built once."""


def synthesize(job: ClipJob) -> tuple[int, np.ndarray]:
    """(index, 16 kHz float32 waveform) of one job."""
    import numpy as np
    import soundfile as sf
    import soxr

    from modgap_eval.tasks.schema import TTSSpec
    from modgap_eval.tasks.tts import TTS_ENGINES

    key = f"{job.engine}:{job.voice}"
    if key not in _ENGINES:
        import modgap_eval.tasks.tts_engines  # noqa: F401 - registers the engines

        _ENGINES[key] = TTS_ENGINES.get(job.engine)(TTSSpec(engine=job.engine, voice=job.voice))
    samples, rate = sf.read(io.BytesIO(_ENGINES[key].synthesize(job.text)), dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    if rate != 16_000:
        samples = soxr.resample(samples, rate, 16_000).astype(np.float32)
    return job.index, samples


def synthesize_and_encode(task: tuple[ClipJob, str, int]) -> tuple[int, torch.Tensor]:
    """(index, float16 encoder frames) of one job: TTS then the frozen encoder, in the worker."""
    import torch

    job, encoder_folder, stack = task
    if not _FRONT_END:
        from modgap_eval.models.paper_lslm import WhisperFrontEnd

        torch.set_num_threads(1)
        _FRONT_END.append(WhisperFrontEnd(encoder_folder, "clip", stack))
    index, waveform = synthesize(job)
    return index, _FRONT_END[0].encode(waveform).to(torch.float16)


def shard_path(folder: Path, shard: int) -> Path:
    return folder / f"shard-{shard:05d}.pt"


def build_shards(
    jobs: Sequence[ClipJob], folder: Path, encoder_folder: str, stack: int, workers: int = 2, progress: bool = True
) -> list[Path]:
    """Make every missing shard of ``jobs`` in ``folder``; return all shard paths in order."""
    import multiprocessing

    import torch
    from tqdm.auto import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    shards = [jobs[i : i + SHARD_SIZE] for i in range(0, len(jobs), SHARD_SIZE)]
    todo = [k for k in range(len(shards)) if not shard_path(folder, k).is_file()]
    if todo:
        bar = tqdm(total=sum(len(shards[k]) for k in todo), desc="speech clips", unit="clip", disable=not progress)
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for k in todo:
                frames, texts, voices = [], [], []
                tasks = [(job, encoder_folder, stack) for job in shards[k]]
                for index, clip_frames in pool.imap(synthesize_and_encode, tasks, chunksize=4):
                    job = jobs[index]
                    frames.append(clip_frames)
                    texts.append(job.text)
                    voices.append(f"{job.engine}:{job.voice}")
                    bar.update(1)
                tmp = shard_path(folder, k).with_suffix(".tmp")
                torch.save({"frames": frames, "texts": texts, "voices": voices}, tmp)
                tmp.replace(shard_path(folder, k))
        bar.close()
    return [shard_path(folder, k) for k in range(len(shards))]


def available_shards(folder: Path, limit: int | None) -> list[Path]:
    """The shards of ``folder`` made so far, in order (at most ``limit``): a run still making data can train."""
    out: list[Path] = []
    while shard_path(folder, len(out)).is_file() and (limit is None or len(out) < limit):
        out.append(shard_path(folder, len(out)))
    return out


def load_examples(paths: Sequence[Path], tokenizer: Any) -> list[Example]:
    """The shards' clips as CTC examples, keeping those with at least one stacked frame per target token."""
    import torch

    from modgap_eval.reference.ctc import Example, token_targets

    examples = []
    for path in paths:
        shard = torch.load(path, weights_only=True)
        for frames, text in zip(shard["frames"], shard["texts"]):
            targets = token_targets(tokenizer, text)
            if 0 < len(targets) <= len(frames) // 5:  # CTC needs at least one frame per target
                examples.append(Example(frames, targets, text))
    return examples
