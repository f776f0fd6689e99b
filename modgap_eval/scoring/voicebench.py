"""The ``voicebench`` reading: VoiceBench's own evaluators, reproduced so the numbers equal its.

Every VoiceBench scorer here reports two readings of the same responses (``Scorer.readings``):

- ``strict`` (primary): this project's deterministic extraction; a response with no readable
  answer is wrong and counted as unextractable. Paired CI and McNemar are computed on it.
- ``voicebench``: what VoiceBench's evaluator (github.com/MatthewCYM/VoiceBench, src/evaluator,
  commit 5338154) gives — its template order, substring matches, lower-casing and rule quirks.
  Where VoiceBench draws at random (no MCQ letter found: a
  uniform letter A-D; no BBH rule fired: a coin flip), the reading is the expectation over that
  draw (1/4 or 1/2 credit), which is deterministic. A per-sample expectation is not a paired
  right/wrong outcome, so this reading carries no paired statistics (``paired_stats=False``).

Its tables (MCQ templates, BBH rules per subtask, harm.py's refusal phrases) are transcribed into
``voicebench_tables.json`` (data, one template or rule per line; no code runs from it). Order
matters (the first rule that fires wins) and upstream's quirks are kept (duplicates, a hyperbaton
rule that maps a bare "b" to option A, a sports rule that maps "the sentence ... is not plausible" to yes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from importlib.resources import files

from modgap_eval.scoring.base import Reading, SampleScore, Scorer
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

STRICT = "strict"
VOICEBENCH = "voicebench"
READINGS: tuple[Reading, ...] = (
    Reading(
        STRICT,
        "deterministic extraction; no readable answer = wrong and counted (primary; paired CI and "
        "McNemar are on this reading)",
    ),
    Reading(
        VOICEBENCH,
        "VoiceBench's evaluator (src/evaluator at 5338154) on the same responses; its random "
        "fallback counted as its expectation; no paired statistics (they stay on strict)",
        paired_stats=False,
    ),
)

MCQ_LETTERS = ("a", "b", "c", "d")
"""VoiceBench's MCQ evaluator only ever reads and draws these four letters."""

_TABLES = json.loads(files("modgap_eval.scoring").joinpath("voicebench_tables.json").read_text(encoding="utf-8"))
MCQ_TEMPLATES: tuple[str, ...] = tuple(_TABLES["mcq_templates"])
"""Tried in this order, each with the letters a..d in turn, as a substring of the lower-cased response."""
VOICEBENCH_REFUSAL_PHRASES: tuple[str, ...] = tuple(_TABLES["refusal_phrases"])
"""A response containing one of these refuses (case-sensitive for ``strict``, lower-cased for ``voicebench``)."""

BBHRule = tuple[str, str, int]
"""(test, phrase, answer): answer 1 is yes / option (B), 0 is no / option (A)."""
_BBH_TESTS: dict[str, Callable[[str, str], bool]] = {
    "in": lambda phrase, text: phrase in text,
    "eq": lambda phrase, text: text == phrase,
    "startswith": lambda phrase, text: text.startswith(phrase),
    "endswith": lambda phrase, text: text.endswith(phrase),
    "search": lambda phrase, text: re.search(phrase, text) is not None,
}


def _bbh_rules(name: str) -> tuple[BBHRule, ...]:
    rules = tuple((str(test), str(phrase), int(answer)) for test, phrase, answer in _TABLES["bbh_rules"][name])
    bad = [rule for rule in rules if rule[0] not in _BBH_TESTS or rule[2] not in (0, 1)]
    if bad:  # the file ships with the package: a bad rule is a packaging bug, not a user error
        raise ValueError(f"voicebench_tables.json: BBH {name} rules {bad[:3]} are not (test, phrase, 0 or 1)")
    return rules


