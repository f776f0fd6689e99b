"""Speech LMs whose processor expands one audio placeholder into ``audio_token_id`` positions.

``HFSpeechLM`` renders the audio item of the family's chat template in the content slot, runs the
processor (text padding and special tokens are ours: ``add_special_tokens=False``, as for text),
and takes the content span to be ``input_ids == audio_token_id`` (one contiguous run per clip).
Families whose text decoder accepts ``inputs_embeds`` with 1-D positions may reuse a clip's audio
embeddings (block 1's input at its audio positions, kept from any earlier pass over the same clip)
in ``hidden_states``, skipping the processor and the audio encoder.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import torch

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.models.base import Capability, ModelInfo
from modgap_eval.models.hf_adapter import Encoded, HFChatLM
from modgap_eval.models.hf_common import BoundedMemo, LayerTaps, Padded, Row, audio_key, load_model, single_span, tensor_bytes
from modgap_eval.types import HiddenStates, HiddenStatesRequest, Modality, Prompt


class HFSpeechLM(HFChatLM):
    """A speech LM whose processor expands one audio placeholder into ``audio_token_id`` positions."""

    name: ClassVar[str] = ""
    capabilities = frozenset(
        {Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES, Capability.INTERVENTION}
    )
    structured_content = True
    model_class: ClassVar[str] = ""
    """``transformers`` attribute name of the model class."""
    audio_kwarg: ClassVar[str] = "audio"
    reuse_audio_embeddings: ClassVar[bool] = False
    """Whether the family's text decoder takes ``inputs_embeds`` with 1-D positions, so that a clip's
    cached audio embeddings (block 1's input at the audio positions) can replace the processor and
    the audio encoder in later ``hidden_states`` passes over the same clip."""
    audio_cache_bytes: ClassVar[int] = 1 << 30
    lora: Any = None
    """The checkpoint's speech LoRA (``hf_lora.SpeechLora``), set by families that ship one."""
    clip_per_pass: ClassVar[bool] = False
    """Run spoken prompts one clip per pass (written ones still batch): for audio encoders that see the
    frames a batch pads a shorter clip with (no audio mask, or convolutions across the padding), where
    batching would change a clip's numbers."""

    def load_model(self) -> Any:
        import transformers

        return load_model(getattr(transformers, self.model_class), self.located, self.options)

    def load_tokenizer(self) -> Any:
        from transformers import AutoProcessor

        self.audio_cache = BoundedMemo(self.audio_cache_bytes if self.reuse_audio_embeddings else 0)
        self.processor = AutoProcessor.from_pretrained(self.located.path)
        # Granite and Phi-4 call their feature extractor ``audio_processor``.
        extractor = getattr(self.processor, "feature_extractor", None) or getattr(self.processor, "audio_processor")
        self.sample_rate = int(extractor.sampling_rate)
        return self.processor.tokenizer

    def chat_template_owner(self) -> Any:
        return self.processor

    def by_modality(self, requests: Sequence[Any], fn: Any) -> list[Any]:
        if not self.clip_per_pass:
            return super().by_modality(requests, fn)

        def one_clip_per_pass(batch: Sequence[Any]) -> list[Any]:
            if batch[0].prompt.modality is not Modality.SPEECH:
                return fn(batch)
            return [out for item in batch for out in fn([item])]

        return super().by_modality(requests, one_clip_per_pass)

    @property
    def audio_token_id(self) -> int:
        return int(self.model.config.audio_token_id)

    def audio_item(self) -> dict[str, Any] | str:
        # Structured contents carry an audio item; string contents get the processor's audio token in place.
        return {"type": "audio"} if self.structured_content else self.processor.audio_token

    def render(self, prompt: Prompt, slot: Any) -> str:
        owner = self.chat_template_owner()
        if not owner.chat_template:
            what = "processor" if owner is self.processor else "tokenizer"
            raise ConfigError(f"model {self.name!r} at {self.located.path}: the {what} has no chat template")
        return super().render(prompt, slot)

    def prepare_for(self, prompts: Sequence[Prompt]) -> None:
        if self.lora is not None:  # a checkpoint's speech LoRA: on for spoken batches, off for written ones
            self.lora.switch(prompts[0].modality is Modality.SPEECH)

    def speech_batch(self, prompts: Sequence[Prompt]) -> Mapping[str, Any]:
        """The processor's batch for spoken prompts: ``input_ids``, ``attention_mask`` and audio features."""
        # Padding and special tokens concern the text only: audio padding is the processor's business.
        return self.processor(
            text=[self.render(p, self.audio_item()) for p in prompts],
            **{self.audio_kwarg: [p.audio.samples for p in prompts]},
            text_kwargs={"padding": True, "add_special_tokens": False},
            audio_kwargs={"sampling_rate": self.sample_rate},
            return_tensors="pt",
        )

    def encode_speech(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        for p in prompts:
            if p.audio.sample_rate != self.sample_rate:
                raise DataError(f"model {self.name!r} needs {self.sample_rate} Hz audio, got {p.audio.sample_rate} Hz")
        out = self.speech_batch(prompts)
        skip = {"input_ids", "attention_mask", *getattr(self.processor, "unused_input_names", ())}
        dtype = next(self.model.parameters()).dtype
        features = {
            k: (v.to(self.options.device, dtype) if v.is_floating_point() else v.to(self.options.device))
            for k, v in out.items()
            if k not in skip and isinstance(v, torch.Tensor)
        }
        rows = []
        for i, cont in enumerate(continuations):
            ids = tuple(out["input_ids"][i][out["attention_mask"][i].bool()].tolist())
            span = single_span(ids, self.audio_token_id, f"model {self.name!r}")
            rows.append(Row(ids + cont, span, target=len(cont)))
        return Encoded(rows, features)

    # --- reuse of audio embeddings across passes over the same clip ---------------------------

    def keep_for(self, prompts: Sequence[Prompt], padded: Padded) -> list[range] | None:
        if not self.audio_cache.enabled or prompts[0].modality is not Modality.SPEECH:
            return None
        return [padded.content(i) for i in range(len(prompts))]

    def remember(self, prompts: Sequence[Prompt], taps: LayerTaps) -> None:
        for prompt, embeds in zip(prompts, taps.inputs):
            self.audio_cache.put(audio_key(prompt.audio), embeds, tensor_bytes(embeds))

    def _hidden_states_batch(self, requests: Sequence[HiddenStatesRequest]) -> list[HiddenStates]:
        prompts = [r.prompt for r in requests]
        if prompts[0].modality is Modality.SPEECH and self.audio_cache.enabled:
            cached = [self.audio_cache.get(audio_key(p.audio)) for p in prompts]
            rows = self.cached_rows(prompts, cached) if all(c is not None for c in cached) else None
            if rows is not None:
                return self._states_from_embeddings(rows, cached)
        return super()._hidden_states_batch(requests)

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        """Rows up to the content end, the one audio placeholder expanded to the cached length."""
        rows = []
        for prompt, embeds in zip(prompts, cached):
            ids = self.tokenizer(self.render(prompt, self.audio_item()), add_special_tokens=False)["input_ids"]
            if ids.count(self.audio_token_id) != 1:
                return None  # the template expands audio some other way: take the processor path
            at = ids.index(self.audio_token_id)
            rows.append(Row(tuple(ids[:at]) + (self.audio_token_id,) * len(embeds), range(at, at + len(embeds))))
        return rows

    @torch.inference_mode()
    def _states_from_embeddings(self, rows: list[Row], cached: Sequence[torch.Tensor]) -> list[HiddenStates]:
        padded = self.pad(rows)
        embeds = self.model.get_input_embeddings()(padded.input_ids)
        spans = [padded.content(i) for i in range(len(rows))]
        for i, span in enumerate(spans):
            embeds[i, span.start : span.stop] = cached[i].to(embeds.device, embeds.dtype)
        with self.taps.active(capture=spans) as taps:
            self.model.get_decoder()(inputs_embeds=embeds, attention_mask=padded.attention_mask,
                                     position_ids=padded.position_ids)
        return [HiddenStates(taps.stacked(i)) for i in range(len(rows))]

    def info(self) -> ModelInfo:
        base = super().info()
        details = {**base.details, "sample_rate": self.sample_rate, "audio_token_id": self.audio_token_id,
                   "speech_content_span": "input_ids == audio_token_id",
                   "audio_embedding_reuse": self.audio_cache.enabled}
        return ModelInfo(base.name, base.args, base.source, base.revision, base.parameters, details)
