"""Multiple-choice scorers: by log-likelihood of the options, or by a letter read from generated text.

Both are deterministic. An answer that cannot be read from the text is wrong and counted
(``unextractable``) — never replaced by a random letter (METHOD.md §7).
"""

from __future__ import annotations

import math
import re
from typing import Literal

from modgap_eval.errors import ConfigError
from modgap_eval.scoring.base import SampleScore, Scorer, letter
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample


class LoglikelihoodChoice(Scorer):
    """Right when the correct option has the highest log-probability (ties: the first option).

    ``normalize="none"`` compares summed log-probs; ``"length"`` divides by the token count
    (lm-eval's ``acc_norm`` uses characters; tokens are the model-independent-enough choice here).
    """

    output_type = OutputType.LOGLIKELIHOOD
    needs_choices = True

    def __init__(self, normalize: Literal["none", "length"] = "none") -> None:
        if normalize not in ("none", "length"):
            raise ConfigError(f"mc_loglikelihood: normalize must be 'none' or 'length', not {normalize!r}")
        self.normalize = normalize

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Loglikelihood):
            raise TypeError("mc_loglikelihood scores Loglikelihood outputs")
        values = list(output.logprobs)
        if self.normalize == "length":
            values = [lp / max(n, 1) for lp, n in zip(output.logprobs, output.token_counts)]
        if not values or any(math.isnan(v) for v in values):
            return SampleScore(value=0.0, unextractable=True)
        best = max(range(len(values)), key=lambda i: (values[i], -i))
        return SampleScore(value=float(best == sample.answer_index), extracted=letter(best))


_LETTER_PATTERNS = (
    # "answer is (B)", "Answer: B", "the correct option is B."
    r"(?:answer|option|choice)\s*(?:is|:)?\s*(?:option\s*)?\(?\b([A-{last}])\b\)?",
    # a line that is just the letter, possibly with punctuation: "B", "(B)", "B."
    r"^\s*\(?([A-{last}])\)?[.:)]?\s*$",
    # starts with the letter then punctuation: "B. Paris", "(B) Paris"
    r"^\s*\(?([A-{last}])[.:)]\s",
)


def extract_letter(text: str, n_choices: int) -> str | None:
    """Return the option letter a response commits to, or None if none can be read.

    Deterministic; only letters within the first ``n_choices`` count.
    """
    if not text or n_choices < 1:
        return None
    last = letter(n_choices - 1)
    for pattern in _LETTER_PATTERNS:
        for line in text.strip().splitlines() or [text]:
            match = re.search(pattern.format(last=last), line, flags=re.IGNORECASE if "answer" in pattern else 0)
            if match:
                return match.group(1).upper()
    return None


class LetterChoice(Scorer):
    """Right when the letter extracted from the generated text is the correct option's letter."""

    output_type = OutputType.GENERATE
    needs_choices = True

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Generation):
            raise TypeError("mc_letter scores Generation outputs")
        found = extract_letter(output.text, len(sample.choices))
        if found is None:
            return SampleScore(value=0.0, unextractable=True)
        assert sample.answer_index is not None  # guaranteed by the loader for choice tasks
        return SampleScore(value=float(found == letter(sample.answer_index)), extracted=found)
