"""Is a score above guessing? The exact one-sided test used for the offline default's bar (issue 16).

A multiple-choice item with k options is guessed right with probability 1/k; items are independent,
so the number right by guessing is Poisson-binomial (a plain binomial when every item has the same k).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def above_chance_p(correct: int, probabilities: Sequence[float]) -> float:
    """P(at least ``correct`` right answers under independent guessing with P(right) = p_i).

    The Poisson-binomial tail: the distribution is the convolution of the per-item pmfs ``[1 − p, p]``
    (scipy has none); exact up to float64 rounding for any number of items.
    """
    dist = np.ones(1)
    for p in probabilities:
        dist = np.convolve(dist, [1.0 - p, p])
    return float(dist[max(correct, 0) :].sum())
