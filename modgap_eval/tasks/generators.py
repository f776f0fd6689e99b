"""Tasks the project makes itself: seeded, deterministic, no download (``source.kind: generated``).

Each generator returns plain JSON-able rows ``{"id", "question", "choices", "answer"}`` (``answer``
is the index of the correct choice) in a seeded random order, so ``--limit N`` takes a fair sample.
Questions are worded as they are spoken: numbers stay small and operators are words.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from typing import Any

from modgap_eval.errors import ConfigError
from modgap_eval.registry import Registry

Row = dict[str, Any]
Generator = Callable[..., list[Row]]

GENERATORS: Registry[Generator] = Registry("task generator", entry_point_group="modgap_eval.generators")

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_OPERATIONS = {"plus": operator.add, "minus": operator.sub, "times": operator.mul}


def _check_count(name: str, count: int, limit: int) -> None:
    if not isinstance(count, int) or not 1 <= count <= limit:
        raise ConfigError(f"generator {name!r}: count must be an integer in [1, {limit}], got {count!r}")


def _generate(name: str, seed: int, count: int, item: Callable[[random.Random, int], Row]) -> list[Row]:
    """``count`` rows ``{"id", **item(rng, index)}`` drawn from one seeded generator, in a shuffled order."""
    rng = random.Random(seed)
    rows = [{"id": f"{name}-{index:04d}", **item(rng, index)} for index in range(count)]
    rng.shuffle(rows)
    return rows


def _place(correct: Any, distractors: list[Any], rng: random.Random) -> tuple[list[str], int]:
    """Shuffle the correct option among the distractors; return (choices, answer index)."""
    options = [correct] + distractors
    rng.shuffle(options)
    return [str(option) for option in options], options.index(correct)


@GENERATORS.register("arithmetic")
def arithmetic(
    count: int = 40, seed: int = 0, max_operand: int = 10, operations: list[str] | None = None, n_choices: int = 4
) -> list[Row]:
    """'What is 7 plus 5?' with ``n_choices`` numeric options near the true result."""
    _check_count("arithmetic", count, 10_000)
    operations = list(operations or ["plus", "minus", "times"])
    unknown = sorted(set(operations) - set(_OPERATIONS))
    if unknown:
        raise ConfigError(f"generator 'arithmetic': unknown operations {unknown}; choose from {sorted(_OPERATIONS)}")
    if not 2 <= max_operand <= 1_000_000 or not 2 <= n_choices <= 26:  # bounded: the options pool grows with both
        raise ConfigError("generator 'arithmetic': max_operand must be in [2, 1000000] and n_choices in [2, 26]")

    def item(rng: random.Random, index: int) -> Row:
        op = operations[index % len(operations)]
        a, b = rng.randint(1, max_operand), rng.randint(1, max_operand)
        if op == "minus" and b > a:
            a, b = b, a  # keep results non-negative: negative numbers read ambiguously aloud
        result = _OPERATIONS[op](a, b)
        pool = [v for v in range(max(0, result - 2 * n_choices), result + 2 * n_choices + 1) if v != result]
        choices, answer = _place(result, rng.sample(pool, n_choices - 1), rng)
        return {"question": f"What is {a} {op} {b}?", "choices": choices, "answer": answer, "operation": op}

    return _generate("arithmetic", seed, count, item)


@GENERATORS.register("number_comparison")
def number_comparison(count: int = 40, seed: int = 0, low: int = 1, high: int = 99) -> list[Row]:
    """'Which number is larger, 47 or 82?' with the two numbers as options (in spoken order)."""
    _check_count("number_comparison", count, 10_000)
    if high - low < 1 or abs(low) > 10**9 or abs(high) > 10**9:
        raise ConfigError("generator 'number_comparison': high must exceed low, both within +-1e9")

    def item(rng: random.Random, index: int) -> Row:
        a, b = rng.sample(range(low, high + 1), 2)
        word = "larger" if index % 2 == 0 else "smaller"
        correct = max(a, b) if word == "larger" else min(a, b)
        question = f"Which number is {word}, {a} or {b}?"
        return {"question": question, "choices": [str(a), str(b)], "answer": [a, b].index(correct), "relation": word}

    return _generate("number_comparison", seed, count, item)


@GENERATORS.register("weekday_after")
def weekday_after(count: int = 28, seed: int = 0, n_choices: int = 4) -> list[Row]:
    """'What day comes two days after Monday?' with ``n_choices`` weekday options."""
    _check_count("weekday_after", count, 10_000)
    if not 2 <= n_choices <= 7:
        raise ConfigError("generator 'weekday_after': n_choices must be in [2, 7]")
    offsets = {1: "one day", 2: "two days", 3: "three days"}

    def item(rng: random.Random, index: int) -> Row:
        start = rng.randrange(7)
        offset = rng.choice(sorted(offsets))
        correct = WEEKDAYS[(start + offset) % 7]
        choices, answer = _place(correct, rng.sample([d for d in WEEKDAYS if d != correct], n_choices - 1), rng)
        question = f"What day of the week comes {offsets[offset]} after {WEEKDAYS[start]}?"
        return {"question": question, "choices": choices, "answer": answer}

    return _generate("weekday_after", seed, count, item)


MONTHS = tuple("January February March April May June July August September October November December".split())


def _neighbours(
    name: str, units: tuple[str, ...], unit: str, count: int, seed: int, n_choices: int, directions: list[str] | None
) -> list[Row]:
    """'What <unit> comes after/before <X>?' over the cyclic sequence ``units``, directions alternating.

    The item the question names is never an option: a log-likelihood scorer favours the word the prompt
    has just said (the copy preference issue 16 measured on weekday_after), which is not knowledge.
    """
    _check_count(name, count, 10_000)
    directions = list(directions or ["after", "before"])
    if not directions or set(directions) - {"after", "before"}:
        raise ConfigError(f"generator {name!r}: directions must be 'after' and/or 'before', got {directions!r}")
    if not 2 <= n_choices <= len(units) - 1:
        raise ConfigError(f"generator {name!r}: n_choices must be in [2, {len(units) - 1}]")

    def item(rng: random.Random, index: int) -> Row:
        direction = directions[index % len(directions)]
        start = rng.randrange(len(units))
        correct = units[(start + (1 if direction == "after" else -1)) % len(units)]
        others = [u for u in units if u not in (correct, units[start])]
        choices, answer = _place(correct, rng.sample(others, n_choices - 1), rng)
        question = f"What {unit} comes {direction} {units[start]}?"
        return {"question": question, "choices": choices, "answer": answer, "direction": direction}

    return _generate(name, seed, count, item)


@GENERATORS.register("month_neighbour")
def month_neighbour(
    count: int = 48, seed: int = 0, n_choices: int = 4, directions: list[str] | None = None
) -> list[Row]:
    """'What month comes after March?' (or before) with ``n_choices`` month options, never the named month."""
    return _neighbours("month_neighbour", MONTHS, "month", count, seed, n_choices, directions)


@GENERATORS.register("weekday_neighbour")
def weekday_neighbour(
    count: int = 56, seed: int = 0, n_choices: int = 4, directions: list[str] | None = None
) -> list[Row]:
    """'What day comes before Friday?' (or after) with ``n_choices`` weekday options, never the named day."""
    return _neighbours("weekday_neighbour", WEEKDAYS, "day", count, seed, n_choices, directions)
