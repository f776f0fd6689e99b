"""A checkpoint's speech LoRA, applied with peft and switched on for speech batches only.

Granite-Speech ships its LoRA next to the weights, Phi-4-multimodal in a ``speech-lora`` subfolder:
peft's usual files (``adapter_config.json``, ``adapter_model.safetensors`` with keys
``base_model.model.<module>.lora_{A,B}.weight``). transformers 5.2x's own adapter integration
(``load_adapter``, and Granite's automatic loading in ``from_pretrained``) refuses peft below 0.22,
newer than any peft release, so the adapter is injected here with peft's public API, which every
recent peft has; ``NO_AUTOLOAD`` keeps ``from_pretrained`` from trying its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modgap_eval.errors import ConfigError

ADAPTER_NAME = "speech"
NO_AUTOLOAD = {"adapter_kwargs": {"subfolder": "\ue000no-adapter"}}
"""``from_pretrained`` kwargs that make transformers look for the adapter in a folder that cannot exist."""


def has_adapter(folder: Path) -> bool:
    return (folder / "adapter_config.json").is_file()


class SpeechLora:
    """The LoRA in ``folder`` injected into ``model`` (weights loaded, all of them); off until switched on."""

    def __init__(self, model: Any, folder: Path, what: str) -> None:
        try:
            from peft import LoraConfig, inject_adapter_in_model, set_peft_model_state_dict
            from peft.utils import load_peft_weights
        except ImportError as exc:
            raise ConfigError(
                f"{what}: the checkpoint's speech LoRA in {folder} needs peft (pip install peft)"
            ) from exc

        config = LoraConfig.from_pretrained(str(folder))
        config.inference_mode = True
        weights = {k.removeprefix("base_model.model."): v for k, v in load_peft_weights(str(folder)).items()}
        inject_adapter_in_model(config, model, adapter_name=ADAPTER_NAME)
        # peft annotates the return as the ``namedtuple`` factory; it is torch's (missing_keys, unexpected_keys).
        result: Any = set_peft_model_state_dict(model, weights, adapter_name=ADAPTER_NAME)
        missing = [k for k in result.missing_keys if "lora_" in k]
        if result.unexpected_keys or missing or not weights:
            raise ConfigError(
                f"{what}: the LoRA in {folder} does not fit the model "
                f"(unexpected {result.unexpected_keys[:3]}, missing {missing[:3]})"
            )
        self.layers = [m for m in model.modules() if _is_tuner_layer(m)]
        self.switch(False)

    def switch(self, on: bool) -> None:
        for layer in self.layers:
            layer.enable_adapters(on)


def _is_tuner_layer(module: Any) -> bool:
    from peft.tuners.tuners_utils import BaseTunerLayer

    return isinstance(module, BaseTunerLayer)
