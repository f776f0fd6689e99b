"""The Alignment Path Score and sequence similarity as an ``evaluate`` metric (METHOD.md §3, §4, §4b).

Load offline by path: ``evaluate.load("<modgap_eval>/evaluate_modules/alignment_path_score")``.
"""

import datasets
import evaluate
import torch

from modgap_eval.analysis.stage import RepresentationOptions, analyse_states
from modgap_eval.evaluate_modules import metric_info
from modgap_eval.metrics import REPRESENTATION_METRICS

_DESCRIPTION = """\
Speech-text alignment of a model's hidden states. Each item gives the content-span states of the
speech pass ``[L+1, T_s, d]`` and of the text pass ``[L+1, T_t, d]`` (layer 0 = decoder input).
Returns APS^cos (higher is better), APS^euc (lower is better), Sim^cos, Sim^euc, path monotonicity
and consistency, each averaged over items; with two or more items also on mismatched pairs (a seeded
derangement) and the excess of the true pairs over them (higher is better), METHOD.md §4b.
"""

_KWARGS = """\
Args:
    speech_states: per item, nested lists or a tensor/array of shape [L+1, T_s, d].
    text_states: per item, [L+1, T_t, d] with the same L and d.
    seed: derangement seed for the mismatched baseline (default 0).
    centering: per-layer mean-centering before cosine (default False).
Returns:
    sim_cos, sim_euc, aps_cos, aps_euc (+ _mismatched and _excess), monotonicity_cos,
    monotonicity_euc (None when undefined for every item), consistency (every metric of
    ``modgap_eval.metrics.REPRESENTATION_METRICS``), monotonicity_excluded_cos/_euc, zero_states
    (zero-vector states, which have no cosine and are left out), n.
"""

_STATES = datasets.Sequence(datasets.Sequence(datasets.Sequence(datasets.Value("float32"))))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class AlignmentPathScore(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _KWARGS, {"speech_states": _STATES, "text_states": _STATES})

    def _compute(self, speech_states, text_states, seed=0, centering=False):
        speech = [torch.as_tensor(s, dtype=torch.float32) for s in speech_states]
        text = [torch.as_tensor(t, dtype=torch.float32) for t in text_states]
        summary = analyse_states(
            speech, text, options=RepresentationOptions(derangement_seed=seed, centering=centering, examples=0)
        ).summary
        out = {"n": summary.n_samples}
        for spec in REPRESENTATION_METRICS:
            value = getattr(summary, spec.name)
            out[spec.name] = value.matched if spec.baselined else value
            if spec.baselined:
                out.update({f"{spec.name}_mismatched": value.mismatched, f"{spec.name}_excess": value.excess})
        return out | summary.model_dump(
            include={"monotonicity_excluded_cos", "monotonicity_excluded_euc", "zero_states"}
        )
