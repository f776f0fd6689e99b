"""The model registry: name -> lazy ``"module:Class"`` reference to a ``Model`` subclass.

Nothing heavy is imported until a model is used. Third-party packages register through the
``modgap_eval.models`` entry-point group, or call ``register_model`` at import time.
"""

from __future__ import annotations

from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.registry import Registry

MODELS: Registry[type[Model]] = Registry(
    "model",
    entry_point_group="modgap_eval.models",
    builtins={  # Built-in adapters (one line each, sorted).
        "audioflamingo3": "modgap_eval.models.hf_audioflamingo3:AudioFlamingo3Model",
        "cascade": "modgap_eval.models.cascade:Cascade",
        "dummy": "modgap_eval.models.dummy:DummyModel",
        "gemma3n": "modgap_eval.models.hf_gemma3n:Gemma3nModel",
        "granite-speech": "modgap_eval.models.hf_granite_speech:GraniteSpeechModel",
        "paper-lslm": "modgap_eval.models.paper_lslm:PaperLSLM",
        "phi4-multimodal": "modgap_eval.models.hf_phi4mm:Phi4MultimodalModel",
        "qwen2-audio": "modgap_eval.models.hf_qwen2_audio:Qwen2AudioModel",
        "qwen2.5-omni": "modgap_eval.models.hf_qwen25_omni:Qwen25OmniModel",
        "qwen3-omni": "modgap_eval.models.hf_qwen3_omni:Qwen3OmniModel",
        "reference": "modgap_eval.reference.model:ReferenceLSLM",
        "replay": "modgap_eval.models.replay:ReplayModel",
        "text-lm": "modgap_eval.models.text_lm:TextLM",
        "voxtral": "modgap_eval.models.hf_voxtral:VoxtralModel",
    },
)
register_model = MODELS.register

__all__ = ["MODELS", "register_model", "Model", "ModelInfo", "Capability", "RuntimeOptions"]
