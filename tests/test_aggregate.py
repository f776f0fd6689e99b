"""Declared readings: each is aggregated per modality with its own gap and, where declared, paired statistics."""

from __future__ import annotations

from pathlib import Path

import pytest

from modgap_eval.aggregate import score_task
from modgap_eval.errors import DataError
from modgap_eval.scoring.base import Reading, SampleScore, Scorer
from modgap_eval.stats import paired_bootstrap
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Audio, Generation, Sample


class TwoReadings(Scorer):
    """Primary 'exact': the response equals the reference; 'half': 0.5 credit for any non-empty response."""

    output_type = OutputType.GENERATE

    def readings(self) -> tuple[Reading, ...]:
        return (
            Reading("exact", "response equals the reference"),
            Reading("half", "expected credit", paired_stats=False),
        )

    @property
    def primary_reading(self) -> str:
        return "exact"

    def score(self, sample: Sample, output: Generation) -> SampleScore:  # type: ignore[override]
        exact = float(output.text == sample.references[0])
        return SampleScore(value=exact, readings={"exact": exact, "half": 0.5 if output.text else 0.0})


def _samples(n: int) -> list[Sample]:
    return [
        Sample(id=f"s{i}", text=f"q{i}", audio=Audio(path=Path(f"s{i}.wav")), references=("yes",)) for i in range(n)
    ]


def test_readings_are_aggregated_with_their_own_gap_and_declared_statistics():
    samples = _samples(6)
    text = {s.id: Generation(text="yes") for s in samples}  # 6/6 exact, 6 × 0.5 half
    speech = {
        s.id: Generation(text=t) for s, t in zip(samples, ["yes", "no", "", "yes", "", "no"])
    }  # 2/6 exact, 4 × 0.5
    scores = score_task(TwoReadings(), samples, text, speech, seed=7, bootstrap_iters=200)

    assert scores.primary_reading == "exact"
    exact, half = scores.readings["exact"], scores.readings["half"]
    assert exact.text == pytest.approx(100.0) and exact.speech == pytest.approx(100 * 2 / 6)
    assert exact.gap == pytest.approx(100 - 100 * 2 / 6)
    # the primary reading's statistics are those of the task itself
    assert exact.stats == scores.gap
    # 'half': text 50 %, speech 4 × 0.5 / 6 = 33.3 %; no paired statistics declared
    assert half.text == pytest.approx(50.0) and half.speech == pytest.approx(100 * 2 / 6)
    assert half.gap == pytest.approx(50 - 100 * 2 / 6) and half.stats is None
    reference = paired_bootstrap([1.0] * 6, [1, 0, 0, 1, 0, 0], iters=200, seed=7)
    assert exact.stats.mcnemar_p == pytest.approx(reference.mcnemar_p)
    assert (exact.stats.text_only, exact.stats.speech_only) == (4, 0)


def test_a_declared_reading_missing_from_a_sample_is_an_error():
    class Forgetful(TwoReadings):
        def score(self, sample, output):
            return SampleScore(value=1.0, readings={"exact": 1.0})

    samples = _samples(2)
    outputs = {s.id: Generation(text="yes") for s in samples}
    with pytest.raises(DataError, match="reading 'half'.*sample 's0'.*re-run"):
        score_task(Forgetful(), samples, outputs, outputs, seed=1, bootstrap_iters=10)


def test_scorers_without_readings_report_none():
    from modgap_eval.scoring.choice import LetterChoice

    samples = [Sample(id="a", text="q", audio=Audio(path=Path("a.wav")), choices=("x", "y"), answer_index=1)]
    outputs = {"a": Generation(text="B")}
    scores = score_task(LetterChoice(), samples, outputs, outputs, seed=1, bootstrap_iters=10)
    assert scores.readings == {} and scores.primary_reading is None
