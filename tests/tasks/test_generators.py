"""Generated tasks: seeded, deterministic, correct answers, clear errors."""

from __future__ import annotations

import re

import pytest

from modgap_eval.errors import ConfigError, RegistryError
from modgap_eval.tasks.generators import GENERATORS, MONTHS, WEEKDAYS


def test_registered_generators():
    assert GENERATORS.names() == [
        "arithmetic",
        "month_neighbour",
        "number_comparison",
        "weekday_after",
        "weekday_neighbour",
    ]
    with pytest.raises(RegistryError, match="did you mean 'arithmetic'"):
        GENERATORS.get("arithmetc")


@pytest.mark.parametrize(
    "name", ["arithmetic", "month_neighbour", "number_comparison", "weekday_after", "weekday_neighbour"]
)
def test_same_seed_same_rows_other_seed_other_rows(name):
    make = GENERATORS.get(name)
    assert make(count=20, seed=3) == make(count=20, seed=3)
    assert make(count=20, seed=3) != make(count=20, seed=4)
    rows = make(count=20, seed=3)
    assert len({row["id"] for row in rows}) == 20
    assert all(
        0 <= row["answer"] < len(row["choices"]) and len(set(row["choices"])) == len(row["choices"]) for row in rows
    )


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


def test_month_answers_are_right_and_the_named_month_is_never_an_option():
    rows = GENERATORS.get("month_neighbour")(count=48, seed=0)
    for row in rows:
        direction, month = re.fullmatch(r"What month comes (after|before) (\w+)\?", row["question"]).groups()
        step = 1 if direction == "after" else -1
        assert row["choices"][row["answer"]] == MONTHS[(MONTHS.index(month) + step) % 12]
        assert month not in row["choices"] and len(row["choices"]) == 4
    assert sum(row["direction"] == "after" for row in rows) == 24  # alternating directions
    assert {r["question"] for r in GENERATORS.get("month_neighbour")(count=10, directions=["before"])} <= {
        f"What month comes before {m}?" for m in MONTHS
    }


def test_weekday_neighbour_answers_are_right_and_the_named_day_is_never_an_option():
    for row in GENERATORS.get("weekday_neighbour")(count=56, seed=0):
        direction, day = re.fullmatch(r"What day comes (after|before) (\w+)\?", row["question"]).groups()
        step = 1 if direction == "after" else -1
        assert row["choices"][row["answer"]] == WEEKDAYS[(WEEKDAYS.index(day) + step) % 7]
        assert day not in row["choices"] and len(row["choices"]) == 4


@pytest.mark.parametrize(
    "name,args,message",
    [
        ("month_neighbour", {"directions": ["around"]}, "directions must be"),
        ("month_neighbour", {"n_choices": 12}, "n_choices"),
        ("weekday_neighbour", {"n_choices": 7}, "n_choices"),
        ("arithmetic", {"count": 0}, "count must be"),
        ("arithmetic", {"operations": ["divide"]}, "unknown operations"),
        ("number_comparison", {"low": 5, "high": 5}, "high must exceed low"),
        ("weekday_after", {"n_choices": 9}, "n_choices"),
    ],
)
def test_bad_arguments(name, args, message):
    with pytest.raises(ConfigError, match=message):
        GENERATORS.get(name)(**args)
