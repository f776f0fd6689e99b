"""Calibration requests: the options' log-likelihoods under a neutral prompt, for the ``pmi`` reading.

Domain-conditional PMI (Holtzman et al. 2021, "Surface Form Competition") scores an option by
``log P(option | prompt) − log P(option | neutral prompt)``: what the question adds to the option's
probability, not how probable the option's words are anyway (a short or frequent option, or a word
the question itself repeats, no longer wins by surface form alone).

The neutral prompt is the task's own request with the content slot holding the scorer's ``premise``
(empty by default): same template, same system turn, same continuations, written modality. It does
not depend on the modality, so one request per sample serves both: its log-probabilities are
attached to the text and the speech outputs as ``extras["calibration_logprobs"]`` (with the
continuations' UTF-8 byte lengths as ``extras["continuation_bytes"]``, for ``acc_norm``), and the
sample log keeps them, so ``rescore`` recomputes every reading from the log alone. The requests go
through the runner's usual execute step, so they are batched and cached like any other request (a
neutral request is the written request of a sample whose text is the premise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from modgap_eval.cache import Output
from modgap_eval.requests import continuations
from modgap_eval.scoring.choice import BYTES_KEY, CALIBRATION_KEY
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.types import Loglikelihood, Sample


def calibration_premise(task: LoadedTask) -> str | None:
    """The content that fills the neutral prompt, or None when the task's scorer reads no calibration."""
    premise = getattr(task.make_scorer(), "calibration_premise", None)
    return premise if isinstance(premise, str) else None


def neutral_samples(samples: Sequence[Sample], premise: str) -> list[Sample]:
    """Each sample with its written content replaced by the premise (same id, choices and target)."""
    return [replace(sample, text=premise) for sample in samples]


def attach_calibration(
    task: LoadedTask, samples: Sequence[Sample], outputs: Mapping[str, Output], neutral: Mapping[str, Output]
) -> dict[str, Output]:
    """``outputs`` with the neutral log-probabilities and continuation byte lengths in each one's extras.

    Outputs whose sample has no neutral output (or that are not log-likelihoods) pass unchanged.
    """
    by_id = {sample.id: sample for sample in samples}
    attached = dict(outputs)
    for sample_id, output in outputs.items():
        calibration = neutral.get(sample_id)
        if (
            not isinstance(output, Loglikelihood)
            or not isinstance(calibration, Loglikelihood)
            or sample_id not in by_id
        ):
            continue
        sizes = [len(text.encode("utf-8")) for text in continuations(task, by_id[sample_id])]
        attached[sample_id] = replace(
            output, extras={**output.extras, CALIBRATION_KEY: list(calibration.logprobs), BYTES_KEY: sizes}
        )
    return attached


def copy_calibration(output: Output, source: Output) -> Output:
    """``output`` with ``source``'s calibration extras (for outputs made later, e.g. under an intervention)."""
    if (
        not isinstance(output, Loglikelihood)
        or CALIBRATION_KEY not in source.extras
        or CALIBRATION_KEY in output.extras
    ):
        return output
    keep = {k: source.extras[k] for k in (CALIBRATION_KEY, BYTES_KEY) if k in source.extras}
    return replace(output, extras={**output.extras, **keep})
