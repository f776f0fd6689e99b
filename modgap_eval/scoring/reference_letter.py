"""Multiple choice whose options live inside the prompt text and whose reference is a letter.

VoiceBench's mmsu and openbookqa rows carry the question with its lettered options in one
``prompt`` column (spoken as a whole) and the right letter in ``reference``; there is no choices
column. The letter is read from the response with ``choice.extract_letter`` (deterministic: no
answer found is wrong and counted as unextractable, never a random letter): the ``strict`` reading.
The ``voicebench`` reading is VoiceBench's MCQ evaluator on the same response (``scoring.voicebench``).
"""

from __future__ import annotations

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.base import Reading, SampleScore, Scorer, letter
from modgap_eval.scoring.choice import extract_letter
from modgap_eval.scoring.voicebench import READINGS, STRICT, voicebench_mcq_credit, with_voicebench
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample


class ReferenceLetter(Scorer):
    """value 1.0 when the letter read from the response equals the reference letter."""

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self, n_choices: int = 4) -> None:
        if not isinstance(n_choices, int) or not 2 <= n_choices <= 26:
            raise ConfigError(f"mc_reference_letter: n_choices must be an integer in [2, 26], got {n_choices!r}")
        self.n_choices = n_choices

    def readings(self) -> tuple[Reading, ...]:
        return READINGS

    @property
    def primary_reading(self) -> str:
        return STRICT

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Generation):
            raise TypeError("mc_reference_letter scores Generation outputs")
        target = sample.references[0].strip().strip("()").upper() if sample.references else ""
        if len(target) != 1 or not "A" <= target <= letter(self.n_choices - 1):
            raise DataError(
                f"mc_reference_letter: sample {sample.id}: reference {target!r} is not one of "
                f"A..{letter(self.n_choices - 1)}"
            )
        found = extract_letter(output.text, self.n_choices)
        strict = (
            SampleScore(value=0.0, unextractable=True)
            if found is None
            else SampleScore(value=float(found == target), extracted=found)
        )
        return with_voicebench(strict, voicebench_mcq_credit(output.text, target))
