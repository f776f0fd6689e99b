"""The one WER normalisation (jiwer transform) against hand-counted edit operations."""

from __future__ import annotations

import pytest

from modgap_eval.errors import DataError
from modgap_eval.wer import normalize_words, word_error_rate


def test_normalisation_by_hand():
    assert normalize_words("  What's the Capital, of FRANCE?! ") == "what's the capital of france"
    assert normalize_words("state-of-the-art") == "state of the art"
    assert normalize_words("?!") == ""


def test_corpus_wer_by_hand():
    # pair 1: "c" deleted (1 of 3); pair 2: "z" inserted (1 over 2 words): 2 edits / 5 reference words
    assert word_error_rate(["A b c.", "x, y"], ["a b", "x y z"]) == pytest.approx(2 / 5)
    assert word_error_rate(["Hello, world!"], ["hello world"]) == 0.0


def test_empty_strings_follow_one_rule():
    # an empty (or punctuation-only) hypothesis is all deletions; an empty reference has no WER
    assert word_error_rate(["one two"], [""]) == 1.0
    assert word_error_rate(["one two"], ["?!"]) == 1.0
    with pytest.raises(DataError, match="non-empty reference"):
        word_error_rate(["..."], ["a"])
