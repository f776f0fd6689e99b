"""Reference-answer QA match (VoiceBench sd-qa), offline and deterministic.

A response is right when a reference answer, normalised with ``match.normalize_answer``, occurs in
the normalised response as a whole-word span (chatty answers pass, a bare token inside another word
does not). Token F1 and exact match are reported beside it. VoiceBench itself scores sd-qa with
PEDANT (a learned matcher, ``qa_pedant``) and a GPT judge; this is the offline stand-in (ours).
"""

from __future__ import annotations

import re
from collections import Counter

from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.scoring.match import normalize_answer
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample

_NUMBER_WORDS = {
    word: str(value) for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split())
}


def digits_for_number_words(normalized: str) -> str:
    """'four legs' → '4 legs' for zero..twenty (spoken answers often spell small numbers)."""
    return " ".join(_NUMBER_WORDS.get(token, token) for token in normalized.split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two already-normalised strings."""
    pred, ref = prediction.split(), reference.split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_span(haystack: str, needle: str) -> bool:
    """Whole-word containment of one normalised string in another."""
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


class ReferenceQAMatch(Scorer):
    """value 1.0 when any reference occurs (normalised, whole words) in the response.

    ``number_words``: read zero..twenty as digits on both sides first (ours; default on).
    """

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self, number_words: bool = True) -> None:
        self.number_words = bool(number_words)

    def _prep(self, text: str) -> str:
        normalized = normalize_answer(text)
        return digits_for_number_words(normalized) if self.number_words else normalized

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Generation):
            raise TypeError("qa_match scores Generation outputs")
        response = self._prep(output.text)
        references = [self._prep(ref) for ref in sample.references if ref and ref.strip()]
        if not response:
            return SampleScore(value=0.0, unextractable=True, extras={"exact": 0.0, "f1": 0.0})
        hit = next((ref for ref in references if contains_span(response, ref)), None)
        exact = any(response == ref for ref in references)
        f1 = max((token_f1(response, ref) for ref in references), default=0.0)
        return SampleScore(value=float(hit is not None), extracted=hit, extras={"exact": float(exact), "f1": f1})
