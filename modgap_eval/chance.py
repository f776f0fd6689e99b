"""Is a score above guessing? The exact one-sided test used for the offline default's bar (issue 16).

A multiple-choice item with k options is guessed right with probability 1/k; items are independent,
so the number right by guessing is Poisson-binomial (a plain binomial when every item has the same k).
``above_chance_p`` is the exact probability of at least the observed number right by guessing alone.
Pure and light: the one Poisson-binomial tail in ``modgap_eval.stats``.
"""

from __future__ import annotations

from collections.abc import Sequence


def above_chance_p(correct: int, probabilities: Sequence[float]) -> float:
    """Exact one-sided p of at least ``correct`` right answers under independent guessing (Poisson-binomial)."""
    from modgap_eval.stats import poisson_binomial_sf  # numpy: imported when a test is made

    return poisson_binomial_sf(correct, probabilities)
