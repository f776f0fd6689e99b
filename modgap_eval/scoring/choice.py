"""Multiple-choice scorers: by log-likelihood of the options, or by a letter read from generated text.

Both are deterministic. An answer that cannot be read from the text is wrong and counted
(``unextractable``) — never replaced by a random letter (METHOD.md §7).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Literal

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.base import Reading, SampleScore, Scorer, letter, match_score
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Loglikelihood, Output, Sample

CALIBRATION_KEY = "calibration_logprobs"
"""Output extra: log P(option | neutral prompt), one per continuation (attached by ``modgap_eval.calibration``)."""
BYTES_KEY = "continuation_bytes"
"""Output extra: each continuation's length in UTF-8 bytes (the ``acc_norm`` denominator)."""

_LL_READINGS = (
    Reading("acc", "argmax of the summed log-probability of each option's continuation"),
    Reading(
        "acc_norm",
        "argmax of the log-probability per UTF-8 byte of each option's continuation (lm-evaluation-harness acc_norm)",
    ),
    Reading(
        "pmi",
        "argmax of log P(option | prompt) - log P(option | neutral prompt): domain-conditional "
        "PMI (Holtzman et al. 2021)",
    ),
)
_PER_TOKEN = Reading("acc_per_token", "argmax of the mean log-probability per token of each option's continuation")


class LoglikelihoodChoice(Scorer):
    """Right when the correct option scores highest under the primary reading (ties: the first option).

    Every output is read three ways (METHOD.md-style readings, each with its own gap, CI and McNemar):
    ``acc`` compares summed log-probs; ``acc_norm`` divides each by its continuation's length in UTF-8
    bytes, as lm-evaluation-harness does (its ``acc_norm`` divides by ``len(text)``, the same for ASCII);
    ``pmi`` subtracts each option's log-prob under the neutral prompt (``modgap_eval.calibration``),
    which is why this scorer asks the runner for calibration requests (``calibration_premise``).
    ``primary`` names the task's headline reading. ``normalize="length"`` (kept from before the
    readings) adds ``acc_per_token`` (mean log-prob per token) and makes it primary unless ``primary``
    says otherwise.
    """

    output_type = OutputType.LOGLIKELIHOOD
    needs_choices = True

    def __init__(
        self, normalize: Literal["none", "length"] = "none", primary: str | None = None, premise: str = ""
    ) -> None:
        if normalize not in ("none", "length"):
            raise ConfigError(f"mc_loglikelihood: normalize must be 'none' or 'length', not {normalize!r}")
        self.normalize = normalize
        names = [r.name for r in self.readings()]
        chosen = primary if primary is not None else ("acc_per_token" if normalize == "length" else "acc")
        if chosen not in names:
            raise ConfigError(f"mc_loglikelihood: primary must be one of {names}, not {primary!r}")
        if not isinstance(premise, str):
            raise ConfigError(f"mc_loglikelihood: premise must be a string, not {premise!r}")
        self.primary = chosen
        self.premise = premise

    def readings(self) -> tuple[Reading, ...]:
        return _LL_READINGS + ((_PER_TOKEN,) if self.normalize == "length" else ())

    @property
    def primary_reading(self) -> str | None:
        return self.primary

    @property
    def calibration_premise(self) -> str:
        """What fills the content slot of the neutral prompt whose log-probs the ``pmi`` reading subtracts."""
        return self.premise

    def score(self, sample: Sample, output: Output) -> SampleScore:
        if not isinstance(output, Loglikelihood):
            raise TypeError("mc_loglikelihood scores Loglikelihood outputs")
        names = [r.name for r in self.readings()]
        if CALIBRATION_KEY not in output.extras:
            # an output scored outside the runner (or logged before calibration requests existed) has no pmi
            if self.primary == "pmi":
                raise DataError(
                    f"sample {sample.id}: the pmi reading needs the options' log-likelihoods under the "
                    f"neutral prompt (output extras {CALIBRATION_KEY!r}), and this output has none"
                )
            names.remove("pmi")
        picks = {name: _argmax(_option_values(name, sample, output)) for name in names}
        readings = {name: float(pick is not None and pick == sample.answer_index) for name, pick in picks.items()}
        best = picks[self.primary]
        if best is None:
            return SampleScore(value=0.0, unextractable=True, readings=readings)
        return SampleScore(value=readings[self.primary], extracted=letter(best), readings=readings)


