"""Qwen3-Omni's Thinker (Qwen/Qwen3-Omni-30B-A3B-Instruct, text output only) through transformers.

The Thinker (``Qwen3OmniMoeThinkerForConditionalGeneration``) loads on its own from the full Omni
checkpoint; the Talker (speech output) is not used. Settings, from the transformers 5.24 source:

- prompts: the processor's chat template (typed items; an audio item is
  ``<|audio_start|><|audio_pad|><|audio_end|>``), whose ``<|audio_pad|>`` the processor expands to one
  position per encoder frame; the placeholder id is the Thinker config's ``audio_token_id``.
- no default system prompt: unlike Qwen2.5-Omni's, the card's audio examples need none, and the template
  writes none (transformers' integration test decodes a system-less prompt).
- positions: 3-D M-RoPE, but for text and audio alone all three components are the plain token count
  (``get_rope_index`` numbers audio tokens one after another, and without images or video falls back to
  the attention mask's count), and the text decoder takes 1-D position ids (expanded to all sections).
  So the engine passes 1-D positions, log-likelihoods use the shared-prefill cache, and kept audio
  embeddings can be reused (``reuse_audio_embeddings``).
- spoken prompts run one clip per pass (``clip_per_pass``): the processor pads a batch's clips to the
  longest (``padding=True``, so a shorter clip's last mel frame changes), and the encoder, after
  dropping padded frames, cuts each clip into 100-frame chunks and pads them all to the batch's
  longest chunk before its strided convolutions, whose edge outputs then see that padding (measured on
  the tiny model: a 0.6 s clip's audio embeddings move by ~5 beside a 2.4 s one).

Tested on a tiny random full Omni checkpoint (``thinker.*`` weights, no Talker) with the real
``Qwen3OmniMoeProcessor`` against the model card's ``.thinker`` by hand (``tests/models/test_hf_families.py``);
the processor needs torchvision (image and video processors).
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
