"""Any causal LM on written prompts: the base-model text condition.

It declares generate, loglikelihood and hidden states, and raises CapabilityError on a speech
prompt (it has no ears): evaluate it on the text modality only, or put an ASR in front of it with
the ``cascade`` model. The chat template is the tokenizer's; a tokenizer without one gets the
plain user turn (``system\\n\\n`` + prefix + content + suffix).
"""

from __future__ import annotations

from modgap_eval.models.hf_adapter import HFChatLM


class TextLM(HFChatLM):
    name = "text-lm"
