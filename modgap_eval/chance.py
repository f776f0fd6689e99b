"""Is a score above guessing? The exact one-sided test used for the offline default's bar (issue 16).

A multiple-choice item with k options is guessed right with probability 1/k; items are independent,
so the number right by guessing is Poisson-binomial (a plain binomial when every item has the same k).
``above_chance_p`` is the exact probability of at least the observed number right by guessing alone.
Pure and light: numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence


def above_chance_p(correct: int, probabilities: Sequence[float]) -> float:
    """Exact one-sided p of at least ``correct`` right answers under independent guessing (Poisson-binomial)."""
    import numpy as np

    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for p in probabilities:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(min(1.0, dist[correct:].sum()))
