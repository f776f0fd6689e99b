"""modgap-eval: benchmark the speech-vs-text modality gap of Large Speech Language Models.

The public vocabulary is small: ``evaluate(model=..., tasks=...)`` runs a model on paired tasks and
returns the results (``api.py``), ``Sample``/``Audio`` describe items, ``Model``, ``Scorer`` and
``SampleScore`` are the base types of adapters and scorers, ``register_model``/``register_scorer``
extend the registries. Importing this package loads no
torch or transformers; they load when a model is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "evaluate",
    "RunConfig",
    "RunResults",
    "Model",
    "Scorer",
    "SampleScore",
    "Sample",
    "Audio",
    "Modality",
    "register_model",
    "register_scorer",
    "ModgapError",
]

_LAZY = {
    "evaluate": "modgap_eval.api:evaluate",
    "RunConfig": "modgap_eval.config:RunConfig",
    "RunResults": "modgap_eval.results:RunResults",
    "Model": "modgap_eval.models.base:Model",
    "Scorer": "modgap_eval.scoring.base:Scorer",
    "SampleScore": "modgap_eval.scoring.base:SampleScore",
    "Sample": "modgap_eval.types:Sample",
    "Audio": "modgap_eval.types:Audio",
    "Modality": "modgap_eval.types:Modality",
    "register_model": "modgap_eval.models:register_model",
    "register_scorer": "modgap_eval.scoring:register_scorer",
    "ModgapError": "modgap_eval.errors:ModgapError",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'modgap_eval' has no attribute {name!r}")
    import importlib

    module, _, attr = _LAZY[name].partition(":")
    return getattr(importlib.import_module(module), attr)


if TYPE_CHECKING:
    from modgap_eval.api import evaluate
    from modgap_eval.config import RunConfig
    from modgap_eval.errors import ModgapError
    from modgap_eval.models import register_model
    from modgap_eval.models.base import Model
    from modgap_eval.results import RunResults
    from modgap_eval.scoring import register_scorer
    from modgap_eval.scoring.base import SampleScore, Scorer
    from modgap_eval.types import Audio, Modality, Sample
