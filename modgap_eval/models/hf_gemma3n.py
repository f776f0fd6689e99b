"""Gemma 3n (google/gemma-3n-E2B-it / -E4B-it) through transformers, text output (vision unused).

The chat template writes ``<audio_soft_token>`` for an audio item; the processor expands it to
``\\n\\n<start_of_audio>`` + 188 soft tokens + ``<end_of_audio>\\n\\n`` whatever the clip's length
(clips beyond 30 s are cut), and the content span is those 188 positions. The encoder fills one
per 16 feature frames (160 ms) and the model gives the rest one fixed padding embedding, so a 3 s
clip's span is 19 audio positions and 169 of padding. The template trims each typed text item and
writes them with nothing between, which would glue the prefix, a written content and the suffix
together: the user turn is one string (``processor-or-tokenizer``) with the audio token in place.
No default system prompt: the template writes none unless given one.

Spoken prompts run one clip per pass (``clip_per_pass``): the encoder's subsampling convolutions
look ahead into the frames a batch pads a shorter clip with (its last audio embedding moved by 1.5 in
the tiny test). AltUp blocks pass four residual streams: hidden states read, and interventions
edit, the active one (``residual_stream``; at layer 0 the embeddings). Audio embeddings are not
reused: the decoder's per-layer inputs come from the token ids, which ``inputs_embeds`` leaves out.
Sources: transformers 5.24 ``modeling_gemma3n.py`` and ``processing_gemma3n.py``; the chat template
as printed in unsloth's ``chat_templates.py``.
"""

from __future__ import annotations

from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily


class Gemma3nModel(HFModel):
    family = HFFamily(
        name="gemma3n",
        default_pretrained="google/gemma-3n-E2B-it",
        model_class="Gemma3nForConditionalGeneration",
        chat_template="processor-or-tokenizer",
        residual_stream="text_config.altup_active_idx",
        clip_per_pass=True,
    )
