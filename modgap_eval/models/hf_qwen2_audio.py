"""Qwen2-Audio (Qwen/Qwen2-Audio-7B-Instruct) through transformers.

Its chat template renders an audio item as ``Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\\n``; the
processor expands ``<|AUDIO|>`` to one position per encoder frame (~25 per second; audio is padded
to 30 s and clips beyond 30 s are cut). With no system turn the template writes its own default,
"You are a helpful assistant.", which is the model card's recommendation.
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class Qwen2AudioModel(HFModel):
    family = HFFamily(
        name="qwen2-audio",
        default_pretrained="Qwen/Qwen2-Audio-7B-Instruct",
        model_class="Qwen2AudioForConditionalGeneration",
        reuse_audio_embeddings=True,
    )
