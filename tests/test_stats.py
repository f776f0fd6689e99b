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

    from modgap_eval.chance import above_chance_p

    # equal probabilities: the binomial tail P(X >= k) = binom.sf(k - 1)
    for k in range(0, 22):
        assert above_chance_p(k, [0.25] * 20) == pytest.approx(binom.sf(k - 1, 20, 0.25), rel=1e-9, abs=1e-15)
    # unequal probabilities: enumerate all 2^5 outcomes
    probs = [0.1, 0.25, 0.5, 1 / 3, 0.2]
    for k in range(0, 7):
        expected = sum(
            np.prod([p if hit else 1 - p for p, hit in zip(probs, outcome)])
            for outcome in product([0, 1], repeat=len(probs))
            if sum(outcome) >= k
        )
        assert above_chance_p(k, probs) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_of_a_pooled_statistic_is_centred_on_it():
    # IFEval-like: sample i has k_i instructions, c_i followed; the task score pools them, sum c / sum k.
    rng = np.random.default_rng(3)
    k = rng.integers(1, 12, size=600)
    text_c = rng.binomial(k, np.where(k > 6, 0.9, 0.5))
    speech_c = rng.binomial(k, np.where(k > 6, 0.3, 0.5))  # the gap lives in the long samples

    def pooled(idx):
        return 100.0 * text_c[idx].sum() / k[idx].sum(), 100.0 * speech_c[idx].sum() / k[idx].sum()

    text_frac, speech_frac = text_c / k, speech_c / k
    plain = paired_bootstrap(text_frac, speech_frac, iters=1000, seed=2)
    stats = paired_bootstrap(text_frac, speech_frac, iters=1000, seed=2, scores=pooled)
    pooled_gap = 100.0 * (text_c.sum() - speech_c.sum()) / k.sum()
    assert stats.gap == pytest.approx(pooled_gap) and stats.text_mean == pytest.approx(100.0 * text_c.sum() / k.sum())
    # the interval is the pooled statistic's own: centred on it, unlike the per-sample mean's
    assert stats.ci_low < pooled_gap < stats.ci_high
    assert abs((stats.ci_low + stats.ci_high) / 2 - pooled_gap) < 0.25 * (stats.ci_high - stats.ci_low)
    assert not plain.ci_low < pooled_gap < plain.ci_high
    # the table and McNemar still read the per-sample values (>= 0.5)
    assert stats.table == plain.table and stats.mcnemar_p == plain.mcnemar_p


def test_bootstrap_with_mean_scores_reproduces_the_default():
    rng = np.random.default_rng(4)
    text, speech = rng.random(50), rng.random(50)
    default = paired_bootstrap(text, speech, iters=300, seed=9)
    explicit = paired_bootstrap(
        text, speech, iters=300, seed=9, scores=lambda i: (100 * text[i].mean(), 100 * speech[i].mean())
    )
    for field in ("text_mean", "speech_mean", "text_stderr", "speech_stderr", "gap", "ci_low", "ci_high"):
        assert getattr(explicit, field) == pytest.approx(getattr(default, field), rel=1e-12, abs=1e-12)
