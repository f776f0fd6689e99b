"""``extract_letter``: VoiceBench's mcq answer patterns, read deterministically (table of response, expected).

Cases marked (VB) paraphrase templates from VoiceBench's ``src/evaluator/mcq.py``; where VoiceBench would
draw a random letter (no pattern matched) the expected value here is None: wrong and counted.
"""

from __future__ import annotations

import pytest

from modgap_eval.errors import DataError
from modgap_eval.scoring.choice import extract_letter
from modgap_eval.scoring.reference_letter import ReferenceLetter
from modgap_eval.types import Audio, Generation, Sample

CASES = [  # (response, expected letter with 4 options)
    ("B", "B"),
    ("b", "B"),
    ("(C)", "C"),
    ("D.", "D"),
    ("a", "A"),
    ("d", "D"),  # bare letters (VB: response == choice)
    ("b) sunlight", "B"),
    ("C) Carbon dioxide", "C"),
    ("A. sand", "A"),  # (VB: startswith choice + punctuation)
    ("The answer is (A).", "A"),
    ("the answer is b because plants need light", "B"),  # (VB: "the answer is [CHOICE]")
    ("The correct answer is **D**.", "D"),
    ("Answer: a.", "A"),
    ("Final answer: C", "C"),  # (VB: "answer: ", "final answer: ")
    ("the answer to the question is: **c", "C"),
    ("The correct option is option b.", "B"),
    ("The answer is: \n\n**B)", "B"),
    ('The answer is "B"', "B"),
    ("The answer is \\( \\boxed{A} \\)", "A"),
    ("**B. Sunlight**", "B"),
    ("I would choose option C.", "C"),
    ("I'd say B.", "B"),
    ("It would be D.", "D"),
    ("Option B is correct.", "B"),
    ("B is the best answer here.", "B"),
    ("I think it's C.", "C"),
    ("答案是B", "B"),  # (VB: "答案是[CHOICE]")
    ("The correct one is B.", "B"),
    ("It is (C),", "C"),
    ("Hmm, option C.", "C"),
    ("Answer:\nB.", "B"),
    ("Sunlight is needed.\n\nB", "B"),
    ("Plants need sunlight, so B.", "B"),
    ("Plants need sunlight (B).", "B"),
    ("The answer is A, no wait, the answer is C.", "C"),  # the last committed answer wins
    ("A vitamin is needed. So the answer is C.", "C"),
    # an article "a" is not option A (VB's lower-cased "the answer is a" would say A here)
    ("The answer is a bit tricky, but I'd say C.", "C"),
    ("That would be a good guess.", None),
    ("It is a plant.", None),
    ("The main ingredient is a.", None),
    ("I think a lot about it.", None),
    ("The best option a student has is to study.", None),
    # several options listed, none chosen: unextractable, never a random pick
    ("(A) sand or (B) sunlight? I am not sure.", None),
    ("Option A: sand. Option B: sunlight.", None),
    ("The options are:\nA. sand\nB. sunlight\nI think sunlight.", None),
    ("I don't know.", None),
    ("", None),
    ("Photosynthesis requires sunlight and water.", None),
    ("The answer is E", None),  # out of range for four options
]


@pytest.mark.parametrize("response,expected", CASES)
def test_extract_letter_table(response, expected):
    assert extract_letter(response, 4) == expected


def test_range_and_the_pronoun_i():
    assert extract_letter("The answer is G", 7) == "G"
    assert extract_letter("The answer is G", 6) is None
    assert extract_letter("The answer is I think B", 10) == "B"  # "I" followed by a word is the pronoun
    assert extract_letter("The answer is I.", 10) == "I"
    assert extract_letter("B", 0) is None


def test_deterministic():
    text = "Between (A) and (C), the answer is (C), not (A)."
    assert {extract_letter(text, 4) for _ in range(10)} == {"C"}


def mcq(reference: str) -> Sample:
    return Sample(id="q1", text="Which?\nA. x\nB. y\nC. z\nD. w", audio=Audio(data=b"x"), references=(reference,))


@pytest.mark.parametrize(
    "response,reference,value,unextractable",
    [
        ("The answer is B.", "B", 1.0, False),
        ("The answer is B.", "C", 0.0, False),
        ("(b)", "B", 1.0, False),
        ("I am not sure.", "A", 0.0, True),
    ],
)
def test_reference_letter_scorer(response, reference, value, unextractable):
    score = ReferenceLetter().score(mcq(reference), Generation(text=response))
    assert (score.value, score.unextractable) == (value, unextractable)


def test_reference_letter_rejects_bad_reference():
    with pytest.raises(DataError, match="not one of A..D"):
        ReferenceLetter().score(mcq("E"), Generation(text="E"))