def _option_values(reading: str, sample: Sample, output: Loglikelihood) -> list[float]:
    """Each option's number under ``reading`` (the option with the largest one is picked)."""
    logprobs = list(output.logprobs)
    if reading == "acc":
        return logprobs
    if reading == "acc_per_token":
        return [lp / max(n, 1) for lp, n in zip(logprobs, output.token_counts)]
    if reading == "acc_norm":
        # the byte lengths of the continuations actually scored; outputs without them (scored outside the
        # runner, or logged before they were attached) had the option texts as continuations
        sizes = output.extras.get(BYTES_KEY) or [len(choice.encode("utf-8")) for choice in sample.choices]
        return [lp / max(int(size), 1) for lp, size in zip(logprobs, sizes)]
    calibration = output.extras[CALIBRATION_KEY]
    if len(calibration) != len(logprobs):
        raise DataError(
            f"sample {sample.id}: {len(calibration)} neutral-prompt log-likelihoods for {len(logprobs)} options"
        )
    return [lp - float(base) for lp, base in zip(logprobs, calibration)]


def _argmax(values: list[float]) -> int | None:
    """Index of the largest value (the first on ties); None when there is none or any is NaN."""
    if not values or any(math.isnan(v) for v in values):
        return None
    return max(range(len(values)), key=lambda i: (values[i], -i))


# Reading an option letter from free text. VoiceBench's mcq evaluator matches ~150 literal templates
# ("the answer is [X]", "**[X]**", "i'd say [X].", "答案是[X]", ...) and draws a random letter when none
# matches; the families below cover those templates as regular expressions, read deterministically.
# "a", "i" and "I" are usually words ("a bit", "I think"): they count as options only before
# punctuation or the end of the text.
_WORDLIKE = frozenset("aiI")
_TAIL = r"(?=\s*(?:[.,:;!?)\]*\"'”’]|$))"
_OPEN = r"[\s(\[*\"'“‘{]*"


@dataclass(frozen=True)
class _LetterPatterns:
    committed: tuple[re.Pattern[str], ...]
    """Statements of an answer; the one that ends last in the text wins."""
    start: re.Pattern[str]
    """The text opens with the letter ("B", "(C)", "d. ...")."""
    listed: re.Pattern[str]
    """Options written as "(B)" or at a line start: several of them mean a list, not an answer."""
    loose: tuple[re.Pattern[str], ...]
    """Weaker cues, used only when they point at one single letter."""


