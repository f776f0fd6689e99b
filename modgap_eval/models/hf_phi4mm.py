"""Phi-4-multimodal (microsoft/Phi-4-multimodal-instruct) through transformers' native port.

The user turn is a string with ``<|audio|>`` written in place (as in the model card's prompts),
which the processor expands to ``audio_embed_sizes`` positions: string contents render the same
under the processor's chat template and under the tokenizer's plain ``<|role|>content<|end|>`` one.
transformers 5.2x's ``Phi4MultimodalProcessor`` drops a saved chat template on load (its
``__init__`` names no ``chat_template``), so the tokenizer's template is used when the processor
has none.

Spoken prompts run one clip per pass (``clip_per_pass``): the conformer's convolutions and input
normalisation see the frames a batch pads a shorter clip with, despite the audio mask (log-probs
moved by up to 3 nat in the tiny test); written prompts batch as usual.

The checkpoint keeps its speech LoRA in a ``speech-lora`` subfolder; as the model card does, it is
applied (with peft, ``hf_lora``) for speech inputs: on for speech batches, off for text batches
(the card's text-only use is the base model).

Tested on a tiny random checkpoint saved the real way (``tests/models/test_hf_families.py``, the
LoRA against weights merged by hand); the processor needs torchvision (its image processor).
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class Phi4MultimodalModel(HFModel):
    family = HFFamily(
        name="phi4-multimodal",
        default_pretrained="microsoft/Phi-4-multimodal-instruct",
        model_class="Phi4MultimodalForCausalLM",
        chat_template="processor-or-tokenizer",
        audio_token="audio_config.audio_token_id",
        clip_per_pass=True,
        speech_lora="speech-lora",
    )
