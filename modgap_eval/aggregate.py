"""Score paired outputs and aggregate them into task and group results (METHOD.md §1).

Shared by the runner and ``rescore``: both call ``score_task`` on the same inputs and get the same
numbers, output extras included (a cascade's transcript WER is computed here, from the outputs).
Only samples with an output in both modalities are scored (``n_paired``). A scorer whose task score
is its own statistic (``aggregate`` overridden, e.g. IFEval's pooled accuracies) gets its CI from a
bootstrap of that statistic; the others from the bootstrap of the sample mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from modgap_eval.errors import DataError
from modgap_eval.results import GapStats, GroupReading, GroupResult, ModalityScore, ReadingResult, TaskResult
from modgap_eval.scoring.base import Reading, SampleScore, Scorer
from modgap_eval.stats import PairedStats, Scores, paired_bootstrap, relative_gap
from modgap_eval.transcripts import mean_transcript_wer, with_transcript_wer
from modgap_eval.types import Output, Sample


@dataclass(frozen=True)
class ScoredSample:
    sample: Sample
    text_output: Output
    speech_output: Output
    text: SampleScore
    speech: SampleScore

    @property
    def flipped(self) -> Literal["text_only", "speech_only"] | None:
        if self.text.correct and not self.speech.correct:
            return "text_only"
        if self.speech.correct and not self.text.correct:
            return "speech_only"
        return None


@dataclass(frozen=True)
class TaskScores:
    samples: list[ScoredSample]
    text: ModalityScore
    speech: ModalityScore
    gap: GapStats
    primary_reading: str | None = None
    readings: Mapping[str, ReadingResult] = field(default_factory=dict)

    def result_fields(self) -> dict[str, Any]:
        """The fields of a ``TaskResult`` that these scores fill (a run and a rescore alike)."""
        fields = ("text", "speech", "gap", "primary_reading")
        return {**{name: getattr(self, name) for name in fields}, "readings": dict(self.readings)}


def _modality(scorer: Scorer, scores: Sequence[SampleScore], stderr: float) -> ModalityScore:
    return ModalityScore(
        score=scorer.aggregate(scores),
        stderr=stderr,
        n=len(scores),
        unextractable=sum(s.unextractable for s in scores),
        extras=scorer.aggregate_extras(scores),
    )


def _gap_stats(stats: PairedStats, text_score: float, speech_score: float) -> GapStats:
    gap_value = text_score - speech_score  # equals stats.gap unless the scorer aggregates non-linearly
    shift = gap_value - stats.gap
    return GapStats(
        **asdict(stats.table),
        gap=gap_value,
        relative_gap=relative_gap(gap_value, text_score),
        ci_low=stats.ci_low + shift,
        ci_high=stats.ci_high + shift,
        ci_level=stats.ci_level,
        bootstrap_iters=stats.iters,
        n_paired=stats.n,
        mcnemar_p=stats.mcnemar_p,
    )


def _reading(
    scorer: Scorer, reading: Reading, scored: Sequence[ScoredSample], seed: int, bootstrap_iters: int
) -> ReadingResult:
    missing = [
        x.sample.id for x in scored if reading.name not in x.text.readings or reading.name not in x.speech.readings
    ]
    if missing:
        raise DataError(
            f"scorer declares reading {reading.name!r} but sample {missing[0]!r} has no value for it (an output made "
            f"before that reading existed, e.g. a sample log without calibration log-probs: re-run the task)"
        )
    text_values = [x.text.readings[reading.name] for x in scored]
    speech_values = [x.speech.readings[reading.name] for x in scored]
    samples = [x.sample for x in scored]
    text = scorer.aggregate_reading(reading.name, samples, [x.text for x in scored])
    speech = scorer.aggregate_reading(reading.name, samples, [x.speech for x in scored])
    stats = None
    if reading.paired_stats:
        stats = _gap_stats(paired_bootstrap(text_values, speech_values, iters=bootstrap_iters, seed=seed), text, speech)
    return ReadingResult(description=reading.description, text=text, speech=speech, gap=text - speech, stats=stats)


def score_task(
    scorer: Scorer,
    samples: Sequence[Sample],
    text_outputs: Mapping[str, Output],
    speech_outputs: Mapping[str, Output],
    seed: int,
    bootstrap_iters: int,
) -> TaskScores:
    """Score every sample present in both output maps; bootstrap the paired gap of each reading."""
    speech_outputs = with_transcript_wer(samples, speech_outputs)
    scored = [
        ScoredSample(
            s,
            text_outputs[s.id],
            speech_outputs[s.id],
            scorer.score(s, text_outputs[s.id]),
            scorer.score(s, speech_outputs[s.id]),
        )
        for s in samples
        if s.id in text_outputs and s.id in speech_outputs
    ]
    own_statistic = type(scorer).aggregate is not Scorer.aggregate
    stats = _paired_values_bootstrap(
        scored, bootstrap_iters, seed, _statistic(scorer, scored) if own_statistic else None
    )
    text = _modality(scorer, [x.text for x in scored], stats.text_stderr)
    speech = _modality(scorer, [x.speech for x in scored], stats.speech_stderr)
    wer = mean_transcript_wer([x.speech_output for x in scored])
    if wer is not None:  # the cascade's recognition error over the paired samples (a fraction, not percent)
        speech = speech.model_copy(update={"extras": {**speech.extras, "transcript_wer": wer}})
    readings = {r.name: _reading(scorer, r, scored, seed, bootstrap_iters) for r in scorer.readings()}
    return TaskScores(
        scored,
        text,
        speech,
        _gap_stats(stats, text.score, speech.score),
        primary_reading=scorer.primary_reading,
        readings=readings,
    )


def _paired_values_bootstrap(
    scored: Sequence[ScoredSample], iters: int, seed: int, statistic: Scores | None = None
) -> PairedStats:
    return paired_bootstrap(
        [x.text.value for x in scored], [x.speech.value for x in scored], iters=iters, seed=seed, scores=statistic
    )


def _statistic(scorer: Scorer, scored: Sequence[ScoredSample]) -> Scores:
    """The scorer's own task statistic (text, speech) of a resample's positions, for the paired bootstrap."""

    def of_positions(positions: np.ndarray) -> tuple[float, float]:
        chosen = [scored[j] for j in positions]
        return scorer.aggregate([x.text for x in chosen]), scorer.aggregate([x.speech for x in chosen])

    return of_positions


def aggregate_group(
    name: str,
    members: Sequence[str],
    tasks: Mapping[str, TaskResult],
    pooled: Mapping[str, Sequence[ScoredSample]] | None = None,
    seed: int = 0,
    bootstrap_iters: int = 0,
) -> GroupResult:
    """Plain mean of the member tasks' scores (macro, VoiceBench Overall) and the mean over samples (micro).

    With the members' scored samples (``pooled``), the micro gap gets a paired CI and McNemar test over
    the pooled samples (``micro_stats``).
    """
    results = [tasks[m] for m in members]
    n_total = sum(r.gap.n_paired for r in results)
    text = sum(r.text.score for r in results) / len(results)
    speech = sum(r.speech.score for r in results) / len(results)
    text_micro = sum(r.text.score * r.gap.n_paired for r in results) / n_total if n_total else float("nan")
    speech_micro = sum(r.speech.score * r.gap.n_paired for r in results) / n_total if n_total else float("nan")
    micro_stats = None
    if pooled is not None and bootstrap_iters > 0 and n_total:
        stats = _paired_values_bootstrap([x for m in members for x in pooled[m]], bootstrap_iters, seed)
        micro_stats = _gap_stats(stats, text_micro, speech_micro)
    return GroupResult(
        group=name,
        tasks=list(members),
        text=text,
        speech=speech,
        gap=text - speech,
        text_micro=text_micro,
        speech_micro=speech_micro,
        gap_micro=text_micro - speech_micro,
        n_paired=n_total,
        micro_stats=micro_stats,
        readings=_group_readings(members, results),
    )


def _group_readings(members: Sequence[str], results: Sequence[TaskResult]) -> dict[str, GroupReading]:
    """Each declared reading's macro mean; members without it enter with their primary score.

    So the ``voicebench`` group's ``voicebench`` reading is VoiceBench's Overall on VoiceBench's
    readings (the judged columns have one reading only).
    """
    names = sorted({reading for r in results for reading in r.readings})
    out = {}
    for reading in names:
        text = [r.readings[reading].text if reading in r.readings else r.text.score for r in results]
        speech = [r.readings[reading].speech if reading in r.readings else r.speech.score for r in results]
        out[reading] = GroupReading(
            text=sum(text) / len(text),
            speech=sum(speech) / len(speech),
            gap=(sum(text) - sum(speech)) / len(text),
            members_with_reading=[m for m, r in zip(members, results) if reading in r.readings],
        )
    return out
