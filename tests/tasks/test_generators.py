"""Generated tasks: seeded, deterministic, correct answers, clear errors."""

from __future__ import annotations

import re

import pytest

from modgap_eval.errors import ConfigError, RegistryError
from modgap_eval.tasks.generators import GENERATORS, WEEKDAYS


def test_registered_generators():
    assert GENERATORS.names() == ["arithmetic", "number_comparison", "weekday_after"]
    with pytest.raises(RegistryError, match="did you mean 'arithmetic'"):
        GENERATORS.get("arithmetc")


@pytest.mark.parametrize("name", ["arithmetic", "number_comparison", "weekday_after"])
def test_same_seed_same_rows_other_seed_other_rows(name):
    make = GENERATORS.get(name)
    assert make(count=20, seed=3) == make(count=20, seed=3)
    assert make(count=20, seed=3) != make(count=20, seed=4)
    rows = make(count=20, seed=3)
    assert len({row["id"] for row in rows}) == 20
    assert all(0 <= row["answer"] < len(row["choices"]) and len(set(row["choices"])) == len(row["choices"]) for row in rows)


def test_arithmetic_answers_are_right():
    rows = GENERATORS.get("arithmetic")(count=60, seed=1, max_operand=12)
    ops = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}
    for row in rows:
        a, op, b = re.fullmatch(r"What is (\d+) (plus|minus|times) (\d+)\?", row["question"]).groups()
        assert row["choices"][row["answer"]] == str(ops[op](int(a), int(b)))
        assert len(row["choices"]) == 4 and all(int(c) >= 0 for c in row["choices"])
    assert {row["operation"] for row in rows} == {"plus", "minus", "times"}
    # the correct option is not always in the same place
    assert len({row["answer"] for row in rows}) == 4


def test_number_comparison_answers_are_right():
    for row in GENERATORS.get("number_comparison")(count=50, seed=2):
        word, a, b = re.fullmatch(r"Which number is (larger|smaller), (\d+) or (\d+)\?", row["question"]).groups()
        pick = max if word == "larger" else min
        assert row["choices"] == [a, b] and row["choices"][row["answer"]] == str(pick(int(a), int(b)))


def test_weekday_answers_are_right():
    steps = {"one day": 1, "two days": 2, "three days": 3}
    for row in GENERATORS.get("weekday_after")(count=30, seed=5):
        offset, day = re.fullmatch(r"What day of the week comes (.+) after (\w+)\?", row["question"]).groups()
        assert row["choices"][row["answer"]] == WEEKDAYS[(WEEKDAYS.index(day) + steps[offset]) % 7]


@pytest.mark.parametrize("name,args,message", [
    ("arithmetic", {"count": 0}, "count must be"),
    ("arithmetic", {"operations": ["divide"]}, "unknown operations"),
    ("number_comparison", {"low": 5, "high": 5}, "high must exceed low"),
    ("weekday_after", {"n_choices": 9}, "n_choices"),
])
def test_bad_arguments(name, args, message):
    with pytest.raises(ConfigError, match=message):
        GENERATORS.get(name)(**args)
