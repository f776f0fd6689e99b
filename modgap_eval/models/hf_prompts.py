"""The generic family part: prompts through the family's chat template (and processor, for speech).

How a prompt becomes tokens. The user turn is ``prefix + slot + suffix``, rendered with the
model's own chat template (``add_generation_prompt=True``). For text the slot is a sentinel that is
replaced by the written content after rendering; the content span is the tokens whose character
offsets overlap the content. For speech the slot is the template's audio item, the processor
expands it, and the content span is ``input_ids == audio_token_id`` (one contiguous run per clip).
Both go through the tokenizer with ``add_special_tokens=False`` (the template writes BOS where the
model wants it); text padding and special tokens are ours, audio padding is the processor's.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from modgap_eval.errors import CapabilityError, ConfigError
from modgap_eval.models.hf_common import Row, content_token_span, single_span
from modgap_eval.models.hf_family import Encoded, HFFamily
from modgap_eval.types import Prompt

SENTINEL = "\ue000MODGAP_CONTENT\ue000"
"""A private-use marker for the text slot: no template or tokenizer produces it."""


def offsets_row(
    ids: Sequence[int],
    offsets: Sequence[tuple[int, int]],
    start: int,
    end: int,
    continuation: tuple[int, ...],
    tokenizer: Any,
) -> Row:
    """A row whose content span is the tokens overlapping characters ``[start, end)``; an empty content
    (e.g. an empty transcript) gets an empty span where it would be."""
    if end > start:
        span = content_token_span(offsets, start, end)
    else:
        at = sum(1 for a, b in offsets if b <= start and b > a)
        span = range(at, at)
    labels = tuple(tokenizer.convert_ids_to_tokens([ids[i] for i in span]))
    return Row(tuple(ids) + continuation, span, target=len(continuation), labels=labels)


def processor_encoded(
    out: Mapping[str, Any],
    processor: Any,
    model: Any,
    continuations: Sequence[tuple[int, ...]],
    audio_token_id: int,
    what: str,
) -> Encoded:
    """A processor's batch as rows (padding dropped, content = the audio run) and device-ready features."""
    dropped = {"input_ids", "attention_mask", *getattr(processor, "unused_input_names", ())}
    param = next(model.parameters())
    features = {
        k: (v.to(param.device, param.dtype) if v.is_floating_point() else v.to(param.device))
        for k, v in out.items()
        if k not in dropped and isinstance(v, torch.Tensor)
    }
    rows = []
    for i, cont in enumerate(continuations):
        ids = tuple(out["input_ids"][i][out["attention_mask"][i].bool()].tolist())
        rows.append(Row(ids + cont, single_span(ids, audio_token_id, what), target=len(cont)))
    return Encoded(rows, features)


def typed_content(prompt: Prompt, item: dict[str, Any]) -> list[dict[str, Any]]:
    """A user turn as typed items: the prefix's text, ``item`` (the content slot), the suffix's text."""
    parts = [{"type": "text", "text": prompt.prefix}] if prompt.prefix else []
    return parts + [item] + ([{"type": "text", "text": prompt.suffix}] if prompt.suffix else [])


class TemplatePart:
    """Prompts rendered by the family's chat template; speech through its processor."""

    def __init__(self, family: HFFamily, model: Any, tokenizer: Any, processor: Any) -> None:
        self.family, self.model, self.tokenizer, self.processor = family, model, tokenizer, processor
        self.what = f"model {family.name!r}"
        owner = {
            "processor": processor,
            "tokenizer": tokenizer,
            "tokenizer-or-plain": tokenizer,
            "processor-or-tokenizer": processor if processor is not None and processor.chat_template else tokenizer,
        }
        self.template_owner = owner[family.chat_template]
        self.structured = family.chat_template == "processor"  # typed content items (see HFFamily.chat_template)
        self.has_chat_template = bool(self.template_owner.chat_template)
        self.audio_token_id = (
            int(operator.attrgetter(family.audio_token)(model.config)) if processor is not None else None
        )

    def messages(self, prompt: Prompt, slot: Any) -> list[dict[str, Any]]:
        system = self.family.system_for(prompt)
        out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system is not None else []
        if self.structured:
            item = slot if isinstance(slot, dict) else {"type": "text", "text": slot}
            out.append({"role": "user", "content": typed_content(prompt, item)})
        else:
            out.append({"role": "user", "content": prompt.prefix + slot + prompt.suffix})
        return out

    def render(self, prompt: Prompt, slot: Any) -> str:
        if not self.has_chat_template:
            if self.family.chat_template != "tokenizer-or-plain":
                owner = "tokenizer" if self.template_owner is self.tokenizer else "processor"
                raise ConfigError(f"{self.what}: the {owner} has no chat template")
            # A base LM without a template: the plain user turn after an optional system line.
            system = self.family.system_for(prompt)
            return (f"{system}\n\n" if system else "") + prompt.prefix + slot + prompt.suffix
        return self.template_owner.apply_chat_template(
            self.messages(prompt, slot), tokenize=False, add_generation_prompt=True
        )

    def split_at_slot(self, prompt: Prompt) -> tuple[str, str]:
        """The rendered prompt before and after the content slot."""
        rendered = self.render(prompt, SENTINEL)
        if rendered.count(SENTINEL) != 1:
            raise ConfigError(f"{self.what}: the chat template did not keep the content slot intact")
        before, after = rendered.split(SENTINEL)
        return before, after

    def text_row(self, prompt: Prompt, continuation: tuple[int, ...] = ()) -> Row:
        before, after = self.split_at_slot(prompt)
        text = prompt.written()
        enc = self.tokenizer(before + text + after, add_special_tokens=False, return_offsets_mapping=True)
        return offsets_row(
            enc["input_ids"], enc["offset_mapping"], len(before), len(before) + len(text), continuation, self.tokenizer
        )

    def audio_item(self) -> dict[str, Any] | str:
        # Structured contents carry an audio item; string contents get the processor's audio token in place.
        return {"type": "audio"} if self.structured else self.processor.audio_token

    def speech_batch(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        # The audio token id is read exactly when there is a processor (text-only LMs have neither).
        if self.processor is None or self.audio_token_id is None:
            raise CapabilityError(
                f"{self.what} is a text-only LM (the base-model text condition): it cannot take speech prompts; "
                "evaluate it on the text modality, or use the 'cascade' model to put an ASR in front"
            )
        out = self.processor(
            text=[self.render(p, self.audio_item()) for p in prompts],
            **{self.family.audio_kwarg: [p.spoken().samples for p in prompts]},
            text_kwargs={"padding": True, "add_special_tokens": False},
            audio_kwargs={"sampling_rate": prompts[0].spoken().sample_rate},
            return_tensors="pt",
        )
        return processor_encoded(out, self.processor, self.model, continuations, self.audio_token_id, self.what)

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        rows = []
        for prompt, embeds in zip(prompts, cached):
            ids = self.tokenizer(self.render(prompt, self.audio_item()), add_special_tokens=False)["input_ids"]
            if ids.count(self.audio_token_id) != 1:
                return None  # the template expands audio some other way: take the processor path
            at = ids.index(self.audio_token_id)
            rows.append(Row(tuple(ids[:at]) + (self.audio_token_id,) * len(embeds), range(at, at + len(embeds))))
        return rows

    def details(self) -> dict[str, Any]:
        default = self.family.default_system
        out: dict[str, Any] = {
            "system_prompt_default": default if default is not None else "(chat template default)",
            "chat_template": self.has_chat_template,
        }
        if self.processor is not None:
            out.update(audio_token_id=self.audio_token_id, speech_content_span="input_ids == audio_token_id")
        return out
