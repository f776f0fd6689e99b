"""Cases where our IFEval checks disagreed with Google's code (found by scripts/ifeval_differential.py).

``change_case:capital_word_frequency`` counts the words ``nltk.word_tokenize`` gives that are all
capitals; our old regex split words at hyphens and dots, so "E-MAIL" and "U.S." counted twice. The
expected tokens below are NLTK's with its punctuation tokens left out (``word_tokens`` drops them).
"""

from __future__ import annotations

import pytest

from modgap_eval.scoring.ifeval import follows
from modgap_eval.scoring.ifeval_text import word_tokens


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("U.S. E-MAIL (NASA) OK! HELLO, A.I.", ["U.S.", "E-MAIL", "NASA", "OK", "HELLO", "A.I"]),  # last period off
        ("I'M. HE'S", ["I'M.", "HE", "'S"]),  # an inner period stays (no punkt): no clitic split before it
        ("CANNOT WANNA gonna", ["CAN", "NOT", "WAN", "NA", "gon", "na"]),
        ("O'NEIL 'TIS WE'LL x'", ["O'NEIL", "TIS", "WE", "'LL", "x", "'"]),  # an opening apostrophe breaks
        ("abN'T' A:B A:1 A,1 X...Y a--B", ["ab", "N'T", "'", "A", "B", "A:1", "A,1", "X", "Y", "a", "B"]),
        ("HELLO—WORLD A/B", ["HELLO", "WORLD", "A/B"]),  # an em dash breaks, a slash does not
    ],
)
def test_word_tokens_as_nltk(text, words):
    assert word_tokens(text) == words


@pytest.mark.parametrize(
    ("response", "frequency", "relation", "expected"),
    [
        # LOUD LOUD U.S. A.I OK E-MAIL: 6 capitalised words (the old regex counted 9).
        ("river blue city LOUD LOUD U.S. A.I. OK! E-MAIL", 7, "less than", True),
        # X2 E-MAIL HELLO E-MAIL OK A.I LOUD: 7 (the old regex counted 10).
        ("story story 42 X2 E-MAIL HELLO, E-MAIL OK! A.I. LOUD", 8, "at least", False),
        ("story story 42 X2 E-MAIL HELLO, E-MAIL OK! A.I. LOUD", 7, "at least", True),
    ],
)
def test_capital_word_frequency_counts_nltk_words(response, frequency, relation, expected):
    kwargs = {"capital_frequency": frequency, "capital_relation": relation}
    assert follows("change_case:capital_word_frequency", response, kwargs, loose=False) is expected
