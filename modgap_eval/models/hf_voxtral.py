"""Voxtral (mistralai/Voxtral-Mini-3B-2507) through transformers, tokenized by mistral-common.

Voxtral has no Jinja chat template: its ``tekken.json`` is read by mistral-common
(``MistralCommonBackend``), which encodes a whole chat to ids, ``<s>[INST]…[/INST]``, and itself
expands each clip into ``[BEGIN_AUDIO]`` plus one ``[AUDIO]`` per 80 ms (12.5 per second; the
clip is zero-padded to whole 30 s windows, so a 1 s clip takes 375). So both modalities are tokenized
from messages, never from rendered text:

- speech: the user turn is ``[prefix, audio, suffix]`` (the audio as a lossless float WAV) through
  ``VoxtralProcessor.apply_chat_template``; the content span is ``input_ids == audio_token_id``.
- text: the user turn is the one string ``prefix + content + suffix`` (separate text chunks would
  be joined with a blank line by mistral-common, which the speech turn does not get). The tokenizer
  gives no character offsets, so the span comes from the tokens' own bytes between ``[INST]`` and
  ``[/INST]``: the tokens whose bytes overlap the content's UTF-8 bytes.

Speech content span: position j of the run is mel frames 8j..8j+7 (hop 160: the Whisper encoder's
conv strides 1·2, then the projector stacks 4 encoder frames), windows laid out one after another
(the processor splits the padded clip's mel into 3000-frame windows in order; the model reshapes
window-major). So the clip's frames are a prefix of the run, also over several windows: a clip of
``n`` samples has ``n // 160`` mel frames (Whisper's extractor drops the frame centred on the end)
and fills ceil(frames / 8) positions — mistral-common's own count for an unpadded clip
(``AudioConfig.num_audio_tokens``): 1 s is 13 positions of 375, 40 s is 375 + 125 of 750. States and
intervention positions cover those (``filled_span``, counted from samples; ``--model_args
speech_span=all``: every ``[AUDIO]``, padding included). Every pass still runs the whole run (the
encoder attends over whole windows, so each position also sees the padding, as in any Voxtral use).
Kept audio embeddings are reused with the same rule (the count needs only the clip).

There is no default system prompt. mistral-common refuses system messages beside audio (its V7
instruct tokenizer: "System messages are not yet allowed when audio is present"), so a speech
prompt with a system prompt is an error rather than a silently different prompt. Chat (instruct)
mode only: the transcription request (``lang:xx[TRANSCRIBE]`` after the audio) is not used.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import soundfile
import torch

from modgap_eval.errors import ConfigError, require
from modgap_eval.models.args import SpeechSpanArgs
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.hf_common import Row, single_span
from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import Encoded, FilledSpan, HFFamily, Loaded, load_family
from modgap_eval.models.hf_prompts import offsets_row, processor_encoded, typed_content
from modgap_eval.types import Prompt, Waveform


def wav_base64(audio: Waveform) -> str:
    """The clip as a base64 float32 WAV: mistral-common decodes it back to the same samples."""
    buffer = io.BytesIO()
    soundfile.write(
        buffer, np.asarray(audio.samples, dtype=np.float32), audio.sample_rate, format="WAV", subtype="FLOAT"
    )
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class VoxtralPart:
    """Voxtral's prompts: whole chats encoded by mistral-common, never rendered text."""

    def __init__(self, family: HFFamily, model: Any, tokenizer: Any, processor: Any) -> None:
        if not hasattr(tokenizer, "tokenizer") or not hasattr(tokenizer.tokenizer, "instruct_tokenizer"):
            raise ConfigError(
                f"model {family.name!r}: Voxtral needs mistral-common's tokenizer "
                "(pip install mistral-common) and the checkpoint's tekken.json"
            )
        self.family, self.model, self.tokenizer, self.processor = family, model, tokenizer, processor
        self.what = f"model {family.name!r}"
        self.tekken = tokenizer.tokenizer.instruct_tokenizer.tokenizer
        self.audio_token_id = int(model.config.audio_token_id)
        self.has_chat_template = bool(getattr(processor, "chat_template", None))

    def system_message(self, prompt: Prompt) -> list[dict[str, Any]]:
        system = self.family.system_for(prompt)
        return [{"role": "system", "content": system}] if system else []

    def speech_conversation(self, prompt: Prompt) -> list[dict[str, Any]]:
        if self.system_message(prompt):
            raise ConfigError(
                f"{self.what} takes no system prompt with audio (mistral-common: 'System messages "
                "are not yet allowed when audio is present'); drop the task's prompt.system to evaluate Voxtral"
            )
        audio = {"type": "audio", "base64": wav_base64(prompt.spoken())}
        return [{"role": "user", "content": typed_content(prompt, audio)}]

    def chat_ids(self, conversation: list[dict[str, Any]]) -> list[int]:
        return list(self.tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=False))

    def text_row(self, prompt: Prompt, continuation: tuple[int, ...] = ()) -> Row:
        text = prompt.written()
        message = prompt.prefix + text + prompt.suffix
        ids = self.chat_ids(self.system_message(prompt) + [{"role": "user", "content": message}])
        begin, end = self.tekken.get_special_token("[INST]"), self.tekken.get_special_token("[/INST]")
        if ids.count(end) != 1 or ids[-1] != end or begin not in ids:
            raise ConfigError(f"{self.what}: expected one user turn [INST]...[/INST], got {len(ids)} ids")
        start = len(ids) - ids[::-1].index(begin)  # just after the last [INST]
        pieces = [self.tekken.id_to_byte_piece(t) for t in ids[start:-1]]
        if b"".join(pieces) != message.encode("utf-8"):
            raise ConfigError(f"{self.what}: the user turn's tokens do not spell the prompt")
        # Byte offsets within the user message; the tokens before it end at 0 (before any content),
        # the closing [/INST] is empty (never content).
        offsets, at = [(-1, 0)] * start, 0
        for piece in pieces:
            offsets.append((at, at + len(piece)))
            at += len(piece)
        lo = len(prompt.prefix.encode("utf-8"))
        return offsets_row(ids, offsets + [(0, 0)], lo, lo + len(text.encode("utf-8")), continuation, self.tokenizer)

    def speech_batch(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        # mistral-common encodes the whole chat and expands the audio itself (the processor refuses raw audio).
        out = self.processor.apply_chat_template(
            [self.speech_conversation(p) for p in prompts], tokenize=True, return_dict=True
        )
        return processor_encoded(out, self.processor, self.model, continuations, self.audio_token_id, self.what)

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        """Rows up to the content end from the tokenizer alone (it expands the audio; no features needed)."""
        rows = []
        for prompt, embeds in zip(prompts, cached):
            ids = self.chat_ids(self.speech_conversation(prompt))
            span = single_span(ids, self.audio_token_id, self.what)
            if len(span) != len(embeds):
                return None
            rows.append(Row(tuple(ids[: span.stop]), span))
        return rows

    def details(self) -> dict[str, Any]:
        return {
            "system_prompt_default": "(none)",
            "chat_template": self.has_chat_template,
            "audio_token_id": self.audio_token_id,
            "chat_format": "mistral-common tekken.json (no Jinja template)",
            "text_user_turn": "one text chunk: prefix + content + suffix",
            "text_content_span": "tokens whose bytes overlap the content's UTF-8 bytes",
            "system_prompt_with_audio": "refused (mistral-common V7)",
        }


def load_voxtral(family: HFFamily, args: SpeechSpanArgs, runtime: RuntimeOptions) -> Loaded:
    require("mistral_common", "models")  # Voxtral's tokenizer, before the processor tries to load it
    return load_family(family, args, runtime)


class VoxtralModel(HFModel):
    family = HFFamily(
        name="voxtral",
        default_pretrained="mistralai/Voxtral-Mini-3B-2507",
        model_class="VoxtralForConditionalGeneration",
        reuse_audio_embeddings=True,
        filled_span=FilledSpan(mask=None, frames_per_position=8, hop=160),
        args=SpeechSpanArgs,
        part=VoxtralPart,
        load=load_voxtral,
    )
