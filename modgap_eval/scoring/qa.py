"""Reference-answer QA match (VoiceBench sd-qa), offline and deterministic.

A response is right when a reference answer, normalised the same way, occurs in the normalised
response as a whole-word span (chatty answers pass, a bare token inside another word does not).
Normalisation (ours): SQuAD's (lower case, no punctuation or articles), hyphens as spaces, number
words and ordinals as digits ("twenty-five" → 25, "nineteen eighty-four" → 1984, "fourth" → 4,
"4th" → 4), and dates in one order ("the 4th of July" and "July 4" → "july 4"). Two more rules:

- a full-name reference ("George Orwell") is also matched by its last word alone ("Orwell"),
  when that word is a name (not a number, not a common short word);
- a hedge naming several candidates ("Paris or London", "either 1912 or 1913") is not credited:
  the matched reference sits next to an "or" offering another answer.

Token F1 and exact match are reported beside it. VoiceBench itself scores sd-qa with PEDANT and a
GPT judge, averaged (``qa_voicebench``); this is the offline scorer.
"""

from __future__ import annotations

import re
from collections import Counter

from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.scoring.match import normalize_answer, word_spans
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

_UNITS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {word: 10 * (i + 2) for i, word in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {
    word: value
    for value, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
        "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(),
        start=1,
    )
} | {"thirtieth": 30}
_MONTHS = ("january february march april may june july august september october november december").split()
_DIGIT_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2}) (?:of )?(" + "|".join(_MONTHS) + r")\b")
_NOT_ALTERNATIVES = frozenset("so more rather simply just in as otherwise also".split())
"""Words after "or" that restate rather than offer another answer ("Paris, or more precisely ...")."""
_STOP = frozenset("of and or in on at to for by with from is was are were be de la le van von der du".split())


def _read_number(tokens: list[str], start: int) -> tuple[int, int] | None:
    """A spelled-out number starting at ``tokens[start]``: (value, tokens used), or None."""
    total, current, i, used_any = 0, 0, start, False
    while i < len(tokens):
        word = tokens[i]
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _ORDINALS:  # "twenty first": an ordinal ends the number
            current += _ORDINALS[word]
            i += 1
            used_any = True
            break
        elif word in _SCALES and used_any:
            scale = _SCALES[word]
            if scale == 100:
                current *= 100
            else:
                total += current * scale
                current = 0
        elif word == "and" and used_any and i + 1 < len(tokens) and (tokens[i + 1] in _UNITS or tokens[i + 1] in _TENS):
            pass  # "one hundred and five"
        else:
            break
        used_any = True
        i += 1
    return (total + current, i - start) if used_any else None


def _years(tokens: list[str], start: int) -> tuple[int, int] | None:
    """Years said in pairs: "nineteen eighty four" → 1984, "eighteen twelve" → 1812."""
    head = _UNITS.get(tokens[start])
    if head is None or not 11 <= head <= 19 or start + 1 >= len(tokens):
        return None
    tail = _read_number(tokens, start + 1)
    if tail is None or not 10 <= tail[0] <= 99 or tokens[start + 1] in _SCALES:
        return None
    return head * 100 + tail[0], 1 + tail[1]


def spoken_numbers_as_digits(normalized: str) -> str:
    """Number words, ordinals and spelled-out years as digits, in an already-normalised string."""
    tokens = _DIGIT_ORDINAL.sub(r"\1", normalized).split()
    out, i = [], 0
    while i < len(tokens):
        found = _years(tokens, i) or _read_number(tokens, i)
        if found is None:
            out.append(tokens[i])
            i += 1
        else:
            out.append(str(found[0]))
            i += found[1]
    return " ".join(out)


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


def _hedged(response: str, span: tuple[int, int], references: list[str]) -> bool:
    """The match sits in "X or Y" (or "either X or Y") where the other side is not a reference too."""
    before = response[: span[0]].split()
    after = response[span[1] :].split()
    others: list[str] = []
    if after[:1] == ["or"] and len(after) > 1:
        others.append(" ".join(after[1:4]))
    if before[-1:] == ["or"] and len(before) > 1:
        others.append(" ".join(before[-4:-1]))
    if not others and "or" in after[:4] and before[-1:] == ["either"]:
        others.append(" ".join(after[after.index("or") + 1 :][:3]))
    return any(
        other
        and other.split()[0] not in _NOT_ALTERNATIVES
        and not any(word_spans(other, ref) or word_spans(ref, other) for ref in references)
        for other in others
    )


def _surname(reference: str) -> str | None:
    """The last word of a multi-word name reference ("george orwell" → "orwell"), when it can stand alone."""
    words = reference.split()
    if len(words) < 2 or any(w.isdigit() for w in words):
        return None
    last = words[-1]
    return last if len(last) > 2 and last.isalpha() and last not in _STOP else None


class ReferenceQAMatch(Scorer):
    """value 1.0 when a reference (or a full name's surname) occurs, unhedged, in the response.

    ``number_words``: read spelled numbers, ordinals and dates as digits on both sides (default on).
    """

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self, number_words: bool = True) -> None:
        self.number_words = bool(number_words)

    def _prep(self, text: str) -> str:
        normalized = normalize_answer(text.replace("-", " ").replace("–", " "))
        if not self.number_words:
            return normalized
        return _DAY_MONTH.sub(r"\2 \1", spoken_numbers_as_digits(normalized))  # "4 (of) july" → "july 4"

    def score(self, sample: Sample, output: Output) -> SampleScore:
        response = self._prep(self.generated(output).text)
        references = [self._prep(ref) for ref in sample.references if ref and ref.strip()]
        if not response:
            return SampleScore(value=0.0, unextractable=True, extras={"exact": 0.0, "f1": 0.0})
        candidates = references + [s for s in map(_surname, references) if s and s not in references]
        hit = None
        for candidate in candidates:
            spans = word_spans(response, candidate)
            if spans and not all(_hedged(response, span, references + [candidate]) for span in spans):
                hit = candidate
                break
        exact = any(response == ref for ref in references)
        f1 = max((token_f1(response, ref) for ref in references), default=0.0)
        return SampleScore(value=float(hit is not None), extracted=hit, extras={"exact": float(exact), "f1": f1})
