"""Any causal LM on written prompts: the base-model text condition.

It declares generate, loglikelihood and hidden states, and raises CapabilityError on a speech
prompt (it has no ears). The runner, which always evaluates both modalities, refuses it before any
data loads; for the base-model text condition run ``cascade`` with ``lm=`` this model: the cascade's
text condition is this LM alone. The chat template is the tokenizer's; a tokenizer without one gets the
plain user turn (``system\\n\\n`` + prefix + content + suffix).
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class TextLM(HFModel):
    family = HFFamily(name="text-lm", speech=False, chat_template="tokenizer-or-plain")