@functools.lru_cache(maxsize=32)
def _letter_patterns(n_choices: int) -> _LetterPatterns:
    letters = [letter(i) for i in range(n_choices)]
    upper = f"A-{letters[-1]}"
    lower = upper.lower()
    strong = "".join(c for c in letters if c not in _WORDLIKE) + "".join(
        c.lower() for c in letters if c.lower() not in _WORDLIKE
    )
    weak = "".join(c for c in sorted(_WORDLIKE) if c.upper() in letters)
    alone = f"(?-i:([{strong}])(?![A-Za-z0-9])" + (f"|([{weak}]){_TAIL}" if weak else "") + ")"
    i = re.IGNORECASE
    committed = (
        # "the correct answer is (B)", "Answer: **c**", "the best option would be option D", "final answer: A"
        re.compile(
            r"(?:answer|option|choice)(?:\s+to\s+(?:the|this)\s+question)?\s*"
            r"(?:is|would\s+be|should\s+be|will\s+be|:|=)\s*(?:likely|probably|most\s+likely|clearly|therefore)?"
            r"\s*:?\s*(?:option|choice)?" + _OPEN + alone,
            i,
        ),
        re.compile(r"答案\s*(?:是|应该是|就是|选)?\s*(?:选项)?\s*[‘'“\"(（]?\s*([" + upper + "])"),
        # "B is the correct answer", "option C is correct"
        re.compile(
            r"(?:option\s+|choice\s+)?[(\[*]*(?-i:([" + upper + r"]))[)\]*.]*\s+is\s+(?:the\s+)?"
            r"(?:correct|right|best)\b",
            i,
        ),
        # "I would choose C", "I'd say (B)", "it would be D", "I think it's B"
        re.compile(
            r"(?:select|choose|pick|go\s+with|i'?d\s+say|i\s+would\s+say|would\s+be|should\s+be"
            r"|\bi\s+(?:think|believe|guess)(?:\s+it'?s)?)\s*:?\s*(?:option|choice)?" + _OPEN + alone,
            i,
        ),
        # "**B**", "**C.", "\boxed{D}", "\text{A}"
        re.compile(r"\*\*\s*(?:option\s+)?\(?([" + upper + r"])\)?\s*(?:[.:)]|\*\*)"),
        re.compile(r"\\(?:boxed|text|textbf|mathbf)\{\s*(?:\\text\{)?\s*([" + upper + r"])\b"),
        # "The correct one is B.", "it is (C)," (capitals only: "is a." ends with an article)
        re.compile(r"\bis\s*:?\s*[(\[*\"']*([" + upper + r"])[)\]*\"']*(?=[.,:]|\s*$)"),
    )
    return _LetterPatterns(
        committed=committed,
        start=re.compile(r"^\s*[(\[*]*([" + upper + lower + r"])(?:[)\].:,]|\s*$)"),
        listed=re.compile(r"\(([" + upper + r"])\)|(?m:^\s*[*(\[]*([" + upper + r"])[.)\]])"),
        loose=(
            re.compile(r"(?m)^\s*[*(\[]*([" + upper + r"])[)\]*.]*\s*$"),  # a line that is just the letter
            re.compile(r"\(([" + upper + r"])\)"),  # "(B)" anywhere
            re.compile(r"\boption\s*\(?(?-i:([" + upper + r"]))\)?(?=[.,:)\s]|$)", i),  # "option C."
            re.compile(r"(?<![A-Za-z0-9'’])([" + upper + r"])(?=[.,:)](?:\s|$))"),  # "... so B."
        ),
    )


def _group_letter(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group).upper()


def extract_letter(text: str, n_choices: int) -> str | None:
    """Return the option letter a response commits to, or None if none can be read.

    Deterministic; only letters within the first ``n_choices`` count. In order: the last explicit
    answer statement ("the answer is B", "I'd choose (C)", "**D**"); a response that opens with a
    letter (unless it goes on to list other options); a weaker cue (a line holding only a letter,
    "(B)", "option B", "... so B.") when all such cues name the same letter.
    """
    if not text or not 1 <= n_choices <= 26:
        return None
    patterns = _letter_patterns(n_choices)
    commitments = [match for pattern in patterns.committed for match in pattern.finditer(text)]
    if commitments:
        return _group_letter(max(commitments, key=lambda m: (m.end(), -m.start())))
    opening = patterns.start.match(text)
    if opening and {_group_letter(m) for m in patterns.listed.finditer(text)} <= {_group_letter(opening)}:
        return _group_letter(opening)
    for pattern in patterns.loose:
        found = {_group_letter(m) for m in pattern.finditer(text)}
        if len(found) == 1:
            return found.pop()
    return None


class LetterChoice(Scorer):
    """Right when the letter extracted from the generated text is the correct option's letter."""

    output_type = OutputType.GENERATE
    needs_choices = True

    def score(self, sample: Sample, output: Output) -> SampleScore:
        assert sample.answer_index is not None  # guaranteed by the loader for choice tasks
        return match_score(
            extract_letter(self.generated(output).text, len(sample.choices)), letter(sample.answer_index)
        )
