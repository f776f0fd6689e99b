"""Recompute a run's metrics from its sample logs with the scorers recorded in its results.

The same ``aggregate.score_task`` as the run (output extras such as the transcript WER included), so
a rescore of an unchanged run reproduces its numbers. Tasks the run lists as not run stay so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modgap_eval.aggregate import TaskScores, aggregate_group, score_task
from modgap_eval.errors import ConfigError, RegistryError
from modgap_eval.results import ModalityRecord, RunResults, SampleRecord, read_results
from modgap_eval.scoring import SCORERS
from modgap_eval.types import Audio, Generation, Loglikelihood, Output, Sample


def _output(record: ModalityRecord) -> Output:
    if record.logprobs is not None:
        return Loglikelihood(
            logprobs=tuple(record.logprobs), token_counts=tuple(record.token_counts or ()), extras=record.extras
        )
    return Generation(text=record.response or "", extras=record.extras)


def read_sample_log(path: Path) -> list[SampleRecord]:
    if not path.is_file():
        raise ConfigError(f"{path}: no sample log; re-run the evaluation with --log_samples to make rescoring possible")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(SampleRecord.model_validate_json(line))
        except ValidationError as exc:
            raise ConfigError(f"{path}:{number}: not a sample record ({exc.errors()[0]['msg']})") from exc
    return records


def score_from_log(run_dir: Path, name: str, scorer_record: dict[str, Any], seed: int, iters: int) -> TaskScores:
    """Score task ``name`` of a run from its sample log, with the scorer its results record."""
    records = read_sample_log(run_dir / f"samples_{name}.jsonl")
    try:
        scorer = SCORERS.get(scorer_record["name"])(**scorer_record.get("args", {}))
    except (RegistryError, TypeError) as exc:
        raise ConfigError(f"{run_dir}: task {name}: cannot rebuild scorer {scorer_record}: {exc}") from exc
    samples = [
        Sample(
            id=r.id,
            text=r.text,
            audio=Audio(path=Path(f"<not needed to rescore: {r.id}>")),
            references=tuple(r.references),
            choices=tuple(r.choices),
            answer_index=r.answer_index,
            metadata=r.metadata,
        )
        for r in records
    ]
    text = {r.id: _output(r.text_result) for r in records}
    speech = {r.id: _output(r.speech_result) for r in records}
    return score_task(scorer, samples, text, speech, seed, iters)


def rescore_run(run_dir: Path) -> RunResults:
    results = read_results(run_dir)
    tasks, pooled = {}, {}
    seed, iters = results.envelope.seed, results.envelope.bootstrap_iters
    for name, task in results.tasks.items():
        scores = score_from_log(run_dir, name, task.scorer, seed, iters)
        pooled[name] = scores.samples
        tasks[name] = task.model_copy(update=scores.result_fields())
    groups = {
        name: aggregate_group(name, group.tasks, tasks, pooled, seed, iters) for name, group in results.groups.items()
    }
    return results.model_copy(update={"tasks": tasks, "groups": groups})
