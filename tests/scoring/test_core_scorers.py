"""Log-likelihood choice, letter choice and exact match as tables of (output, target, expected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modgap_eval.scoring.choice import LetterChoice, LoglikelihoodChoice
from modgap_eval.scoring.match import ExactMatch, normalize_answer
from modgap_eval.types import Audio, Generation, Loglikelihood, Sample

MC = Sample(id="1", text="q", audio=Audio(path=Path("x.wav")), choices=("a", "bb", "ccc"), answer_index=1)


@pytest.mark.parametrize(
    ("logprobs", "counts", "normalize", "value", "picked"),
    [
        ((-3.0, -1.0, -2.0), (1, 1, 1), "none", 1.0, "B"),
        ((-1.0, -1.0, -2.0), (1, 1, 1), "none", 0.0, "A"),  # tie: the first option wins
        ((-2.0, -3.0, -9.0), (1, 3, 3), "none", 0.0, "A"),
        ((-2.0, -3.0, -9.0), (1, 3, 3), "length", 1.0, "B"),  # -1.0 per token beats -2.0
    ],
)
def test_loglikelihood_choice(logprobs, counts, normalize, value, picked):
    score = LoglikelihoodChoice(normalize=normalize).score(MC, Loglikelihood(logprobs, counts))
    assert (score.value, score.extracted) == (value, picked)


@pytest.mark.parametrize(
    ("text", "value", "unextractable"), [("B", 1.0, False), ("The answer is (A).", 0.0, False), ("no idea", 0.0, True)]
)
def test_letter_choice(text, value, unextractable):
    score = LetterChoice().score(MC, Generation(text))
    assert (score.value, score.unextractable) == (value, unextractable)


@pytest.mark.parametrize(
    ("response", "refs", "contains", "expected"),
    [
        ("The Eiffel Tower.", ("eiffel tower",), False, 1.0),
        ("It is 12", ("12",), False, 0.0),
        ("It is 12", ("12",), True, 1.0),
        ("It is 123", ("12",), True, 0.0),
        ("", ("x",), True, 0.0),
    ],
)
def test_exact_match(response, refs, contains, expected):
    sample = Sample(id="1", text="q", audio=Audio(path=Path("x.wav")), references=refs)
    assert ExactMatch(contains=contains).score(sample, Generation(response)).value == expected


def test_normalize_answer():
    assert normalize_answer("  The  Quick, brown fox!") == "quick brown fox"
