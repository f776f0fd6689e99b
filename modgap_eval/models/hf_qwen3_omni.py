"""Qwen3-Omni's Thinker (Qwen/Qwen3-Omni-30B-A3B-Instruct, text output only) through transformers.

The Thinker loads on its own from the full Omni checkpoint; the Talker (speech output) is not used.
Settings, read from the transformers 5.24 source and tests:

- prompts: the processor's chat template; an audio item is ``<|audio_start|><|audio_pad|><|audio_end|>``
  and the processor expands ``<|audio_pad|>`` (the Thinker config's ``audio_token_id``) per encoder frame.
- no default system prompt: nothing asks for one (unlike Qwen2.5-Omni's card); transformers' integration
  tests prompt the Instruct checkpoint without one (ids ``<|im_start|>user\\n<|audio_start|>...``).
- positions: 3-D M-RoPE, but with text and audio alone all three are the plain token count
  (``get_rope_index`` numbers audio tokens in a row, and without images or video counts the attention
  mask), and the text decoder takes 1-D position ids. So 1-D positions are passed, log-likelihoods use
  the shared-prefill cache and kept audio embeddings are reused.
- one clip per pass: the processor pads a batch to its longest clip, and the encoder pads every clip's
  100-frame chunks to the batch's longest chunk before its strided convolutions, whose edge frames then
  see the padding (on the tiny model a 0.6 s clip's audio embeddings move by up to 4.9 beside a 2.4 s one).

Tested on a tiny random full Omni checkpoint (no Talker) with the real ``Qwen3OmniMoeProcessor``
against the model card's ``.thinker`` by hand (``tests/models/test_hf_families.py``); the processor
needs torchvision.
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class Qwen3OmniModel(HFModel):
    family = HFFamily(
        name="qwen3-omni",
        default_pretrained="Qwen/Qwen3-Omni-30B-A3B-Instruct",
        model_class="Qwen3OmniMoeThinkerForConditionalGeneration",
        reuse_audio_embeddings=True,
        clip_per_pass=True,
    )
