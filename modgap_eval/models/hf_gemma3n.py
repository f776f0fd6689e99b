"""Gemma 3n (google/gemma-3n-E2B-it / -E4B-it) through transformers, text output (vision unused).

The chat template writes ``<audio_soft_token>`` for an audio item; the processor expands it to
``\\n\\n<start_of_audio>`` + 188 soft tokens + ``<end_of_audio>\\n\\n`` whatever the clip's length
(clips beyond 30 s are cut). The encoder fills one per 16 valid feature frames (160 ms: time strides
2·2 then every 4th), the model gives the rest one padding embedding: a 3 s clip is 19 audio positions
and 169 of padding. Every pass runs all 188; states and intervention positions cover the filled ones
(``filled_span``; ``--model_args speech_span=all``: all 188). The template trims each typed text
item and glues them together, so the user turn is one string (``processor-or-tokenizer``) with the
audio token in place; it writes no default system prompt. Spoken prompts run one clip per pass: the
encoder's convolutions look ahead into a batch's padding frames. AltUp blocks pass four residual
streams: states read, and interventions edit, the active one (``residual_stream``). No audio
embedding reuse: the decoder's per-layer inputs come from the ids, which ``inputs_embeds`` leaves out.
Sources: transformers 5.24 ``modeling_gemma3n.py`` (``Gemma3nModel.forward``, the audio encoder's
mask subsampling) and ``processing_gemma3n.py``; the chat template as printed in unsloth's
``chat_templates.py``.
"""

from __future__ import annotations

from modgap_eval.models.args import SpeechSpanArgs
from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import FilledSpan, HFFamily


class Gemma3nModel(HFModel):
    family = HFFamily(
        name="gemma3n",
        default_pretrained="google/gemma-3n-E2B-it",
        model_class="Gemma3nForConditionalGeneration",
        chat_template="processor-or-tokenizer",
        residual_stream="text_config.altup_active_idx",
        clip_per_pass=True,
        filled_span=FilledSpan(mask="input_features_mask", frames_per_position=16),
        args=SpeechSpanArgs,
    )
