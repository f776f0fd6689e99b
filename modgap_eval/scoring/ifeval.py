"""IFEval scorer: strict and loose instruction checks at prompt and instruction level (METHOD.md §7).

Strict: the response as given must pass each check (a blank response passes none). Loose: a check
passes if any of eight relaxed variants passes (first and/or last line dropped, ``*`` removed), as
in IFEval. The task score is the mean of the four accuracies — strict/loose × prompt (all
instructions followed) / instruction (share of all instructions followed, pooled over samples).
A sample's ``value`` is the mean of its own four numbers, so it pairs across modalities. Its extras
hold ``strict_prompt``/``loose_prompt`` (0 or 1) and the counts ``n_strict_followed``,
``n_loose_followed`` and ``n_instructions``, from which ``aggregate`` pools instruction accuracy.

Two declared readings: ``strict`` (primary, the above) and ``voicebench``, VoiceBench's IFEval
number on the same responses (src/evaluator/ifeval.py at 5338154, Google's checks): the same four
accuracies and their mean, after its cleaning (a leading ``<1>``/``<2>``/``<3>`` and a trailing
``<|user|>`` dropped) and its keying of responses by prompt text (every item with a repeated prompt
is checked on the last such item's response). Where the cleaning changes a response, its counts
sit in ``voicebench_*`` extras. The reading carries no paired statistics (they stay on strict).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modgap_eval.errors import DataError
from modgap_eval.scoring.base import Reading, SampleScore, Scorer
from modgap_eval.scoring.ifeval_checks import CHECKS
from modgap_eval.scoring.voicebench import STRICT, VOICEBENCH
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

READINGS: tuple[Reading, ...] = (
    Reading(STRICT, "mean of strict/loose x prompt/instruction accuracy, our checks (primary; paired CI and McNemar)"),
    Reading(
        VOICEBENCH,
        "VoiceBench's IFEval number (src/evaluator/ifeval.py at 5338154): the same mean after its response "
        "cleaning and prompt-text keying; no paired statistics (they stay on strict)",
        paired_stats=False,
    ),
)
VOICEBENCH_PREFIX = "voicebench_"
"""Prefix of the extras that hold a sample's counts under the ``voicebench`` reading."""


def voicebench_clean(response: str) -> str:
    """VoiceBench's IFEval cleaning: a leading turn marker ``<1>``..``<3>``, then a trailing ``<|user|>``."""
    if response.startswith(("<1>", "<2>", "<3>")):
        response = response[3:].strip()
    if response.endswith("<|user|>"):
        response = response[:-8].strip()
    return response


def loose_variants(response: str) -> list[str]:
    """The response and its IFEval relaxations, in IFEval's order."""
    lines = response.split("\n")
    without_first = "\n".join(lines[1:]).strip()
    without_last = "\n".join(lines[:-1]).strip()
    without_both = "\n".join(lines[1:-1]).strip()
    variants = [response, without_first, without_last, without_both]
    return variants + [variant.replace("*", "") for variant in variants]


