"""AudioFlamingo3 (nvidia/audio-flamingo-3-hf) through transformers.

Whisper-style encoder in 30 s windows (up to 10 min), pooled, projected into a Qwen2 LM; the
processor expands ``<sound>`` to one position per pooled frame (~25 per second). The chat template
(the checkpoint's own) decides where the audio item goes in the user turn.
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class AudioFlamingo3Model(HFModel):
    family = HFFamily(
        name="audioflamingo3",
        default_pretrained="nvidia/audio-flamingo-3-hf",
        model_class="AudioFlamingo3ForConditionalGeneration",
        reuse_audio_embeddings=True,
    )
