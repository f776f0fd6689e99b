"""Confidence intervals of a scorer's own task statistic, and the pooled (micro) statistics of a group."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from modgap_eval.aggregate import aggregate_group, score_task
from modgap_eval.results import TaskResult
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.stats import paired_bootstrap
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Audio, Generation, Sample


class PooledHits(Scorer):
    """Like IFEval's instruction accuracy: the task score pools hits over items of different sizes.

    The response is a string of '1'/'0' per instruction; value = fraction of the sample's instructions hit.
    """

    output_type = OutputType.GENERATE

    def score(self, sample: Sample, output: Generation) -> SampleScore:  # type: ignore[override]
        hits, n = output.text.count("1"), len(output.text)
        return SampleScore(value=hits / n, extras={"hits": float(hits), "n": float(n)})

    def aggregate(self, scores):
        return (
            100.0 * sum(s.extras["hits"] for s in scores) / sum(s.extras["n"] for s in scores)
            if scores
            else float("nan")
        )

    def aggregate_extras(self, scores):
        return {}


class MeanAgain(Scorer):
    """Overrides ``aggregate`` with the default's own definition: must give the default's numbers."""

    output_type = OutputType.GENERATE

    def score(self, sample: Sample, output: Generation) -> SampleScore:  # type: ignore[override]
        return SampleScore(value=float(output.text == "yes"))

    def aggregate(self, scores):
        return 100.0 * sum(s.value for s in scores) / len(scores)


def _samples(n: int) -> list[Sample]:
    return [Sample(id=f"s{i}", text=f"q{i}", audio=Audio(path=Path(f"s{i}.wav"))) for i in range(n)]


TEXT = ["1111111111", "1", "11", "1110", "1", "0", "111", "11111"]
SPEECH = ["1111100000", "0", "10", "1100", "1", "0", "011", "11110"]


def test_a_pooled_statistic_gets_the_bootstrap_of_itself_not_a_shifted_mean_ci():
    samples = _samples(len(TEXT))
    text = {s.id: Generation(t) for s, t in zip(samples, TEXT)}
    speech = {s.id: Generation(t) for s, t in zip(samples, SPEECH)}
    scores = score_task(PooledHits(), samples, text, speech, seed=7, bootstrap_iters=400)
    hits_t, hits_s = np.array([t.count("1") for t in TEXT]), np.array([t.count("1") for t in SPEECH])
    sizes = np.array([len(t) for t in TEXT])
    assert scores.text.score == pytest.approx(100 * hits_t.sum() / sizes.sum())  # 24/28
    assert scores.gap.gap == pytest.approx(100 * (hits_t.sum() - hits_s.sum()) / sizes.sum())
    rng = np.random.default_rng(7)  # independent: resample items, recompute the pooled ratio
    gaps, text_stats = [], []
    for _ in range(400):
        idx = rng.integers(0, len(TEXT), size=len(TEXT))
        t, s = 100 * hits_t[idx].sum() / sizes[idx].sum(), 100 * hits_s[idx].sum() / sizes[idx].sum()
        gaps.append(t - s)
        text_stats.append(t)
    assert scores.gap.ci_low == pytest.approx(np.quantile(gaps, 0.025))
    assert scores.gap.ci_high == pytest.approx(np.quantile(gaps, 0.975))
    assert scores.text.stderr == pytest.approx(np.std(text_stats, ddof=1))
    shifted = paired_bootstrap(
        [x.text.value for x in scores.samples], [x.speech.value for x in scores.samples], iters=400, seed=7
    )
    assert abs(scores.gap.ci_low - (shifted.ci_low + scores.gap.gap - shifted.gap)) > 0.5  # the old CI was elsewhere
    assert scores.gap.ci_low <= scores.gap.gap <= scores.gap.ci_high


def test_an_overridden_mean_gives_the_default_numbers():
    samples = _samples(9)
    text = {s.id: Generation("yes" if i % 3 else "no") for i, s in enumerate(samples)}
    speech = {s.id: Generation("yes" if i % 2 else "no") for i, s in enumerate(samples)}

    class Default(MeanAgain):
        aggregate = Scorer.aggregate

    mine = score_task(MeanAgain(), samples, text, speech, seed=3, bootstrap_iters=300)
    default = score_task(Default(), samples, text, speech, seed=3, bootstrap_iters=300)
    assert mine.gap.model_dump() == pytest.approx(default.gap.model_dump())
    assert mine.text.stderr == pytest.approx(default.text.stderr)


def _task_result(name: str, scores) -> TaskResult:
    return TaskResult(
        task=name,
        version=1,
        content_hash="-",
        output_type="generate",
        scorer={},
        prompt={},
        speech_source={},
        n_samples=len(scores.samples),
        text=scores.text,
        speech=scores.speech,
        gap=scores.gap,
    )


def test_group_micro_statistics_are_over_the_pooled_samples():
    scorer = MeanAgain()
    a_samples, b_samples = _samples(5), _samples(12)
    a = score_task(
        scorer,
        a_samples,
        {s.id: Generation("yes") for s in a_samples},
        {s.id: Generation("yes" if i < 2 else "no") for i, s in enumerate(a_samples)},
        seed=1,
        bootstrap_iters=200,
    )
    b = score_task(
        scorer,
        b_samples,
        {s.id: Generation("yes" if i % 2 else "no") for i, s in enumerate(b_samples)},
        {s.id: Generation("yes" if i % 3 == 0 else "no") for i, s in enumerate(b_samples)},
        seed=1,
        bootstrap_iters=200,
    )
    tasks = {"a": _task_result("a", a), "b": _task_result("b", b)}
    group = aggregate_group("g", ["a", "b"], tasks, {"a": a.samples, "b": b.samples}, seed=11, bootstrap_iters=500)
    text = [1.0] * 5 + [float(i % 2) for i in range(12)]
    speech = [float(i < 2) for i in range(5)] + [float(i % 3 == 0) for i in range(12)]
    assert group.gap_micro == pytest.approx(100 * (sum(text) - sum(speech)) / 17)
    assert group.gap == pytest.approx((a.gap.gap + b.gap.gap) / 2)  # macro stays the plain mean of tasks
    stats = group.micro_stats
    text_only = sum(t == 1 and s == 0 for t, s in zip(text, speech))
    speech_only = sum(t == 0 and s == 1 for t, s in zip(text, speech))
    assert (stats.n_paired, stats.text_only, stats.speech_only) == (17, text_only, speech_only)
    assert stats.mcnemar_p == pytest.approx(binomtest(text_only, text_only + speech_only, 0.5).pvalue)
    pooled = paired_bootstrap(text, speech, iters=500, seed=11)
    assert (stats.ci_low, stats.ci_high) == pytest.approx((pooled.ci_low, pooled.ci_high))
    assert aggregate_group("g", ["a", "b"], tasks).micro_stats is None  # without samples: macro and micro means only
