"""The evaluation pipeline, top to bottom (DESIGN.md): plan → per task (execute → score → represent →
intervene → assemble) → write. The stages live in ``modgap_eval.pipeline``; this module plans the run,
builds the model and writes ``results.json`` after every task, so a crash late in a run keeps the
tasks already finished (and the response cache keeps the requests of the one in flight).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from modgap_eval import __version__
from modgap_eval.aggregate import ScoredSample, aggregate_group, score_task
from modgap_eval.audio import decoder_versions
from modgap_eval.batching import adapter_batch_size
from modgap_eval.cache import ResponseCache, request_key
from modgap_eval.config import RunConfig
from modgap_eval.distributed import DistInfo, detect, device_for, finish
from modgap_eval.envelope import git_revision, package_versions, platform_description
from modgap_eval.errors import CapabilityError, DataError, require
from modgap_eval.models import MODELS
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions, check_capabilities
from modgap_eval.paths import file_stem
from modgap_eval.pipeline.assemble import assemble, task_fields, write_sample_log
from modgap_eval.pipeline.context import RunContext, TaskData
from modgap_eval.pipeline.execute import execute_task
from modgap_eval.pipeline.intervene import intervene
from modgap_eval.pipeline.represent import represent
from modgap_eval.results import Envelope, ModelRecord, NotScoredTask, RunResults, TaskResult, write_results
from modgap_eval.scoring.pending import unavailable_judge, write_unscored_log
from modgap_eval.tasks.availability import unavailable_reason
from modgap_eval.tasks.loader import LoadedTask, TaskIndex, content_hash, discover, load_samples
from modgap_eval.tasks.schema import OutputType


@dataclass(frozen=True)
class RunOutcome:
    results: RunResults
    run_dir: Path


@dataclass(frozen=True)
class Plan:
    """What a run will do, settled before any model work."""

    index: TaskIndex
    data: Sequence[TaskData]
    not_run: Mapping[str, str]
    represent: bool
    timings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskOutcome:
    """One task's result, or why it has none; ``scored`` feeds the groups' pooled statistics."""

    name: str
    result: TaskResult | None = None
    scored: Sequence[ScoredSample] = ()
    not_run: str | None = None
    not_scored: NotScoredTask | None = None
    """Generated and saved but not scored yet (no judge): ``rescore --judge_base_url`` scores it."""


def evaluate(config: RunConfig, model: Model | None = None, tasks: Sequence[LoadedTask] = ()) -> RunOutcome | None:
    """Run ``config`` end to end; returns the results and the directory they were written to.

    ``model`` replaces ``config.model`` by an adapter already built; ``tasks`` adds task objects to
    the ones found on disk. Under a data-parallel launcher (torchrun, accelerate launch) each rank runs
    its shard of every task's samples; rank 0 gathers, scores, writes and returns; the others None.
    """
    dist, started, clock = detect(), datetime.now(timezone.utc), time.perf_counter()
    model_cls = type(model) if model is not None else MODELS.get(config.model)
    plan = make_plan(config, model_cls, tasks)
    runtime = RuntimeOptions(
        device=device_for(config.device, dist),
        dtype=config.dtype,
        batch_size=adapter_batch_size(config.batch_size),
        seed=config.seed,
    )
    model = model if model is not None else model_cls.from_args(config.model_args, runtime)
    info = model.info()
    ctx = _context(config, model, info, started, dist, plan.represent)
    unreadable = ctx.responses.skipped + ctx.representations.skipped
    if unreadable:  # counted, never fatal: those requests simply run again
        print(
            f"modgap-eval: skipped {unreadable} unreadable line(s) of the response cache (torn by a crash or "
            f"foreign bytes); their requests run again",
            file=sys.stderr,
        )
    outcomes: list[TaskOutcome] = []
    timings, constants = dict(plan.timings), _envelope_constants()
    for data in plan.data:
        tick = time.perf_counter()
        outcome = run_task(ctx, data)
        timings[f"task:{data.task.name}"] = time.perf_counter() - tick
        if outcome is not None:  # rank 0: write after every task, so a crash keeps what is finished
            outcomes.append(outcome)
            write_results(
                _results(config, plan, info, runtime, outcomes, started, clock, timings, constants, final=False),
                ctx.run_dir,
            )
    model.close()
    finish(dist)
    if not dist.is_main:
        return None
    results = _results(config, plan, info, runtime, outcomes, started, clock, timings, constants)
    write_results(results, ctx.run_dir)
    return RunOutcome(results, ctx.run_dir)


def make_plan(config: RunConfig, model_cls: type[Model], extra_tasks: Sequence[LoadedTask] = ()) -> Plan:
    """Select the tasks, check capabilities and data availability, then load samples: all before any model work.

    A task that ``all`` selected but whose data cannot be had is listed as not run; one named explicitly
    (or through a named group) is an error.
    """
    clock = time.perf_counter()
    found = discover(config.include_path)
    index = TaskIndex(tasks={**found.tasks, **{t.name: t for t in extra_tasks}}, groups=found.groups)
    selected = [index.tasks[name] for name in index.select(config.tasks)]
    represent = _representations_wanted(config, model_cls)
    check_capabilities(model_cls, _needed_capabilities(config, selected, represent))
    if not model_cls.accepts_speech:
        raise CapabilityError(
            f"model {config.model!r} reads text only, and every task is evaluated in both modalities; for the "
            f"base-model text condition run --model cascade --model_args lm=<the same LM> "
            f"(its text pass is that LM alone)"
        )
    named = [n for n in config.tasks if n != "all"]
    explicit = set(index.select(named)) if named else set()
    not_run = {task.name: reason for task in selected if (reason := unavailable_reason(task, config.data_dir))}
    named_missing = next((name for name in not_run if name in explicit), None)
    if named_missing is not None:
        raise DataError(f"task {named_missing}: {not_run[named_missing]}")
    data = []
    for task in (t for t in selected if t.name not in not_run):  # data after the checks, before the (expensive) model
        samples = load_samples(task, config.data_dir, config.limit, progress=config.progress)
        data.append(TaskData(task, samples, content_hash(task, samples)))
    return Plan(index, data, not_run, represent, {"load_tasks": time.perf_counter() - clock})


def run_task(ctx: RunContext, data: TaskData) -> TaskOutcome | None:
    """Execute → score → represent → intervene → assemble one task (rank 0; None on the other ranks)."""
    executed = execute_task(ctx, data)
    if executed is None:
        return None
    kept = [s for s in data.samples if s.id not in executed.errors]
    if not any(s.id in executed.text and s.id in executed.speech for s in kept):
        first = next(iter(executed.errors.items()), ("-", "no output"))
        return TaskOutcome(
            data.task.name,
            not_run=f"all {len(data.samples)} sample(s) skipped on error (first: {first[0]}: {first[1]})",
        )
    scorer = data.task.make_scorer()
    reason = unavailable_judge(scorer)
    if reason is not None:  # judge later: keep the responses, report the task as not scored, go on
        n_responses = write_unscored_log(
            ctx.run_dir / f"samples_{data.task.name}.jsonl", data.task, kept, executed.text, executed.speech
        )
        return TaskOutcome(
            data.task.name,
            not_scored=NotScoredTask(
                **task_fields(data, executed.errors, scorer), reason=reason, n_responses=n_responses
            ),
        )
    scores = score_task(scorer, kept, executed.text, executed.speech, ctx.config.seed, ctx.config.bootstrap_iters)
    represented = represent(ctx, data, [x.sample for x in scores.samples])
    interventions = intervene(ctx, data, scorer, scores)
    if ctx.config.log_samples:
        write_sample_log(ctx.run_dir / f"samples_{data.task.name}.jsonl", data.task, scores, represented.per_sample)
    return TaskOutcome(
        data.task.name, assemble(data, executed.errors, scorer, scores, represented, interventions), scores.samples
    )


def _context(
    config: RunConfig, model: Model, info: ModelInfo, started: datetime, dist: DistInfo, represent: bool
) -> RunContext:
    folder = config.output_path / ".cache" if config.use_cache else None
    stem = request_key(model.cache_key(), [])[:16]
    suffix = f".rank{dist.rank}" if dist.enabled else ""
    return RunContext(
        config=config,
        model=model,
        responses=ResponseCache(folder, stem=stem, suffix=suffix),
        representations=ResponseCache(folder / "representations" if folder else None, stem=stem, suffix=suffix),
        run_dir=config.output_path / file_stem(info.name) / started.strftime("%Y%m%dT%H%M%S_%fZ"),
        dist=dist,
        represent=represent,
    )


def _results(
    config: RunConfig,
    plan: Plan,
    info: ModelInfo,
    runtime: RuntimeOptions,
    outcomes: Sequence[TaskOutcome],
    started: datetime,
    clock: float,
    timings: Mapping[str, float],
    constants: Mapping[str, Any],
    final: bool = True,
) -> RunResults:
    """The run's results so far; groups' pooled statistics (a bootstrap each) only in the final ones."""
    tasks = {o.name: o.result for o in outcomes if o.result is not None}
    not_scored = {o.name: o.not_scored for o in outcomes if o.not_scored is not None}
    pooled = {o.name: o.scored for o in outcomes if o.result is not None} if final else None
    members = {name: list(plan.index.group_members(name)) for name in plan.index.groups}
    return RunResults(
        model=ModelRecord(**info.model_dump(exclude={"device"})),
        tasks=tasks,
        groups={
            name: aggregate_group(name, names, tasks, pooled, config.seed, config.bootstrap_iters)
            for name, names in members.items()
            if all(m in tasks for m in names)
        },
        not_run={**plan.not_run, **{o.name: o.not_run for o in outcomes if o.not_run is not None}},
        not_scored=not_scored,
        pending_groups={  # groups that only wait for not-scored tasks: rescore with a judge fills them
            name: names
            for name, names in members.items()
            if any(m in not_scored for m in names) and all(m in tasks or m in not_scored for m in names)
        },
        envelope=Envelope(
            **constants,
            command=config.command,
            seed=config.seed,
            batch_size=runtime.batch_size,
            device=info.device or runtime.device,  # ModelInfo.device: what ran, not what was asked
            dtype=config.dtype,
            limit=config.limit,
            bootstrap_iters=config.bootstrap_iters,
            representations=plan.represent,
            started_at=started.isoformat(),
            finished_at=datetime.now(timezone.utc).isoformat(),
            duration_s=time.perf_counter() - clock,
            timings_s=dict(timings),
        ),
    )


def _envelope_constants() -> dict[str, Any]:
    """The parts of the envelope that do not change during a run (read once: git and package look-ups)."""
    decoder, resampler = decoder_versions()
    python, platform = platform_description()
    return {
        "package_version": __version__,
        "git_revision": git_revision(),
        "python": python,
        "platform": platform,
        "packages": package_versions(),
        "audio_decoder": decoder,
        "resampler": resampler,
    }


def _representations_wanted(config: RunConfig, model_cls: type[Model]) -> bool:
    if config.representations == "off":
        return False
    if config.representations == "on":
        require("torch", "models")  # the hidden-state analysis is torch code
        return True
    # auto on a core-only install (no torch): scores and gaps, without the hidden-state analysis
    return Capability.HIDDEN_STATES in model_cls.capabilities and importlib.util.find_spec("torch") is not None


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
