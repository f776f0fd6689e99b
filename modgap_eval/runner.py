"""The evaluation pipeline, top to bottom (DESIGN.md): config → tasks → requests → execute → score
→ aggregate → representations → write.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Sequence

from modgap_eval import __version__
from modgap_eval.aggregate import Output, TaskScores, aggregate_group, score_task
from modgap_eval.audio import decoder_versions
from modgap_eval.cache import ResponseCache, request_key
from modgap_eval.calibration import attach_calibration, calibration_premise, copy_calibration, neutral_samples
from modgap_eval.config import RunConfig
from modgap_eval.distributed import DistInfo, detect, device_for, finish, gather_merged, shard
from modgap_eval.envelope import git_revision, package_versions, platform_description
from modgap_eval.errors import CapabilityError, ConfigError, DataError
from modgap_eval.models import MODELS
from modgap_eval.models.base import Capability, Model, RuntimeOptions, check_capabilities
from modgap_eval.requests import (
    PendingRequest,
    content_length,
    describe_prompt,
    make_prompt,
    make_prompt_pair,
    make_request,
    request_parts,
)
from modgap_eval.results import (
    Envelope,
    ModalityRecord,
    ModelRecord,
    RunResults,
    SampleErrorRecord,
    SampleRecord,
    TaskResult,
    write_results,
)
from modgap_eval.tasks.loader import LoadedTask, content_hash, discover, load_samples
from modgap_eval.tasks.schema import OutputType
from modgap_eval.scoring.base import SampleScore
from modgap_eval.types import Generation, InterventionMode, Modality, Sample

DEFAULT_AUTO_CHUNK = 64
"""Requests handed to the adapter at once under --batch_size auto (it splits further if needed)."""


@dataclass(frozen=True)
class RunOutcome:
    results: RunResults
    run_dir: Path


@dataclass(frozen=True)
class TaskData:
    task: LoadedTask
    samples: list[Sample]
    content_hash: str


def evaluate(config: RunConfig) -> RunOutcome | None:
    """Run ``config`` end to end; returns the results and the directory they were written to.

    Under a data-parallel launcher (torchrun, accelerate launch) each rank runs its shard of every
    task's samples; rank 0 gathers, scores, writes and returns; the other ranks return None.
    """
    dist = detect()
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    model_cls = MODELS.get(config.model)
    index = discover(config.include_path)
    task_names = index.select(config.tasks)
    tasks = [index.tasks[name] for name in task_names]
    represent = _representations_wanted(config, model_cls)
    check_capabilities(model_cls, _needed_capabilities(config, tasks, represent))
    if not model_cls.accepts_speech:
        raise CapabilityError(
            f"model {config.model!r} reads text only, and every task is evaluated in both modalities; for the "
            f"base-model text condition run --model cascade --model_args lm=<the same LM> (its text pass is that LM alone)")

    data = []
    for task in tasks:  # data after the capability check, before the (expensive) model
        samples = load_samples(task, config.data_dir, config.limit, progress=config.progress)
        data.append(TaskData(task, samples, content_hash(task, samples)))
    timings["load_tasks"] = time.perf_counter() - clock

    runtime = RuntimeOptions(device=device_for(config.device, dist), dtype=config.dtype,
                             batch_size=None if config.batch_size == "auto" else config.batch_size, seed=config.seed,
                             keep_states=represent)
    model = model_cls.from_args(config.model_args, runtime)
    info = model.info()
    run_dir = _run_dir(config, info.name, started)
    cache = ResponseCache(config.output_path / ".cache" if config.use_cache else None,
                          stem=request_key(model.cache_key(), [])[:16], suffix=f".rank{dist.rank}" if dist.enabled else "")

    task_results: dict[str, TaskResult] = {}
    for item in data:
        tick = time.perf_counter()
        result = _run_task(config, model, item, cache, represent, run_dir, dist)
        if result is not None:
            task_results[item.task.name] = result
        timings[f"task:{item.task.name}"] = time.perf_counter() - tick
    model.close()
    finish(dist)
    if not dist.is_main:
        return None

    groups = {name: aggregate_group(name, index.group_members(name), task_results)
              for name, group in index.groups.items()
              if all(member in task_results for member in index.group_members(name))}
    decoder, resampler = decoder_versions()
    finished = datetime.now(timezone.utc)
    results = RunResults(
        model=ModelRecord(name=info.name, args=dict(info.args), source=info.source, revision=info.revision,
                          parameters=info.parameters, details=dict(info.details)),
        tasks=task_results,
        groups=groups,
        envelope=Envelope(
            package_version=__version__, git_revision=git_revision(), python=platform_description()[0],
            platform=platform_description()[1], packages=package_versions(), command=config.command,
            seed=config.seed, batch_size=runtime.batch_size, device=config.device, dtype=config.dtype,
            limit=config.limit, bootstrap_iters=config.bootstrap_iters, audio_decoder=decoder, resampler=resampler,
            representations=represent, started_at=started.isoformat(), finished_at=finished.isoformat(),
            duration_s=time.perf_counter() - clock, timings_s=timings,
        ),
    )
    write_results(results, run_dir)
    return RunOutcome(results, run_dir)


def _representations_wanted(config: RunConfig, model_cls: type[Model]) -> bool:
    if config.representations == "off":
        return False
    if config.representations == "on":
        return True
    return Capability.HIDDEN_STATES in model_cls.capabilities


def _needed_capabilities(config: RunConfig, tasks: Sequence[LoadedTask], represent: bool) -> dict[Capability, str]:
    needed: dict[Capability, str] = {}
    for task in tasks:
        cap = Capability.LOGLIKELIHOOD if task.spec.output_type is OutputType.LOGLIKELIHOOD else Capability.GENERATE
        needed.setdefault(cap, f"task {task.name}")
    if represent:
        needed[Capability.HIDDEN_STATES] = "--representations on"
    if config.intervention:
        needed[Capability.HIDDEN_STATES] = "--intervention"
        needed[Capability.INTERVENTION] = "--intervention"
    return needed


def _run_dir(config: RunConfig, model_name: str, started: datetime) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_name)
    return config.output_path / slug / started.strftime("%Y%m%dT%H%M%S_%fZ")


def _run_task(config: RunConfig, model: Model, item: TaskData, cache: ResponseCache, represent: bool, run_dir: Path,
              dist: DistInfo) -> TaskResult | None:
    task, samples = item.task, item.samples
    errors: dict[str, str] = {}
    outputs: dict[Modality, dict[str, Output]] = {}
    mine = shard(samples, dist)  # whole samples per rank: both modalities of a sample stay together
    for modality in (Modality.TEXT, Modality.SPEECH):
        outputs[modality] = execute(config, model, task, mine, modality, cache, errors)
    outputs[Modality.SPEECH] = _with_transcript_wer(mine, outputs[Modality.SPEECH])
    # calibration requests (issue 16, modgap_eval/calibration.py): the options' log-likelihoods under a neutral
    # prompt, one written request per sample, attached to both modalities' outputs for the pmi reading
    premise = calibration_premise(task)
    if premise is not None:
        neutral = execute(config, model, task, neutral_samples(mine, premise), Modality.TEXT, cache, {})
        outputs = {m: attach_calibration(task, mine, out, neutral) for m, out in outputs.items()}
    if dist.enabled:
        gathered = [gather_merged(part, dist) for part in (outputs[Modality.TEXT], outputs[Modality.SPEECH], errors)]
        if not dist.is_main:
            return None  # representations run on rank 0 over all samples (the derangement spans the task)
        outputs = {Modality.TEXT: gathered[0], Modality.SPEECH: gathered[1]}
        errors = gathered[2]
    scorer = task.make_scorer()
    kept = [s for s in samples if s.id not in errors]
    scores = score_task(scorer, kept, outputs[Modality.TEXT], outputs[Modality.SPEECH], config.seed, config.bootstrap_iters)
    wers = [x.speech_output.extras["wer"] for x in scores.samples if "wer" in x.speech_output.extras]
    if wers:  # the cascade's recognition error, averaged over the paired samples (a fraction, not percent)
        scores = replace(scores, speech=scores.speech.model_copy(
            update={"extras": {**scores.speech.extras, "transcript_wer": sum(wers) / len(wers)}}))

    representation = None
    per_sample: dict[str, dict[str, float]] = {}
    kept_samples = [x.sample for x in scores.samples]
    pair_for = partial(make_prompt_pair, task, sample_rate=model.sample_rate)
    hidden_batch = config.batch_size if isinstance(config.batch_size, int) else 8
    if represent and len(kept_samples) >= 2:  # the mismatched baseline needs another sample
        from modgap_eval.analysis.examples import write_examples
        from modgap_eval.analysis.stage import RepresentationOptions, analyse_task

        analysed = analyse_task(model, kept_samples, pair_for,
                                RepresentationOptions(centering=config.centering, derangement_seed=config.seed,
                                                      batch_size=hidden_batch),
                                progress=config.progress)
        representation = analysed.summary
        per_sample = {k: dict(v) for k, v in analysed.per_sample.items()}
        write_examples(run_dir, task.name, analysed.examples)

    interventions = []
    if config.intervention and kept_samples:
        from modgap_eval.analysis.interventions import InterventionOptions, run_interventions

        interventions.append(run_interventions(
            model, kept_samples, pair_for,
            lambda sample, prompt, intervention: make_request(task, sample, prompt, intervention),
            lambda sample, output: scorer.score(  # issue 16: the pmi reading needs the calibration extras
                sample, copy_calibration(output, outputs[Modality.TEXT][sample.id])),
            InterventionOptions(mode=InterventionMode(config.intervention), critical=config.critical,
                                layers=config.intervention_layers, batch_size=hidden_batch),
            aggregate=scorer.aggregate, speech_without={x.sample.id: x.speech for x in scores.samples},
            progress=config.progress,
        ))

    if config.log_samples:
        _write_sample_log(run_dir / f"samples_{task.name}.jsonl", task, scores, per_sample)
    spec = task.spec
    return TaskResult(
        task=task.name, version=spec.version, content_hash=item.content_hash, output_type=spec.output_type.value,
        scorer={"name": spec.scorer.name, "args": dict(spec.scorer.args)},
        prompt={"template": spec.prompt.template, "system": spec.prompt.system, "continuations": spec.continuations,
                "generation": spec.generation.model_dump()},
        speech_source=_speech_source(task),
        metadata=dict(spec.metadata), n_samples=len(samples),
        errors=[SampleErrorRecord(sample_id=k, message=v) for k, v in errors.items()],
        text=scores.text, speech=scores.speech, gap=scores.gap, primary_reading=scores.primary_reading,
        readings=dict(scores.readings), representations=representation,
        interventions=interventions,
    )


def _with_transcript_wer(samples: Sequence[Sample], outputs: dict[str, Output]) -> dict[str, Output]:
    """Add ``wer`` (transcript vs the written form, jiwer) to outputs that carry a ``transcript`` (cascades)."""
    todo = [k for k, out in outputs.items() if isinstance(out.extras.get("transcript"), str) and "wer" not in out.extras]
    if not todo:
        return outputs
    from modgap_eval.models.cascade import transcript_wer  # only cascade runs get here: keeps torch out of others

    texts = {s.id: s.text for s in samples}
    enriched = dict(outputs)
    for sample_id in todo:
        output = outputs[sample_id]
        enriched[sample_id] = replace(output, extras={**output.extras, "wer": transcript_wer(output.extras["transcript"], texts[sample_id])})
    return enriched


def _speech_source(task: LoadedTask) -> dict[str, object]:
    speech = task.spec.speech
    if speech.tts is None:
        return {"column": speech.column}
    from modgap_eval.tasks.tts import TTS_ENGINES

    engine = TTS_ENGINES.get(speech.tts.engine)(speech.tts)
    return {"tts": engine.describe()}


def execute(config: RunConfig, model: Model, task: LoadedTask, samples: Sequence[Sample], modality: Modality,
            cache: ResponseCache, errors: dict[str, str]) -> dict[str, Output]:
    """Run one modality's requests in length-sorted batches; persist each batch as it completes.

    A sample whose clip cannot be decoded raises DataError, or with ``on_error=skip`` is recorded in
    ``errors`` and left out of both modalities.
    """
    from tqdm.auto import tqdm

    model_key = model.cache_key()
    pending = [PendingRequest(s, modality, request_key(model_key, request_parts(task, s, modality)), content_length(s, modality))
               for s in samples if s.id not in errors]
    outputs: dict[str, Output] = {}
    todo = []
    for request in pending:
        hit = cache.get(request.key)
        if hit is not None:
            outputs[request.sample.id] = hit
        else:
            todo.append(request)
    todo.sort(key=lambda r: -r.length)  # longest first: out-of-memory shows at once, padding is minimal
    chunk = config.batch_size if isinstance(config.batch_size, int) else DEFAULT_AUTO_CHUNK
    method = model.loglikelihood if task.spec.output_type is OutputType.LOGLIKELIHOOD else model.generate
    with tqdm(total=len(pending), initial=len(pending) - len(todo), desc=f"{task.name} [{modality.value}]",
              unit="req", disable=not config.progress) as bar:
        for start in range(0, len(todo), chunk):
            batch, requests = [], []
            for pending_request in todo[start:start + chunk]:
                try:
                    prompt = make_prompt(task, pending_request.sample, modality, model.sample_rate)
                except DataError as exc:
                    if config.on_error == "raise":
                        raise
                    errors[pending_request.sample.id] = str(exc)
                    continue
                batch.append(pending_request)
                requests.append(make_request(task, pending_request.sample, prompt))
            results = method(requests) if requests else []
            if len(results) != len(requests):
                raise ConfigError(f"model {model.info().name} returned {len(results)} outputs for {len(requests)} requests")
            cache.put_many([(r.key, out) for r, out in zip(batch, results)])
            outputs.update({r.sample.id: out for r, out in zip(batch, results)})
            bar.update(len(todo[start:start + chunk]))
    return {k: v for k, v in outputs.items() if k not in errors}


def _write_sample_log(path: Path, task: LoadedTask, scores: TaskScores, per_sample: dict[str, dict[str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for x in scores.samples:
            record = SampleRecord(
                id=x.sample.id, text=x.sample.text, references=list(x.sample.references), choices=list(x.sample.choices),
                answer_index=x.sample.answer_index, metadata=dict(x.sample.metadata),
                text_result=modality_record(describe_prompt(task, x.sample, Modality.TEXT), x.text_output, x.text),
                speech_result=modality_record(describe_prompt(task, x.sample, Modality.SPEECH), x.speech_output, x.speech),
                flipped=x.flipped, representation=per_sample.get(x.sample.id),
            )
            handle.write(record.model_dump_json() + "\n")


def modality_record(prompt: str, output: Output, score: SampleScore) -> ModalityRecord:
    common = dict(prompt=prompt, extras=json.loads(json.dumps(dict(output.extras), default=str)), score=score.value,
                  extracted=score.extracted, unextractable=score.unextractable, score_extras=dict(score.extras),
                  readings=dict(score.readings))
    if isinstance(output, Generation):
        return ModalityRecord(response=output.text, **common)
    return ModalityRecord(logprobs=list(output.logprobs), token_counts=list(output.token_counts), **common)
