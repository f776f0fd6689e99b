"""Answer extraction for VoiceBench's spoken BBH subset (deterministic; no random fallback).

VoiceBench ``bbh`` holds four BIG-Bench-Hard tasks, named in each row's id: sports_understanding,
navigate and web_of_lies (reference "Yes"/"No") and hyperbaton (reference "(A)"/"(B)").
VoiceBench's own evaluator matches a long list of literal phrases and draws a random answer when
none matches; here a small set of rules reads the committed answer, and a response that commits to
nothing is wrong and counted as unextractable (the ``strict`` reading). The ``voicebench`` reading
applies VoiceBench's own rules, a coin flip counted as 1/2 (``scoring.voicebench``).
"""

from __future__ import annotations

import re

from modgap_eval.scoring.base import SampleScore, match_score
from modgap_eval.scoring.voicebench import StrictAndVoiceBench, voicebench_bbh_credit
from modgap_eval.types import Sample

BBH_SUBTASKS = ("sports_understanding", "navigate", "web_of_lies", "hyperbaton")

_NEG = r"(?:not|never|cannot|can t|don t|doesn t|didn t|won t|haven t|hasn t|isn t|aren t|wouldn t)"
_EXPLICIT_YN = re.compile(
    r"\b(?:answer|conclusion|verdict)\s*(?:is|would be|should be|to the question is|:)?"
    r"\s*(?:simply\s*)?(yes|no|true|false)\b"
)
_EXPLICIT_AB = re.compile(
    r"\b(?:answer|option|choice|sentence)\s*(?:is|would be|should be)?\s*(?:option\s*|sentence\s*)?\(?([ab])\)?(?=\s|$)"
)
_START = r"(?:starting point|where (?:you|we|i) started|original position)"
# Each subtask's verdict phrases, (pattern, verdict); extract_bbh_answer says which one wins.
_SUBTASK_RULES: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    name: tuple((re.compile(pattern), verdict) for pattern, verdict in rules)
    for name, rules in {
        "sports_understanding": (
            (rf"\b(?:{_NEG}\s+(?:\w+\s+){{0,2}}(?:plausible|possible|likely|realistic)|implausible|unlikely)\b", "no"),
            (r"\b(?:plausible|possible|realistic)\b", "yes"),
        ),
        "navigate": (
            (rf"\b{_NEG}\s+(?:\w+\s+){{0,4}}{_START}", "no"),
            (rf"\b(?:back|return\w*|end up)\s+(?:\w+\s+){{0,4}}{_START}", "yes"),
        ),
        "web_of_lies": (
            (rf"\b(?:{_NEG}\s+(?:\w+\s+){{0,1}}tell(?:s|ing)? the truth|lies|is lying|tells a lie|is a liar)\b", "no"),
            (r"\b(?:tells the truth|is telling the truth|is truthful|does tell the truth)\b", "yes"),
        ),
    }.items()
}


def normalize_bbh_response(text: str) -> str:
    """Lower case; markdown, quotes and most punctuation become spaces; parentheses stay."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[*\"“”:;,.!?\-'`\[\]{}]", " ", text)
    return " ".join(text.split())


def subtask_of(sample_id: str) -> str | None:
    return next((name for name in BBH_SUBTASKS if name in sample_id), None)


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    matches = list(pattern.finditer(text))
    return matches[-1].group(1) if matches else None


def extract_bbh_answer(response: str, subtask: str | None, binary: str) -> str | None:
    """Return "yes"/"no" (``binary="yn"``) or "a"/"b" (``binary="ab"``), or None.

    Order: an explicit final answer ("the answer is no", "answer: (B)"), the last one if several;
    then the subtask's last verdict phrase ("not plausible", "tells the truth"); then a bare leading or
    trailing yes/no (or a/b).
    """
    text = normalize_bbh_response(response)
    if not text:
        return None
    if binary == "ab":
        found = _last(_EXPLICIT_AB, text)
        if found:
            return found
        edge = re.match(r"^\(?([ab])\)?(?:\s|$)", text) or re.search(r"(?:^|\s)\(?([ab])\)?$", text)
        return edge.group(1) if edge else None
    found = _last(_EXPLICIT_YN, text)
    if found:
        return {"true": "yes", "false": "no"}.get(found, found)
    # The verdict phrase that ends last wins; at the same end the longer (negated) phrase wins.
    verdicts = [
        (match.end(), -match.start(), verdict)
        for pattern, verdict in _SUBTASK_RULES.get(subtask or "", ())
        for match in pattern.finditer(text)
    ]
    if verdicts:
        return max(verdicts)[2]
    edge = re.match(r"^(yes|no|true|false)\b", text) or re.search(r"\b(yes|no|true|false)$", text)
    return {"true": "yes", "false": "no"}.get(edge.group(1), edge.group(1)) if edge else None


def reference_answer(reference: str) -> tuple[str, str]:
    """('yes'|'no', 'yn') or ('a'|'b', 'ab') from a VoiceBench reference ("Yes", "(A)", ...)."""
    ref = reference.strip().lower().strip("()").strip()
    if ref in ("yes", "no"):
        return ref, "yn"
    if ref in ("a", "b"):
        return ref, "ab"
    raise ValueError(f"unexpected BBH reference {reference!r} (expected Yes/No or (A)/(B))")


class BBHAnswer(StrictAndVoiceBench):
    """value 1.0 when the extracted answer equals the reference; unextractable counts as wrong."""

    needs_references = True

    def score_both(self, sample: Sample, text: str) -> tuple[SampleScore, float]:
        if not sample.references:
            raise ValueError(f"bbh: sample {sample.id} has no reference")
        target, binary = reference_answer(sample.references[0])
        row_id = str(sample.metadata.get("id", sample.id))
        strict = match_score(extract_bbh_answer(text, subtask_of(row_id), binary), target)
        try:
            voicebench = voicebench_bbh_credit(text, row_id, sample.references[0])
        except (ValueError, KeyError):  # an id or reference VoiceBench cannot read: its evaluator would stop
            voicebench = float("nan")
        return strict, voicebench
