"""Phi-4-multimodal (microsoft/Phi-4-multimodal-instruct) through transformers' native port.

The processor expands ``<|audio|>`` to ``audio_embed_sizes`` positions. The checkpoint keeps its
speech LoRA in a ``speech-lora`` subfolder; as the model card does, it is loaded as the adapter
``speech`` (needs ``peft``) and switched on for speech batches, off for text batches.

Not tested here: the processor needs torchvision (its image processor), which has no build for
this machine's torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from modgap_eval.models.hf_speech import HFSpeechLM
from modgap_eval.types import Modality, Prompt


class Phi4MultimodalModel(HFSpeechLM):
    name = "phi4-multimodal"
    default_pretrained = "microsoft/Phi-4-multimodal-instruct"
    model_class = "Phi4MultimodalForCausalLM"

    @property
    def audio_token_id(self) -> int:
        return int(self.model.config.audio_config.audio_token_id)

    def load_model(self) -> Any:
        model = super().load_model()
        lora = Path(self.located.path) / "speech-lora"
        if lora.is_dir():
            model.load_adapter(self.located.path, adapter_name="speech", adapter_kwargs={"subfolder": "speech-lora"})
        return model

    def prepare_for(self, prompts: Sequence[Prompt]) -> None:
        if getattr(self.model, "_hf_peft_config_loaded", False):
            if prompts[0].modality is Modality.SPEECH:
                self.model.enable_adapters()
                self.model.set_adapter("speech")
            else:
                self.model.disable_adapters()
