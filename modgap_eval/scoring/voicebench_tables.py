"""VoiceBench's answer-reading tables: MCQ templates, the BBH rules per subtask, refusal phrases.

Transcribed from VoiceBench (github.com/MatthewCYM/VoiceBench, src/evaluator/mcq.py and bbh.py at
commit 5338154; harm.py's phrase list) into ``voicebench_tables.json`` (data, one template or rule per line) so that the
``voicebench`` reading equals its evaluator on the same responses: order matters (the first rule that
fires wins) and the tables keep upstream's quirks (duplicates, a hyperbaton rule that maps a bare "b"
to option A, a sports rule that maps "the sentence ... is not plausible" to yes).
``scoring/voicebench.py`` reads them; nothing here runs code from the tables.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

BBHRule = tuple[str, str, int]
"""(test, phrase, answer): test is "in" (substring), "eq", "startswith", "endswith" or "search" (regex);
answer 1 is yes / option (B), 0 is no / option (A)."""

BBH_TESTS = frozenset({"in", "eq", "startswith", "endswith", "search"})


def _rules(raw: Any, subtask: str) -> tuple[BBHRule, ...]:
    rules = tuple((str(test), str(phrase), int(answer)) for test, phrase, answer in raw)
    bad = [rule for rule in rules if rule[0] not in BBH_TESTS or rule[2] not in (0, 1)]
    if bad:  # the file ships with the package: a bad rule is a packaging bug, not a user error
        raise ValueError(f"voicebench_tables.json: BBH {subtask} rules {bad[:3]} are not (test, phrase, 0 or 1)")
    return rules


_TABLES = json.loads(files("modgap_eval.scoring").joinpath("voicebench_tables.json").read_text(encoding="utf-8"))

MCQ_TEMPLATES: tuple[str, ...] = tuple(_TABLES["mcq_templates"])
"""Tried in this order, each with the letters a..d in turn, as a substring of the lower-cased response."""
VOICEBENCH_REFUSAL_PHRASES: tuple[str, ...] = tuple(_TABLES["refusal_phrases"])
"""A response containing one of these refuses (case-sensitive for ``strict``, lower-cased for ``voicebench``)."""

BBH_YES_NO = _rules(_TABLES["bbh_rules"]["yes_no"], "yes_no")
BBH_HYPERBATON = _rules(_TABLES["bbh_rules"]["hyperbaton"], "hyperbaton")
BBH_WEB_OF_LIES = _rules(_TABLES["bbh_rules"]["web_of_lies"], "web_of_lies")
BBH_NAVIGATE = _rules(_TABLES["bbh_rules"]["navigate"], "navigate")
BBH_SPORTS = _rules(_TABLES["bbh_rules"]["sports"], "sports")
