"""Voxtral (mistralai/Voxtral-Mini-3B-2507) through transformers, tokenized by mistral-common.

Voxtral has no Jinja chat template: its ``tekken.json`` is read by mistral-common
(``MistralCommonBackend``), which encodes a whole chat to ids, ``<s>[INST]…[/INST]``, and itself
expands each clip into ``[BEGIN_AUDIO]`` plus one ``[AUDIO]`` per 80 ms (12.5 per second; the
clip is padded to whole 30 s windows, so a 1 s clip takes 375). So both modalities are tokenized from messages, never from
rendered text:

- speech: the user turn is ``[prefix, audio, suffix]`` (the audio as a lossless float WAV) through
  ``VoxtralProcessor.apply_chat_template``; the content span is ``input_ids == audio_token_id``.
- text: the user turn is the one string ``prefix + content + suffix`` (separate text chunks would
  be joined with a blank line by mistral-common, which the speech turn does not get). The tokenizer
  gives no character offsets, so the span comes from the tokens' own bytes between ``[INST]`` and
  ``[/INST]``: the tokens whose bytes overlap the content's UTF-8 bytes.

There is no default system prompt. mistral-common refuses system messages beside audio (its V7
instruct tokenizer: "System messages are not yet allowed when audio is present"), so a speech
prompt with a system prompt is an error rather than a silently different prompt. Chat (instruct)
mode only: the transcription request (``lang:xx[TRANSCRIBE]`` after the audio) is not used.
"""

from __future__ import annotations

import base64
import io
from typing import Any, Sequence

import numpy as np
import soundfile
import torch

from modgap_eval.errors import ConfigError, require
from modgap_eval.models.base import ModelInfo
from modgap_eval.models.hf_common import Row, content_token_span, single_span
from modgap_eval.models.hf_speech import HFSpeechLM
from modgap_eval.types import Prompt, Waveform


def wav_base64(audio: Waveform) -> str:
    """The clip as a base64 float32 WAV: mistral-common decodes it back to the same samples."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(audio.samples, dtype=np.float32), audio.sample_rate, format="WAV", subtype="FLOAT")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class VoxtralModel(HFSpeechLM):
    name = "voxtral"
    default_pretrained = "mistralai/Voxtral-Mini-3B-2507"
    model_class = "VoxtralForConditionalGeneration"
    reuse_audio_embeddings = True

    def load_tokenizer(self) -> Any:
        require("mistral_common", "models")  # Voxtral's tokenizer
        tokenizer = super().load_tokenizer()
        if not hasattr(tokenizer, "tokenizer") or not hasattr(tokenizer.tokenizer, "instruct_tokenizer"):
            raise ConfigError(
                f"model {self.name!r} at {self.located.path}: Voxtral needs mistral-common's tokenizer "
                "(pip install mistral-common) and the checkpoint's tekken.json"
            )
        self.tekken = tokenizer.tokenizer.instruct_tokenizer.tokenizer
        return tokenizer

    # --- messages --------------------------------------------------------------------------

    def system_message(self, prompt: Prompt) -> list[dict[str, Any]]:
        system = self.system_for(prompt)
        return [{"role": "system", "content": system}] if system else []

    def text_conversation(self, prompt: Prompt) -> list[dict[str, Any]]:
        return self.system_message(prompt) + [{"role": "user", "content": prompt.prefix + prompt.text + prompt.suffix}]

    def speech_conversation(self, prompt: Prompt) -> list[dict[str, Any]]:
        if self.system_message(prompt):
            raise ConfigError(
                f"model {self.name!r} takes no system prompt with audio (mistral-common: 'System messages are "
                "not yet allowed when audio is present'); drop the task's prompt.system to evaluate Voxtral"
            )
        parts = [{"type": "text", "text": prompt.prefix}] if prompt.prefix else []
        parts.append({"type": "audio", "base64": wav_base64(prompt.audio)})
        parts += [{"type": "text", "text": prompt.suffix}] if prompt.suffix else []
        return [{"role": "user", "content": parts}]

    def chat_ids(self, conversation: list[dict[str, Any]]) -> list[int]:
        return list(self.tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=False))

    # --- text ------------------------------------------------------------------------------

    def text_row(self, prompt: Prompt, continuation: tuple[int, ...] = ()) -> Row:
        ids = self.chat_ids(self.text_conversation(prompt))
        begin, end = self.tekken.get_special_token("[INST]"), self.tekken.get_special_token("[/INST]")
        if ids.count(end) != 1 or ids[-1] != end or begin not in ids:
            raise ConfigError(f"model {self.name!r}: expected one user turn [INST]...[/INST], got {len(ids)} ids")
        start = len(ids) - ids[::-1].index(begin)  # just after the last [INST]
        pieces = [self.tekken.id_to_byte_piece(t) for t in ids[start:-1]]
        message = (prompt.prefix + prompt.text + prompt.suffix).encode("utf-8")
        if b"".join(pieces) != message:
            raise ConfigError(f"model {self.name!r}: the user turn's tokens do not spell the prompt")
        offsets, at = [], 0
        for piece in pieces:
            offsets.append((at, at + len(piece)))
            at += len(piece)
        lo = len(prompt.prefix.encode("utf-8"))
        hi = lo + len(prompt.text.encode("utf-8"))
        if prompt.text:
            local = content_token_span(offsets, lo, hi)
        else:  # an empty transcript: an empty span where the content would be
            at = sum(1 for _, b in offsets if b <= lo)
            local = range(at, at)
        span = range(start + local.start, start + local.stop)
        labels = tuple(self.tokenizer.convert_ids_to_tokens([ids[i] for i in span]))
        return Row(tuple(ids) + continuation, span, target=len(continuation), labels=labels)

    # --- speech ----------------------------------------------------------------------------

    def speech_batch(self, prompts: Sequence[Prompt]) -> Any:
        # mistral-common encodes the whole chat and expands the audio itself (the processor refuses raw audio).
        return self.processor.apply_chat_template([self.speech_conversation(p) for p in prompts],
                                                  tokenize=True, return_dict=True)

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        """Rows up to the content end from the tokenizer alone (it expands the audio; no features needed)."""
        rows = []
        for prompt, embeds in zip(prompts, cached):
            ids = self.chat_ids(self.speech_conversation(prompt))
            span = single_span(ids, self.audio_token_id, f"model {self.name!r}")
            if len(span) != len(embeds):
                return None
            rows.append(Row(tuple(ids[: span.stop]), span))
        return rows

    def info(self) -> ModelInfo:
        base = super().info()
        details = {**base.details, "system_prompt_default": "(none)", "chat_format": "mistral-common tekken.json (no Jinja template)",
                   "text_user_turn": "one text chunk: prefix + content + suffix",
                   "text_content_span": "tokens whose bytes overlap the content's UTF-8 bytes",
                   "system_prompt_with_audio": "refused (mistral-common V7)"}
        return ModelInfo(base.name, base.args, base.source, base.revision, base.parameters, details)
