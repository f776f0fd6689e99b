"""Granite-Speech (ibm-granite/granite-speech-3.3-2b / -8b) through transformers.

The checkpoint carries a LoRA adapter meant for audio inputs only; transformers switches it in its
own ``generate``, so this adapter switches it the same way for every pass (on for speech batches,
off for text), which needs ``peft``. The processor expands ``<|audio|>``.

Not tested here: the feature extractor needs torchaudio, which has no build for this machine's
torch.
"""

from __future__ import annotations

from typing import Sequence

from modgap_eval.models.hf_speech import HFSpeechLM
from modgap_eval.types import Modality, Prompt


class GraniteSpeechModel(HFSpeechLM):
    name = "granite-speech"
    default_pretrained = "ibm-granite/granite-speech-3.3-2b"
    model_class = "GraniteSpeechForConditionalGeneration"

    def prepare_for(self, prompts: Sequence[Prompt]) -> None:
        if getattr(self.model, "_hf_peft_config_loaded", False):
            if prompts[0].modality is Modality.SPEECH:
                self.model.enable_adapters()
            else:
                self.model.disable_adapters()
