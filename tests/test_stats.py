"""Statistics against hand-computed values and scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from modgap_eval.stats import contingency, mcnemar_exact, paired_bootstrap, relative_gap


@pytest.mark.parametrize(("b", "c"), [(0, 0), (3, 10), (10, 3), (5, 5), (0, 7), (40, 61), (300, 350)])
def test_mcnemar_matches_scipy_binomial_test(b, c):
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_hand_computed():
    # b=0, c=3: two-sided p = 2 · (1/2)^3 = 0.25
    assert mcnemar_exact(0, 3) == pytest.approx(0.25)


def test_contingency_table():
    table = contingency([1, 1, 0, 0, 1], [1, 0, 1, 0, 0])
    assert (table.both_right, table.text_only, table.speech_only, table.both_wrong) == (1, 2, 1, 1)


def test_bootstrap_is_seeded_paired_and_centred():
    rng = np.random.default_rng(0)
    text = (rng.random(400) < 0.7).astype(float)
    speech = np.where(rng.random(400) < 0.8, text, 1 - text)
    a = paired_bootstrap(text, speech, iters=2000, seed=5)
    b = paired_bootstrap(text, speech, iters=2000, seed=5)
    assert a == b
    assert a.gap == pytest.approx(100 * (text.mean() - speech.mean()))
    assert a.ci_low < a.gap < a.ci_high
    # stderr of a mean of Bernoulli(p) ≈ sqrt(p(1-p)/n): the bootstrap must agree within 10 %
    analytic = 100 * np.sqrt(text.mean() * (1 - text.mean()) / len(text))
    assert a.text_stderr == pytest.approx(analytic, rel=0.1)
    # pairing: the paired CI is narrower than treating modalities as independent
    unpaired_se = np.hypot(a.text_stderr, a.speech_stderr)
    assert (a.ci_high - a.ci_low) / (2 * 1.96) < unpaired_se


def test_identical_modalities_have_zero_gap_and_ci():
    s = paired_bootstrap([1, 0, 1, 1], [1, 0, 1, 1], iters=100, seed=0)
    assert (s.gap, s.ci_low, s.ci_high, s.mcnemar_p) == (0.0, 0.0, 0.0, 1.0)


def test_empty_and_relative_gap():
    s = paired_bootstrap([], [], iters=10)
    assert s.n == 0 and np.isnan(s.gap)
    assert relative_gap(10.0, 50.0) == 0.2 and relative_gap(5.0, 0.0) is None


def test_poisson_binomial_tail_against_binomial_and_enumeration():
    from itertools import product

    from scipy.stats import binom

    from modgap_eval.stats import poisson_binomial_sf

    # equal probabilities: the binomial tail P(X >= k) = binom.sf(k - 1)
    for k in range(0, 22):
        assert poisson_binomial_sf(k, [0.25] * 20) == pytest.approx(binom.sf(k - 1, 20, 0.25), rel=1e-9, abs=1e-15)
    # unequal probabilities: enumerate all 2^5 outcomes
    probs = [0.1, 0.25, 0.5, 1 / 3, 0.2]
    for k in range(0, 7):
        expected = sum(
            np.prod([p if hit else 1 - p for p, hit in zip(probs, outcome)])
            for outcome in product([0, 1], repeat=len(probs))
            if sum(outcome) >= k
        )
        assert poisson_binomial_sf(k, probs) == pytest.approx(expected, abs=1e-12)
