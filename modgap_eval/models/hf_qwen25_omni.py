"""Qwen2.5-Omni's Thinker (Qwen/Qwen2.5-Omni-7B, text output only) through transformers.

The Thinker loads on its own from the full Omni checkpoint; the Talker (speech output) is not
used. Its model card requires the system prompt below for the audio path, so it is the default
when the task sets none. Positions are Omni's 3-D M-RoPE ids, but with text and audio alone
(``get_rope_index``: audio tokens numbered in a row, no image or video) all three are the plain token
count, and the text decoder takes 1-D position ids: so 1-D positions are passed, log-likelihoods share
one prefill per prompt and hidden-state passes reuse a clip's audio embeddings, as for Qwen3-Omni.

Tested on a tiny random full Omni checkpoint (``thinker.*`` weights, no Talker) with the real
``Qwen2_5OmniProcessor`` against the model card's ``.thinker`` by hand
(``tests/models/test_hf_families.py``); the processor needs torchvision (image and video processors).
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily

QWEN25_OMNI_SYSTEM = (
    "You are Qwen, a virtual human developed by the Qwen Team, Alibaba Group, capable of perceiving "
    "auditory and visual inputs, as well as generating text and speech."
)


class Qwen25OmniModel(HFModel):
    family = HFFamily(
        name="qwen2.5-omni",
        default_pretrained="Qwen/Qwen2.5-Omni-7B",
        model_class="Qwen2_5OmniThinkerForConditionalGeneration",
        default_system=QWEN25_OMNI_SYSTEM,
        reuse_audio_embeddings=True,
    )
