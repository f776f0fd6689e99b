"""Granite-Speech (ibm-granite/granite-speech-3.3-2b / -8b) through transformers.

As on the model card, the prompt is the tokenizer's chat template with string contents and the
audio written in place as ``<|audio|>``, which the processor expands (one position per projector
output, ~10 per second). The template's own default system turn carries today's date, so the
card's system prompt is the default here (fixed date: the same prompt on every run).

Spoken prompts run one clip per pass (``clip_per_pass``): the conformer encoder takes no audio
mask, so the frames a batch pads a shorter clip with would change that clip's embeddings (log-probs
moved by ~0.05 nat in the tiny test); written prompts batch as usual. The checkpoint's LoRA is meant
for audio inputs only: loaded with peft (``hf_lora``, ``speech_lora=""``: beside the weights), it is
on for speech batches and off for text batches. Tested on a tiny checkpoint saved the real way
(``tests/models/test_hf_families.py``); the feature extractor needs torchaudio.
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily

GRANITE_SPEECH_SYSTEM = (
    "Knowledge Cutoff Date: April 2024.\nToday's Date: April 9, 2025.\n"
    "You are Granite, developed by IBM. You are a helpful AI assistant"
)
"""The model card's system prompt."""


class GraniteSpeechModel(HFModel):
    family = HFFamily(
        name="granite-speech",
        default_pretrained="ibm-granite/granite-speech-3.3-2b",
        model_class="GraniteSpeechForConditionalGeneration",
        default_system=GRANITE_SPEECH_SYSTEM,
        chat_template="tokenizer",
        clip_per_pass=True,
        speech_lora="",
    )
