"""Paired statistics of the modality gap (METHOD.md §1): bootstrap, 2×2 table, exact McNemar.

Pure functions over per-sample scores in [0, 1] aligned by sample id. Bootstrap resamples sample
ids with a seeded generator, the same draw for both modalities, so the gap's CI is paired. Tests
come from ``scipy.stats`` (imported on first use: ``import modgap_eval`` stays light).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from modgap_eval.types import CORRECT_THRESHOLD

DEFAULT_BOOTSTRAP_ITERS = 1000
DEFAULT_CI_LEVEL = 0.95
_CHUNK = 100  # bootstrap iterations drawn at once: bounds memory at _CHUNK × n indices


@dataclass(frozen=True)
class ContingencyTable:
    both_right: int
    text_only: int
    speech_only: int
    both_wrong: int


@dataclass(frozen=True)
class PairedStats:
    n: int
    text_mean: float
    """The text task score in percent: the mean × 100, or the caller's ``scores`` statistic."""
    speech_mean: float
    text_stderr: float
    speech_stderr: float
    gap: float
    ci_low: float
    ci_high: float
    ci_level: float
    iters: int
    table: ContingencyTable
    mcnemar_p: float


def contingency(
    text_correct: Sequence[bool] | np.ndarray, speech_correct: Sequence[bool] | np.ndarray
) -> ContingencyTable:
    t = np.asarray(text_correct, dtype=bool)
    s = np.asarray(speech_correct, dtype=bool)
    return ContingencyTable(
        both_right=int(np.sum(t & s)),
        text_only=int(np.sum(t & ~s)),
        speech_only=int(np.sum(~t & s)),
        both_wrong=int(np.sum(~t & ~s)),
    )


def mcnemar_exact(text_only: int, speech_only: int) -> float:
    """Two-sided exact McNemar p: binomial test of the discordant pairs against p = 1/2 (1.0 when none)."""
    if text_only + speech_only == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(text_only, text_only + speech_only, 0.5).pvalue)


Scores = Callable[[np.ndarray], "tuple[float, float]"]
"""Positions of one resample (repeats allowed) -> (text score, speech score) in percent."""


def paired_bootstrap(
    text: Sequence[float],
    speech: Sequence[float],
    iters: int = DEFAULT_BOOTSTRAP_ITERS,
    seed: int = 0,
    level: float = DEFAULT_CI_LEVEL,
    scores: Scores | None = None,
) -> PairedStats:
    """Task scores (percent), bootstrap standard errors, GAP = text − speech with a percentile CI.

    ``text[i]`` and ``speech[i]`` belong to the same sample; they give the 2×2 table and McNemar.
    The scores are the means × 100, or ``scores`` applied to all positions and to each resample: a
    scorer whose task score is not a mean (e.g. pooled over instructions) gets an interval of its own
    statistic. Both ways draw the same resamples. With n = 0 every number is NaN.
    """
    t = np.asarray(text, dtype=np.float64)
    s = np.asarray(speech, dtype=np.float64)
    if t.shape != s.shape:
        raise ValueError("text and speech scores must be aligned per sample")
    n = int(t.size)
    table = contingency(t >= CORRECT_THRESHOLD, s >= CORRECT_THRESHOLD)
    p = mcnemar_exact(table.text_only, table.speech_only)
    if n == 0:
        nan = float("nan")
        return PairedStats(0, nan, nan, nan, nan, nan, nan, nan, level, iters, table, p)
    tm, sm = _resampled_scores(t, s, iters, seed, scores)
    text_score, speech_score = (t.mean() * 100.0, s.mean() * 100.0) if scores is None else scores(np.arange(n))
    gaps = tm - sm
    alpha = (1.0 - level) / 2.0
    return PairedStats(
        n=n,
        text_mean=float(text_score),
        speech_mean=float(speech_score),
        text_stderr=float(tm.std(ddof=1)) if iters > 1 else 0.0,
        speech_stderr=float(sm.std(ddof=1)) if iters > 1 else 0.0,
        gap=float((t.mean() - s.mean()) * 100.0) if scores is None else float(text_score - speech_score),
        ci_low=float(np.quantile(gaps, alpha)),
        ci_high=float(np.quantile(gaps, 1.0 - alpha)),
        ci_level=level,
        iters=iters,
        table=table,
        mcnemar_p=p,
    )


def _resampled_scores(
    t: np.ndarray, s: np.ndarray, iters: int, seed: int, scores: Scores | None
) -> tuple[np.ndarray, np.ndarray]:
    """(text, speech) task scores of each of ``iters`` seeded resamples of the positions."""
    rng = np.random.default_rng(seed)
    text_means, speech_means = [], []
    for start in range(0, iters, _CHUNK):
        idx = rng.integers(0, t.size, size=(min(_CHUNK, iters - start), t.size))
        if scores is None:
            text_means.append(t[idx].mean(axis=1) * 100.0)
            speech_means.append(s[idx].mean(axis=1) * 100.0)
        else:
            pairs = np.array([scores(row) for row in idx], dtype=np.float64).reshape(-1, 2)
            text_means.append(pairs[:, 0])
            speech_means.append(pairs[:, 1])
    return np.concatenate(text_means), np.concatenate(speech_means)


def relative_gap(gap: float, text_score: float) -> float | None:
    """GAP / M_t, or None when the text score is 0 (undefined)."""
    return gap / text_score if text_score else None