_BBH_RULES = {name: _bbh_rules(name) for name in _TABLES["bbh_rules"]}
_BBH_SUBTASK_RULES = (
    # Checked in this order against the row id, as VoiceBench does.
    ("sports_understanding", ("yes_no", "sports")),
    ("hyperbaton", ("hyperbaton",)),
    ("navigate", ("yes_no", "navigate")),
    ("web_of_lies", ("yes_no", "web_of_lies")),
)


class StrictAndVoiceBench(Scorer):
    """A scorer of generated text with the two readings above; ``value`` is the strict one.

    Subclasses implement ``score_both``: the strict ``SampleScore`` and VoiceBench's value of one response.
    """

    output_type = OutputType.GENERATE

    def readings(self) -> tuple[Reading, ...]:
        return READINGS

    @property
    def primary_reading(self) -> str:
        return STRICT

    def score(self, sample: Sample, output: Output) -> SampleScore:
        strict, voicebench = self.score_both(sample, self.generated(output).text)
        return replace(strict, readings={STRICT: strict.value, VOICEBENCH: float(voicebench)})

    def score_both(self, sample: Sample, text: str) -> tuple[SampleScore, float]:
        raise NotImplementedError


def _strip_turn_marker(text: str) -> str:
    # Some VoiceBench models prefix their reply with a turn marker "<1>".."<3>", which it drops.
    return text[3:].strip() if text.startswith(("<1>", "<2>", "<3>")) else text


def voicebench_mcq_letter(response: str) -> str | None:
    """The letter VoiceBench's MCQ evaluator reads from ``response`` ("A".."D"), or None (it then draws)."""
    text = _strip_turn_marker(response.lower())
    for template in MCQ_TEMPLATES:
        for choice in MCQ_LETTERS:
            if template.replace("[CHOICE]", choice) in text:
                return choice.upper()
    for choice in MCQ_LETTERS:
        if text == choice or text.startswith(tuple(choice + mark for mark in ".,:)")):
            return choice.upper()
    return None  # its last special cases ("would be a." ...) are already covered by templates above


def voicebench_mcq_credit(response: str, reference: str) -> float:
    """VoiceBench's expected MCQ credit: 1/0 for a read letter; 1/4 when it would draw one of A-D at random."""
    found = voicebench_mcq_letter(response)
    if found is None:
        return 1.0 / len(MCQ_LETTERS) if reference.lower() in MCQ_LETTERS else 0.0
    return float(found == reference)


def normalize_voicebench_bbh(response: str) -> str:
    """VoiceBench's BBH normalisation: lower case, turn markers dropped, : ** " - , . ： become spaces."""
    text = response.lower()
    if text.endswith("<|user|>"):
        text = text[:-8].strip()
    text = _strip_turn_marker(text).replace("<|turn_end|>", "")
    for mark in (":", "**", '"', "-", ",", ".", "："):
        text = text.replace(mark, " ")
    return " ".join(text.split())


def voicebench_bbh_answer(response: str, row_id: str) -> int | None:
    """VoiceBench's BBH reading: 1 (yes / option B), 0 (no / option A), or None (it then flips a coin).

    Raises ValueError for an id naming none of the four subtasks (VoiceBench raises too).
    """
    text = normalize_voicebench_bbh(response)
    for name, tables in _BBH_SUBTASK_RULES:
        if name in row_id:
            rules = (rule for table in tables for rule in _BBH_RULES[table])
            return next((answer for test, phrase, answer in rules if _BBH_TESTS[test](phrase, text)), None)
    raise ValueError(f"VoiceBench bbh: id {row_id!r} names no subtask")


_BBH_REFERENCE = {"yes": 1, "no": 0, "(a)": 0, "(b)": 1}


def voicebench_bbh_credit(response: str, row_id: str, reference: str) -> float:
    """Expected VoiceBench BBH credit: 1/0 for a rule's answer, 1/2 for its coin flip."""
    target = _BBH_REFERENCE[reference.strip().lower()]
    found = voicebench_bbh_answer(response, row_id)
    return 0.5 if found is None else float(found == target)
