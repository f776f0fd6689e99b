"""Execute stage: a task's requests through the response cache to the model, both modalities.

Requests are run longest first in calls of ``batching.requests_per_call`` and each call's outputs are
persisted before the next, so a crash loses at most one call. A sample whose prompt cannot be built
(an undecodable clip) raises DataError, or under ``--on_error skip`` is returned in ``errors`` and left
out of both modalities. Under data parallelism each rank runs its shard; rank 0 gets the union.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modgap_eval.batching import requests_per_call
from modgap_eval.cache import request_key
from modgap_eval.calibration import attach_calibration, calibration_premise, neutral_samples
from modgap_eval.distributed import gather_merged, shard
from modgap_eval.errors import ConfigError, DataError
from modgap_eval.pipeline.context import RunContext, TaskData
from modgap_eval.requests import PendingRequest, content_length, make_prompt, make_request, request_parts
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Modality, Output, Sample


@dataclass(frozen=True)
class Executed:
    """Outputs by sample id for the samples that ran in both modalities, and the skipped ones."""

    text: Mapping[str, Output]
    speech: Mapping[str, Output]
    errors: Mapping[str, str]
    """Sample id -> why it was skipped (``--on_error skip``)."""


def execute_task(ctx: RunContext, data: TaskData) -> Executed | None:
    """Both modalities of this rank's shard; the gathered whole on rank 0, None on other ranks."""
    mine = shard(data.samples, ctx.dist)  # whole samples per rank: both modalities of a sample together
    text, errors = execute(ctx, data.task, mine, Modality.TEXT, skip=set())
    speech, speech_errors = execute(ctx, data.task, mine, Modality.SPEECH, skip=set(errors))
    errors = {**errors, **speech_errors}
    text = {k: v for k, v in text.items() if k not in errors}
    speech = {k: v for k, v in speech.items() if k not in errors}
    premise = calibration_premise(data.task)
    if premise is not None:  # the pmi reading: the options under a neutral prompt, one written request per sample
        kept = [s for s in mine if s.id not in errors]
        neutral, _ = execute(ctx, data.task, neutral_samples(kept, premise), Modality.TEXT, skip=set())
        text = attach_calibration(data.task, kept, text, neutral)
        speech = attach_calibration(data.task, kept, speech, neutral)
    gathered = (gather_merged(text, ctx.dist), gather_merged(speech, ctx.dist), gather_merged(errors, ctx.dist))
    if gathered[0] is None or gathered[1] is None or gathered[2] is None:
        return None  # not rank 0
    return Executed(text=gathered[0], speech=gathered[1], errors=gathered[2])


def execute(
    ctx: RunContext, task: LoadedTask, samples: Sequence[Sample], modality: Modality, skip: set[str]
) -> tuple[dict[str, Output], dict[str, str]]:
    """One modality's outputs by sample id (cached or run), and the samples skipped on error."""
    from tqdm.auto import tqdm

    from modgap_eval.models.replay import ReplayModel, replay_outputs  # light: json and hashlib only

    errors: dict[str, str] = {}
    if isinstance(ctx.model, ReplayModel):  # recorded responses (--model replay): no prompts, no audio decoding
        replayed = replay_outputs(
            ctx.model, task, [s for s in samples if s.id not in skip], modality, ctx.config.on_error, errors
        )
        return dict(replayed), errors
    model_key = ctx.model.cache_key()
    pending = [
        PendingRequest(
            s, modality, request_key(model_key, request_parts(task, s, modality)), content_length(s, modality)
        )
        for s in samples
        if s.id not in skip
    ]
    outputs = {r.sample.id: hit for r in pending if (hit := ctx.responses.get(r.key)) is not None}
    todo = sorted((r for r in pending if r.sample.id not in outputs), key=lambda r: -r.length)  # longest first
    size = requests_per_call(ctx.config.batch_size)
    with tqdm(
        total=len(pending),
        initial=len(pending) - len(todo),
        desc=f"{task.name} [{modality.value}]",
        unit="req",
        disable=not ctx.config.progress,
    ) as bar:
        for start in range(0, len(todo), size):
            call = todo[start : start + size]
            outputs.update(_run_call(ctx, task, call, modality, errors))
            bar.update(len(call))
    return outputs, errors


def _run_call(
    ctx: RunContext, task: LoadedTask, call: Sequence[PendingRequest], modality: Modality, errors: dict[str, str]
) -> dict[str, Output]:
    """One adapter call; its outputs are cached before returning. Prompt failures go to ``errors``."""
    batch: list[PendingRequest] = []
    requests: list[Any] = []
    for pending in call:
        try:
            prompt = make_prompt(task, pending.sample, modality, ctx.model.sample_rate)
        except DataError as exc:
            if ctx.config.on_error == "raise":
                raise
            errors[pending.sample.id] = str(exc)
            continue
        batch.append(pending)
        requests.append(make_request(task, pending.sample, prompt))
    method: Any = ctx.model.loglikelihood if task.spec.output_type is OutputType.LOGLIKELIHOOD else ctx.model.generate
    results: list[Output] = method(requests) if requests else []
    if len(results) != len(requests):
        raise ConfigError(f"model {ctx.model.info().name} returned {len(results)} outputs for {len(requests)} requests")
    ctx.responses.put_many([(r.key, out) for r, out in zip(batch, results)])
    return {r.sample.id: out for r, out in zip(batch, results)}