def clean_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop unset arguments: hub rows carry every IFEval argument name, unused ones as None/empty."""
    return {key: value for key, value in (kwargs or {}).items() if value not in (None, "", [])}


def follows(instruction_id: str, response: str, kwargs: Mapping[str, Any], loose: bool) -> bool:
    check = CHECKS[instruction_id]
    candidates = loose_variants(response) if loose else [response]
    return any(candidate.strip() and check(candidate, kwargs) for candidate in candidates)


class IFEvalScorer(Scorer):
    """Reads ``instruction_id_list`` and ``kwargs`` from the sample's metadata (columns of the row)."""

    output_type = OutputType.GENERATE

    def __init__(self, instructions_column: str = "instruction_id_list", kwargs_column: str = "kwargs") -> None:
        self.instructions_column = instructions_column
        self.kwargs_column = kwargs_column

    def _instructions(self, sample: Sample) -> list[tuple[str, dict[str, Any]]]:
        ids = sample.metadata.get(self.instructions_column)
        all_kwargs = sample.metadata.get(self.kwargs_column)
        if not ids or all_kwargs is None or len(all_kwargs) != len(ids):
            raise DataError(
                f"ifeval: sample {sample.id} needs metadata {self.instructions_column!r} and {self.kwargs_column!r} "
                "of equal length (add them to fields.metadata)"
            )
        unknown = [iid for iid in ids if iid not in CHECKS]
        if unknown:
            raise DataError(f"ifeval: sample {sample.id} has unknown instruction ids {unknown}")
        return [(iid, clean_kwargs(kw)) for iid, kw in zip(ids, all_kwargs)]

    def readings(self) -> tuple[Reading, ...]:
        return READINGS

    @property
    def primary_reading(self) -> str:
        return STRICT

    def _counts(self, sample: Sample, text: str) -> dict[str, float]:
        instructions = self._instructions(sample)
        try:
            strict = [follows(iid, text, kw, loose=False) for iid, kw in instructions]
            loose = [follows(iid, text, kw, loose=True) for iid, kw in instructions]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"ifeval: sample {sample.id}: bad instruction arguments ({exc})") from exc
        return {
            "strict_prompt": float(all(strict)),
            "loose_prompt": float(all(loose)),
            "n_strict_followed": float(sum(strict)),
            "n_loose_followed": float(sum(loose)),
            "n_instructions": float(len(instructions)),
        }

    def score(self, sample: Sample, output: Output) -> SampleScore:
        text = self.generated(output).text
        extras = self._counts(sample, text)
        cleaned = voicebench_clean(text)
        voicebench = {} if cleaned == text else self._counts(sample, cleaned)  # mostly equal: no extras then
        n, strict, loose = extras["n_instructions"], extras["n_strict_followed"], extras["n_loose_followed"]
        return SampleScore(
            value=_sample_value(extras),
            extracted=f"strict {strict:.0f}/{n:.0f}, loose {loose:.0f}/{n:.0f}",
            unextractable=not text.strip(),
            extras={**extras, **{VOICEBENCH_PREFIX + key: value for key, value in voicebench.items()}},
            readings={STRICT: _sample_value(extras), VOICEBENCH: _sample_value(voicebench or extras)},
        )

    def aggregate_reading(self, name: str, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> float:
        """``strict``: the task score; ``voicebench``: VoiceBench's, each item on the last response to its prompt."""
        if name == STRICT or not scores:
            return self.aggregate(scores)
        last = {sample.text: score for sample, score in zip(samples, scores)}  # later items overwrite, as its dict
        accuracies = ifeval_accuracies([last[sample.text] for sample in samples], prefix=VOICEBENCH_PREFIX)
        return 100.0 * sum(accuracies.values()) / len(accuracies)

    def aggregate(self, scores: Sequence[SampleScore]) -> float:
        """Mean of strict/loose prompt accuracy and strict/loose pooled instruction accuracy, in percent."""
        if not scores:
            return float("nan")
        accuracies = ifeval_accuracies(scores)
        return 100.0 * sum(accuracies.values()) / len(accuracies)

    def aggregate_extras(self, scores: Sequence[SampleScore]) -> dict[str, float]:
        """The four IFEval accuracies in percent, and the instructions per prompt (a count, not a percent)."""
        if not scores:
            return {}
        accuracies = {k: 100.0 * v for k, v in ifeval_accuracies(scores).items()}
        return {**accuracies, "instructions_per_prompt": sum(s.extras["n_instructions"] for s in scores) / len(scores)}


def _sample_value(counts: Mapping[str, float]) -> float:
    """A sample's own mean of the four accuracies."""
    n = counts["n_instructions"]
    prompt = counts["strict_prompt"] + counts["loose_prompt"]
    return (prompt + counts["n_strict_followed"] / n + counts["n_loose_followed"] / n) / 4


def ifeval_accuracies(scores: Sequence[SampleScore], prefix: str = "") -> dict[str, float]:
    """The four IFEval accuracies (fractions) from per-sample extras (``prefix`` + key where present, else key)."""

    def total(key: str) -> float:
        return sum(s.extras.get(prefix + key, s.extras[key]) for s in scores)

    instructions = total("n_instructions")
    return {
        "strict_prompt": total("strict_prompt") / len(scores),
        "strict_instruction": total("n_strict_followed") / instructions,
        "loose_prompt": total("loose_prompt") / len(scores),
        "loose_instruction": total("n_loose_followed") / instructions,
    }
