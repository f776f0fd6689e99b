"""Build a task's requests: the same template for both modalities, only the content slot differs.

Requests are described by ``PendingRequest`` (sample, modality, cache key) so that audio is decoded
only for the batch being executed, and cached requests are never decoded at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from modgap_eval.audio import decode
from modgap_eval.errors import DataError
from modgap_eval.scoring.base import letter
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.tasks.rows import audio_digest
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import GenerateRequest, Intervention, LoglikelihoodRequest, Modality, Prompt, PromptPair, Sample


@dataclass(frozen=True)
class PendingRequest:
    sample: Sample
    modality: Modality
    key: str
    """Cache key (see cache.request_key)."""
    length: int
    """Sort key: characters of text, or bytes of encoded audio."""


def continuations(task: LoadedTask, sample: Sample) -> tuple[str, ...]:
    """The strings scored after the prompt: option letters (``" A"``) or option texts."""
    if task.spec.continuations == "letters":
        return tuple(letter(i) for i in range(len(sample.choices)))
    return tuple(sample.choices)


def request_parts(task: LoadedTask, sample: Sample, modality: Modality) -> list[str]:
    """Everything that defines the request, for the cache key."""
    spec = task.spec
    content = sample.text if modality is Modality.TEXT else "audio:" + audio_digest(sample.audio)
    parts = [spec.output_type.value, modality.value, spec.prompt.template, spec.prompt.system or "", content]
    if spec.output_type is OutputType.LOGLIKELIHOOD:
        parts += list(continuations(task, sample))
    else:
        parts += [str(spec.generation.max_new_tokens), *spec.generation.stop]
    return parts


def content_length(sample: Sample, modality: Modality) -> int:
    if modality is Modality.TEXT:
        return len(sample.text)
    audio = sample.audio
    if audio.data is not None:
        return len(audio.data)
    try:
        return audio.path.stat().st_size if audio.path else 0
    except OSError:
        return 0


def make_prompt(task: LoadedTask, sample: Sample, modality: Modality, sample_rate: int) -> Prompt:
    """Fill the task's single content slot; speech decodes the clip (DataError names task and sample)."""
    prefix, suffix = task.spec.prompt.split()
    system = task.spec.prompt.system
    if modality is Modality.TEXT:
        return Prompt(Modality.TEXT, prefix, suffix, system, text=sample.text)
    try:
        waveform = decode(sample.audio, sample_rate)
    except DataError as exc:
        raise DataError(f"task {task.name}, sample {sample.id}: {exc}") from exc
    return Prompt(Modality.SPEECH, prefix, suffix, system, audio=waveform)


def make_prompt_pair(task: LoadedTask, sample: Sample, sample_rate: int) -> PromptPair:
    return PromptPair(
        text=make_prompt(task, sample, Modality.TEXT, sample_rate),
        speech=make_prompt(task, sample, Modality.SPEECH, sample_rate),
    )


def make_request(
    task: LoadedTask, sample: Sample, prompt: Prompt, intervention: Intervention | None = None
) -> GenerateRequest | LoglikelihoodRequest:
    spec = task.spec
    if spec.output_type is OutputType.LOGLIKELIHOOD:
        return LoglikelihoodRequest(prompt=prompt, continuations=continuations(task, sample), intervention=intervention)
    return GenerateRequest(
        prompt=prompt,
        max_new_tokens=spec.generation.max_new_tokens,
        stop=tuple(spec.generation.stop),
        intervention=intervention,
    )


def describe_prompt(task: LoadedTask, sample: Sample, modality: Modality) -> str:
    """The user turn as text, for the sample log; audio shows as ``<audio: source>``."""
    prefix, suffix = task.spec.prompt.split()
    content = sample.text if modality is Modality.TEXT else f"<audio: {sample.audio.describe()}>"
    return prefix + content + suffix
