"""The model registry: name -> lazy ``"module:Class"`` reference to a ``Model`` subclass.

Nothing heavy is imported until a model is used. Third-party packages register through the
``modgap_eval.models`` entry-point group, or call ``register_model`` at import time.
"""

from __future__ import annotations

from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.registry import Registry

MODELS: Registry[type[Model]] = Registry("model", entry_point_group="modgap_eval.models")
register_model = MODELS.register

# Built-in adapters (one line each; keep sorted within sections).
MODELS.add("dummy", "modgap_eval.models.dummy:DummyModel")

__all__ = ["MODELS", "register_model", "Model", "ModelInfo", "Capability", "RuntimeOptions"]
