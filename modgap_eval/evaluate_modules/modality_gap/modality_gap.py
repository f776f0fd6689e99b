"""The modality gap as an ``evaluate`` metric (METHOD.md §1): GAP = text − speech, paired statistics.

Load offline by path: ``evaluate.load("<modgap_eval>/evaluate_modules/modality_gap")``.
"""

from dataclasses import asdict

import datasets
import evaluate

from modgap_eval.evaluate_modules import metric_info
from modgap_eval.stats import paired_bootstrap, relative_gap

_DESCRIPTION = """\
The speech-vs-text modality gap of one task: per-sample scores in [0, 1] of the same items asked in
writing (``text_scores``) and aloud (``speech_scores``). Returns the two task scores in percent, the
GAP = text − speech in points (lower is better), the relative gap GAP / text, a paired bootstrap CI
(resampling items, seeded), the 2×2 table and the exact McNemar p (METHOD.md §1 of modgap-eval).
"""

_KWARGS = """\
Args:
    text_scores: per-item scores in [0, 1] when the item is written.
    speech_scores: per-item scores in [0, 1] of the same items, spoken (same order).
    bootstrap_iters: bootstrap resamples (default 1000).
    seed: bootstrap seed (default 0).
    ci_level: confidence level (default 0.95).
Returns:
    text, speech, gap, relative_gap (None if text is 0), ci_low, ci_high, n_paired,
    both_right, text_only, speech_only, both_wrong, mcnemar_p.
Examples:
    >>> gap = evaluate.load("modgap_eval/evaluate_modules/modality_gap")
    >>> gap.compute(text_scores=[1, 1, 0, 1], speech_scores=[1, 0, 0, 0])["gap"]
    50.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class ModalityGap(evaluate.Metric):
    def _info(self):
        scores = datasets.Value("float64")
        return metric_info(_DESCRIPTION, _KWARGS, {"text_scores": scores, "speech_scores": scores})

    def _compute(self, text_scores, speech_scores, bootstrap_iters=1000, seed=0, ci_level=0.95):
        for name, values in (("text_scores", text_scores), ("speech_scores", speech_scores)):
            if any(not 0.0 <= float(v) <= 1.0 for v in values):
                raise ValueError(f"{name} must lie in [0, 1]")
        if not text_scores:
            raise ValueError("no items: the gap needs at least one paired item")
        stats = paired_bootstrap(text_scores, speech_scores, iters=bootstrap_iters, seed=seed, level=ci_level)
        return {
            "text": stats.text_mean,
            "speech": stats.speech_mean,
            "gap": stats.gap,
            "relative_gap": relative_gap(stats.gap, stats.text_mean),
            "ci_low": stats.ci_low,
            "ci_high": stats.ci_high,
            "n_paired": stats.n,
            **asdict(stats.table),
            "mcnemar_p": stats.mcnemar_p,
        }
