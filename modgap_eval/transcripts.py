"""Output extras computed from outputs at scoring time: a cascade's transcript word error rate.

An adapter that transcribes (the ASR → LLM cascade) puts the ``transcript`` in a speech output's
extras; it never sees the written form. Scoring adds ``wer`` against the written form, so a run and
a ``rescore`` of its saved outputs compute it by the same code. Light: jiwer only, no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from modgap_eval.types import Sample
from modgap_eval.wer import normalize_words, word_error_rate

__all__ = ["mean_transcript_wer", "normalize_words", "transcript_wer", "with_transcript_wer"]

OutputT = TypeVar("OutputT")


def transcript_wer(transcript: str, written: str) -> float:
    """Word error rate of ``transcript`` against the written form (the package's one WER, ``modgap_eval.wer``)."""
    return word_error_rate([written], [transcript])


def with_transcript_wer(samples: Sequence[Sample], outputs: Mapping[str, OutputT]) -> dict[str, OutputT]:
    """Outputs that carry a ``transcript`` get ``wer`` against their sample's written form."""
    texts = {s.id: s.text for s in samples}
    enriched = dict(outputs)
    for sample_id, output in outputs.items():
        extras = output.extras  # type: ignore[attr-defined]
        if isinstance(extras.get("transcript"), str) and "wer" not in extras and sample_id in texts:
            wer = transcript_wer(extras["transcript"], texts[sample_id])
            enriched[sample_id] = replace(output, extras={**extras, "wer": wer})  # type: ignore[type-var]
    return enriched


def mean_transcript_wer(outputs: Sequence[object]) -> float | None:
    """The mean ``wer`` of the outputs that have one (a fraction, not percent); None when none has."""
    wers = [o.extras["wer"] for o in outputs if "wer" in o.extras]  # type: ignore[attr-defined]
    return sum(wers) / len(wers) if wers else None
