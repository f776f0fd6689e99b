"""qa_match (sd-qa, offline): number words, ordinals, dates, surnames, hedges — worked out by hand."""

from __future__ import annotations

import pytest

from modgap_eval.scoring.qa import ReferenceQAMatch, spoken_numbers_as_digits
from modgap_eval.types import Audio, Generation, Sample

SDQA = [  # (response, references, value)
    ("It has twenty-five members.", ["25"], 1),
    ("There are 25 of them.", ["twenty five"], 1),
    ("It was published in nineteen eighty-four.", ["1984"], 1),
    ("The year was 1984.", ["Nineteen Eighty-Four"], 1),
    ("About one hundred and five people.", ["105"], 1),
    ("He was the first president.", ["1st"], 1),
    ("She finished 21st.", ["twenty-first"], 1),
    ("Independence Day is the fourth of July.", ["July 4"], 1),
    ("It is celebrated on 4 July.", ["July 4th"], 1),
    ("July 14, 1789", ["14 July 1789"], 1),
    ("Orwell wrote it.", ["George Orwell"], 1),  # surname for a full name
    ("It was written by George Orwell.", ["George Orwell"], 1),
    ("George wrote it.", ["George Orwell"], 0),  # a first name is not enough
    ("It is either Paris or London.", ["Paris"], 0),  # a hedge naming two candidates
    ("Maybe London or Paris.", ["Paris"], 0),
    ("It was 1912 or 1913, I think.", ["1912"], 0),
    ("Paris, or more precisely the Ile de France region.", ["Paris"], 1),  # a restatement, not a hedge
    ("The capital is Paris.", ["Paris"], 1),
    ("The Parisian style", ["Paris"], 0),  # whole words only
    ("I don't know.", ["Paris"], 0),
    ("Spiders have eight legs.", ["8"], 1),
    ("Spiders have six legs.", ["eight"], 0),
    ("Sixteen hundred", ["1600"], 1),
    ("The Nile or the Amazon, it's hard to say.", ["Nile"], 0),
    ("It's the Nile, the Nile River.", ["Nile River", "Nile"], 1),
]


def sample(references) -> Sample:
    return Sample(id="s", text="q", audio=Audio(data=b"x"), references=tuple(references))


@pytest.mark.parametrize("response,references,value", SDQA)
def test_qa_match_table(response, references, value):
    assert ReferenceQAMatch().score(sample(references), Generation(text=response)).value == value


@pytest.mark.parametrize(
    "text,digits",
    [
        ("twenty five", "25"),
        ("nineteen eighty four", "1984"),
        ("one hundred and five", "105"),
        ("two thousand and twelve", "2012"),
        ("fourth of july", "4 of july"),
        ("21st", "21"),
        ("three", "3"),
        ("twelve", "12"),
        ("thirteen colonies", "13 colonies"),
    ],
)
def test_spoken_numbers(text, digits):
    assert spoken_numbers_as_digits(text) == digits
