"""The scorer protocol: one sample and one model output in, a ``SampleScore`` out.

Scorers are pure and deterministic (no random fallbacks). A scorer declares which output type it
reads; its YAML ``args`` become constructor keyword arguments, checked when the task loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import CORRECT_THRESHOLD, Generation, Output, Sample


@dataclass(frozen=True)
class SampleScore:
    value: float
    """The sample's primary score in [0, 1]; the task score is its mean × 100."""
    extracted: str | None = None
    """What the scorer read from the output (a letter, a number); None if nothing could be read."""
    unextractable: bool = False
    """True when the output held no readable answer (counted as wrong and reported)."""
    extras: Mapping[str, float] = field(default_factory=dict)
    """Secondary per-sample numbers, averaged per task and reported beside the score."""
    readings: Mapping[str, float] = field(default_factory=dict)
    """This output's value under each reading the scorer declares (``Scorer.readings``), each in [0, 1]."""

    @property
    def correct(self) -> bool:
        """Binary view used by the 2×2 table and McNemar: value ≥ ``CORRECT_THRESHOLD`` (0.5)."""
        return self.value >= CORRECT_THRESHOLD


@dataclass(frozen=True)
class Reading:
    """One declared way of reading a task's outputs (e.g. ``acc``, ``acc_norm``, ``voicebench``).

    Every reading is reported per modality with its own gap; ``paired_stats`` says whether a
    paired bootstrap CI and McNemar test are computed on it (they need a per-sample value that
    is a score of that sample, not an expectation over a random draw).
    """

    name: str
    description: str
    paired_stats: bool = True


class Scorer:
    """Base class. Subclasses set ``output_type`` and implement ``score``.

    A scorer that reads outputs in several ways declares them in ``readings()``; each
    ``SampleScore.readings`` then holds one value per declared name, and ``primary_reading``
    names the one that ``SampleScore.value`` equals (the task's headline score).
    """

    output_type: ClassVar[OutputType]
    needs_choices: ClassVar[bool] = False
    needs_references: ClassVar[bool] = False

    def readings(self) -> tuple[Reading, ...]:
        """The readings this scorer reports besides (and including) its primary one; none by default."""
        return ()

    @property
    def primary_reading(self) -> str | None:
        """The name of the reading ``SampleScore.value`` holds, when the scorer declares readings."""
        return None

    def score(self, sample: Sample, output: Output) -> SampleScore:
        raise NotImplementedError

    def aggregate_reading(self, name: str, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> float:
        """A declared reading's task score in percent; the default is the mean of its per-sample values × 100.

        ``samples`` are the scored samples in task order (an official evaluator may key by their text).
        """
        return 100.0 * sum(s.readings[name] for s in scores) / len(scores) if scores else float("nan")

    def generated(self, output: Output) -> Generation:
        """``output`` as the Generation a scorer of generated text needs (the loader pairs them; mypy narrows)."""
        if not isinstance(output, Generation):
            raise TypeError(f"{type(self).__name__} scores Generation outputs")
        return output

    def aggregate(self, scores: Sequence[SampleScore]) -> float:
        """Task score in percent; the default is the mean of ``value`` × 100."""
        return 100.0 * sum(s.value for s in scores) / len(scores) if scores else float("nan")

    def aggregate_extras(self, scores: Sequence[SampleScore]) -> dict[str, float]:
        """Task-level extras; the default reads each per-sample extra as a 0/1 flag: percent of samples."""
        keys = sorted({k for s in scores for k in s.extras})
        return {k: 100.0 * sum(s.extras.get(k, 0.0) for s in scores) / len(scores) for k in keys} if scores else {}

    def describe(self) -> dict[str, object]:
        """Constructor arguments as recorded in results (override if they are not attributes)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


def match_score(found: str | None, target: str) -> SampleScore:
    """1.0 when the answer read from an output equals ``target``; nothing read is wrong and counted."""
    if found is None:
        return SampleScore(value=0.0, unextractable=True)
    return SampleScore(value=float(found == target), extracted=found)


def letter(index: int) -> str:
    """Option letter for a 0-based index: A, B, ..., Z."""
    if not 0 <= index < 26:
        raise ValueError(f"no option letter for index {index}")
    return chr(ord("A") + index)
