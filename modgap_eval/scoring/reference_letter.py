"""Multiple choice whose options live inside the prompt text and whose reference is a letter.

VoiceBench's mmsu and openbookqa rows carry the question with its lettered options in one
``prompt`` column (spoken as a whole) and the right letter in ``reference``; there is no choices
column. The letter is read from the response with ``choice.extract_letter`` (deterministic: no
answer found is wrong and counted as unextractable, never a random letter): the ``strict`` reading.
The ``voicebench`` reading is VoiceBench's MCQ evaluator on the same response (``scoring.voicebench``).
"""

from __future__ import annotations

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.base import SampleScore, letter, match_score
from modgap_eval.scoring.choice import extract_letter
from modgap_eval.scoring.voicebench import StrictAndVoiceBench, voicebench_mcq_credit
from modgap_eval.types import Sample


class ReferenceLetter(StrictAndVoiceBench):
    """value 1.0 when the letter read from the response equals the reference letter."""

    needs_references = True

    def __init__(self, n_choices: int = 4) -> None:
        if not isinstance(n_choices, int) or not 2 <= n_choices <= 26:
            raise ConfigError(f"mc_reference_letter: n_choices must be an integer in [2, 26], got {n_choices!r}")
        self.n_choices = n_choices

    def score_both(self, sample: Sample, text: str) -> tuple[SampleScore, float]:
        target = sample.references[0].strip().strip("()").upper() if sample.references else ""
        if len(target) != 1 or not "A" <= target <= letter(self.n_choices - 1):
            raise DataError(
                f"mc_reference_letter: sample {sample.id}: reference {target!r} is not one of "
                f"A..{letter(self.n_choices - 1)}"
            )
        return match_score(extract_letter(text, self.n_choices), target), voicebench_mcq_credit(text, target)
