"""IFEval scorer: strict and loose instruction checks at prompt and instruction level (METHOD.md §7).

Strict: the response as given must pass each check (a blank response passes none). Loose: a check
passes if any of eight relaxed variants passes (first and/or last line dropped, ``*`` removed), as
in IFEval. The task score is the mean of the four accuracies — strict/loose × prompt (all
instructions followed) / instruction (share of all instructions followed, pooled over samples).
A sample's ``value`` is the mean of its own four numbers, so it pairs across modalities. Its extras
hold ``strict_prompt``/``loose_prompt`` (0 or 1) and the counts ``n_strict_followed``,
``n_loose_followed`` and ``n_instructions``, from which ``aggregate`` pools instruction accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modgap_eval.errors import DataError
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.scoring.ifeval_checks import CHECKS
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample


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

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        text = self.generated(output).text
        instructions = self._instructions(sample)
        try:
            strict = [follows(iid, text, kw, loose=False) for iid, kw in instructions]
            loose = [follows(iid, text, kw, loose=True) for iid, kw in instructions]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"ifeval: sample {sample.id}: bad instruction arguments ({exc})") from exc
        n = len(instructions)
        extras = {
            "strict_prompt": float(all(strict)),
            "loose_prompt": float(all(loose)),
            "n_strict_followed": float(sum(strict)),
            "n_loose_followed": float(sum(loose)),
            "n_instructions": float(n),
        }
        value = (extras["strict_prompt"] + extras["loose_prompt"] + sum(strict) / n + sum(loose) / n) / 4
        return SampleScore(
            value=value,
            extracted=f"strict {sum(strict)}/{n}, loose {sum(loose)}/{n}",
            unextractable=not text.strip(),
            extras=extras,
        )

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


def ifeval_accuracies(scores: Sequence[SampleScore]) -> dict[str, float]:
    """The four IFEval accuracies (fractions) from per-sample extras."""
    total = sum(s.extras["n_instructions"] for s in scores)
    return {
        "strict_prompt": sum(s.extras["strict_prompt"] for s in scores) / len(scores),
        "strict_instruction": sum(s.extras["n_strict_followed"] for s in scores) / total,
        "loose_prompt": sum(s.extras["loose_prompt"] for s in scores) / len(scores),
        "loose_instruction": sum(s.extras["n_loose_followed"] for s in scores) / total,
    }
