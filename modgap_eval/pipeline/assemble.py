"""Assemble stage: a task's record in results.json and its sample log (what ``rescore`` reads)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modgap_eval.aggregate import TaskScores
from modgap_eval.pipeline.context import TaskData
from modgap_eval.pipeline.represent import Represented
from modgap_eval.requests import describe_prompt
from modgap_eval.results import ModalityRecord, SampleErrorRecord, SampleRecord, TaskResult
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.types import Generation, Modality, Output, Sample


def task_fields(data: TaskData, errors: Mapping[str, str], scorer: Scorer) -> dict[str, Any]:
    """What a task's record holds besides its scores (shared by scored and not-scored tasks)."""
    spec = data.task.spec
    scorer_record: dict[str, Any] = {"name": spec.scorer.name, "args": dict(spec.scorer.args)}
    if getattr(scorer, "needs_judge", False):  # the judge profile, model and endpoint used (never the key)
        scorer_record["judge"] = scorer.describe()
    return dict(
        task=data.task.name,
        version=spec.version,
        content_hash=data.content_hash,
        output_type=spec.output_type.value,
        scorer=scorer_record,
        prompt={
            "template": spec.prompt.template,
            "system": spec.prompt.system,
            "continuations": spec.continuations,
            "generation": spec.generation.model_dump(),
        },
        speech_source=speech_source(data.task),
        metadata=dict(spec.metadata),
        n_samples=len(data.samples),
        errors=[SampleErrorRecord(sample_id=k, message=v) for k, v in errors.items()],
    )


def assemble(
    data: TaskData,
    errors: Mapping[str, str],
    scorer: Scorer,
    scores: TaskScores,
    represented: Represented,
    interventions: Sequence[Any],
) -> TaskResult:
    return TaskResult(
        **task_fields(data, errors, scorer),
        **scores.result_fields(),
        representations=represented.summary,
        interventions=list(interventions),
    )


def speech_source(task: LoadedTask) -> dict[str, object]:
    speech = task.spec.speech
    if speech.tts is None:
        return {"column": speech.column}
    from modgap_eval.tasks.tts import TTS_ENGINES

    return {"tts": TTS_ENGINES.get(speech.tts.engine)(speech.tts).describe()}


def write_sample_log(
    path: Path, task: LoadedTask, scores: TaskScores, per_sample: Mapping[str, Mapping[str, float]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for x in scores.samples:
            representation = per_sample.get(x.sample.id)
            record = sample_record(
                task,
                x.sample,
                (x.text_output, x.text),
                (x.speech_output, x.speech),
                flipped=x.flipped,
                representation=dict(representation) if representation is not None else None,
            )
            handle.write(record.model_dump_json() + "\n")


def sample_record(
    task: LoadedTask,
    sample: Sample,
    text: tuple[Output, SampleScore | None],
    speech: tuple[Output, SampleScore | None],
    flipped: str | None = None,
    representation: dict[str, float] | None = None,
) -> SampleRecord:
    """One sample-log line: both prompts, outputs and (when scored) scores; what ``rescore`` reads."""
    return SampleRecord(
        id=sample.id,
        text=sample.text,
        references=list(sample.references),
        choices=list(sample.choices),
        answer_index=sample.answer_index,
        metadata=dict(sample.metadata),
        text_result=modality_record(describe_prompt(task, sample, Modality.TEXT), *text),
        speech_result=modality_record(describe_prompt(task, sample, Modality.SPEECH), *speech),
        flipped=flipped,
        representation=representation,
    )


def modality_record(prompt: str, output: Output, score: SampleScore | None) -> ModalityRecord:
    """One modality's output and, when scored, its score (None: generated and saved, judged later)."""
    common: dict[str, Any] = dict(prompt=prompt, extras=json.loads(json.dumps(dict(output.extras), default=str)))
    if score is None:
        common["score"] = None
    else:
        common.update(
            score=score.value,
            extracted=score.extracted,
            unextractable=score.unextractable,
            score_extras=dict(score.extras),
            readings=dict(score.readings),
        )
    if isinstance(output, Generation):
        return ModalityRecord(response=output.text, **common)
    return ModalityRecord(logprobs=list(output.logprobs), token_counts=list(output.token_counts), **common)
