"""Word error rate with one text normalisation (a jiwer transform), for every transcript in the package.

Both sides are lower-cased, every run of characters other than word characters and apostrophes
becomes one space, and the text is split into words. An empty hypothesis is all deletions (WER 1
for a one-sentence reference); an empty reference has no WER (there are no words to get wrong) and
raises DataError.
"""

from __future__ import annotations

from collections.abc import Sequence

from modgap_eval.errors import DataError

_WORD_SEPARATORS = r"[^\w']+"


def _transform():
    import jiwer  # on first use: only transcript runs need it

    return jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.SubstituteRegexes({_WORD_SEPARATORS: " "}),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )


def normalize_words(text: str) -> str:
    """The words WER compares, joined by single spaces (what the transform yields, for messages and tests)."""
    return " ".join(word for words in _transform()(text) for word in words)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus WER: edit operations over all pairs / reference words over all pairs (jiwer)."""
    import jiwer

    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    for reference in references:
        if not normalize_words(reference):
            raise DataError(f"WER needs a non-empty reference; got {reference!r}")
    transform = _transform()
    return float(
        jiwer.wer(list(references), list(hypotheses), reference_transform=transform, hypothesis_transform=transform)
    )
