"""Exact and normalised match of a generated answer against the reference answers."""

from __future__ import annotations

import re
import string

from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD-style normalisation: lower case, drop punctuation and articles, squeeze spaces."""
    text = text.lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def word_spans(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Where ``needle`` occurs in ``haystack`` as a whole-word span (none for an empty needle)."""
    return [m.span() for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack)] if needle else []


class ExactMatch(Scorer):
    """1 when the response equals a reference.

    ``normalize`` applies ``normalize_answer`` to both sides; ``contains`` accepts a response that
    contains a (normalised) reference as a whole-word span, for chatty models.
    """

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self, normalize: bool = True, contains: bool = False) -> None:
        self.normalize = bool(normalize)
        self.contains = bool(contains)

    def score(self, sample: Sample, output: Output) -> SampleScore:
        prep = normalize_answer if self.normalize else str.strip
        response = prep(self.generated(output).text)
        for ref in sample.references:
            ref_n = prep(ref)
            if response == ref_n or (self.contains and word_spans(response, ref_n)):
                return SampleScore(value=1.0, extracted=response)
        return SampleScore(value=0.0, extracted=response, unextractable=not response)
