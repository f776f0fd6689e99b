"""The one transformers engine: batching, padding, generation, log-likelihoods, hidden states, memos.

A registered model is ``class XModel(HFModel): family = HFFamily(...)``: the family's settings and
its part (``hf_family``) are all that differ between models; nothing here is overridden.

Batching. Requests run in same-modality, length-sorted batches (``Batcher``: fixed size, or 'auto'
halving on out-of-memory). Every pass pads on the left; ``generate`` lets HF derive positions from
the attention mask, the other passes give explicit position ids (unless the family derives its own),
so a row's numbers do not depend on its batch. Log-likelihoods: ``hf_loglik``; hidden states:
``hf_states``, read by ``hf_taps`` hooks, which also apply interventions.
"""

from __future__ import annotations

import copy
import dataclasses
import operator
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, TypeVar, cast

import torch

from modgap_eval import types as t
from modgap_eval.errors import CapabilityError, DataError, DependencyError
from modgap_eval.models.args import HFArgs, validate_args
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.models.hf_common import (
    Batcher,
    Padded,
    Row,
    count_parameters,
    eos_ids,
    pad_id,
    pad_rows,
    placed_on,
    run_sorted,
)
from modgap_eval.models.hf_family import Encoded, HFFamily, Loaded, load_family
from modgap_eval.models.hf_loglik import Scored, full_rows, shared_prefill
from modgap_eval.models.hf_states import states_batch
from modgap_eval.models.hf_taps import HIDDEN_STATE_CONVENTION, LayerTaps, edits_for
from modgap_eval.models.memo import BoundedMemo, audio_key, tensor_bytes

AUDIO_MEMO_BYTES = 1 << 30

M = TypeVar("M", bound="HFModel")


def prompt_size(prompt: t.Prompt) -> int:
    """A sort key that groups similar lengths (characters, or audio samples / 1000)."""
    body = len(prompt.text) if prompt.text is not None else len(prompt.spoken().samples) // 1000
    return body + len(prompt.prefix) + len(prompt.suffix)


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    cuts = [text.index(s) for s in stops if s and s in text]
    return text[: min(cuts)] if cuts else text


class HFModel(Model):
    """A transformers model run as its ``family`` says (set by each registered subclass)."""

    family: ClassVar[HFFamily]
    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.family.name
        cls.accepts_speech = cls.family.speech
        kinds = {Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES}
        cls.capabilities = frozenset(kinds | ({Capability.INTERVENTION} if cls.family.speech else set()))

    def __init__(self, loaded: Loaded, runtime: RuntimeOptions) -> None:
        self.loaded, self.options, self.part = loaded, loaded.options, loaded.part
        self.model, self.tokenizer, self.sample_rate = loaded.model, loaded.tokenizer, loaded.sample_rate
        self.batcher = Batcher(runtime.batch_size)
        self.pad_id = pad_id(self.model, self.tokenizer)
        stream = self.family.residual_stream
        stream_index = None if stream is None else int(operator.attrgetter(stream)(self.model.config))
        self.taps = LayerTaps(self.model.get_decoder().layers, stream_index)
        self.audio_memo = BoundedMemo(AUDIO_MEMO_BYTES if self.family.reuse_audio_embeddings else 0)

    @classmethod
    def from_args(cls: type[M], args: Mapping[str, str], runtime: RuntimeOptions) -> M:
        values = validate_args(cls.family.args, args, cls.family.name)
        if cls.family.load is None and not isinstance(values, HFArgs):  # own args come with an own load
            raise TypeError(f"model {cls.family.name!r}: {type(values).__name__} args need the family's own load")
        try:
            if cls.family.load is not None:
                loaded = cls.family.load(cls.family, values, runtime)
            else:
                loaded = load_family(cls.family, cast(HFArgs, values), runtime)
        except ImportError as exc:  # a package transformers needs for the checkpoint (timm, torchvision, ...)
            raise DependencyError(f"model {cls.family.name!r}: {' '.join(str(exc).split())}") from exc
        return cls(loaded, runtime)

    def info(self) -> ModelInfo:
        options, loaded = self.options, self.loaded
        args = loaded.args or {"pretrained": options.pretrained, "dtype": options.dtype, "device": options.device}
        details = {
            "class": type(self.model).__name__,
            "loaded_dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "hidden_states": HIDDEN_STATE_CONVENTION,
            "decoder_layers": self.taps.num_layers,
            **self.part.details(),
            "padding": "left; position ids from the attention mask",
            "loglikelihood": (
                "one full row per continuation (the model derives its own positions)"
                if self.family.own_positions
                else "one prefill per prompt, continuations on its KV cache"
            ),
            "decoding": "greedy (do_sample=False, 1 beam); the checkpoint's other generation settings kept",
            "batch_size": self.batcher.fixed if self.batcher.fixed is not None else "auto",
        }
        if options.device_map is not None:
            details["device_map"] = options.placement
        if self.family.filled_span is not None:
            filled = self.loaded.filled_span
            args = {**args, "speech_span": "all" if filled is None else "encoded"}
            rule = filled.describe() if filled else "all of them, the padding embeddings included (speech_span=all)"
            details["speech_content_span"] = f"input_ids == audio_token_id, {rule}"
        if self.taps.stream is not None:
            details["residual_stream"] = f"stream {self.taps.stream} of the blocks' ({self.family.residual_stream})"
        return ModelInfo(
            self.name,
            args,
            loaded.source,
            loaded.revision,
            count_parameters(self.model),
            device=placed_on(self.model, options),
            details={**details, **loaded.details},
        )

    def close(self) -> None:
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # --- prompts to rows ------------------------------------------------------------------------

    def encode(self, prompts: Sequence[t.Prompt], continuations: Sequence[tuple[int, ...]] | None = None) -> Encoded:
        """Rows for prompts of one modality (``continuations[i]`` appended to row i)."""
        conts = list(continuations) if continuations is not None else [()] * len(prompts)
        if prompts[0].modality is not t.Modality.SPEECH:
            return Encoded([self.part.text_row(p, c) for p, c in zip(prompts, conts)], {})
        for p in prompts:
            rate = p.spoken().sample_rate
            if self.family.speech and rate != self.sample_rate:
                raise DataError(f"model {self.name!r} needs {self.sample_rate} Hz audio, got {rate} Hz")
        encoded = self.part.speech_batch(prompts, conts)
        return dataclasses.replace(encoded, rows=self.filled_only(encoded.rows, prompts, encoded.features))

    def filled_only(self, rows: Sequence[Row], prompts: Sequence[t.Prompt], features: Mapping[str, Any]) -> list[Row]:
        """Rows whose states (and intervention positions) are the start of the audio run that encodes the clip."""
        filled = self.loaded.filled_span
        if filled is None:
            return list(rows)
        samples = [len(p.spoken().samples) for p in prompts]
        counts = filled.counts(features, [r.content for r in rows], samples)
        return [dataclasses.replace(r, states=r.content[:n]) for r, n in zip(rows, counts)]

    def tokenize_continuation(self, text: str) -> tuple[int, ...]:
        ids = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if not ids:
            raise DataError(f"model {self.name!r}: continuation {text!r} has no tokens")
        return ids

    def pad(self, rows: Sequence[Row]) -> Padded:
        return pad_rows(rows, self.pad_id, "left", self.options.device)

    def forward_inputs(self, padded: Padded, encoded: Encoded) -> dict[str, Any]:
        inputs = {"input_ids": padded.input_ids, "attention_mask": padded.attention_mask, **encoded.features}
        if encoded.embeds is not None:  # our own speech vectors over the content span, ids elsewhere
            embeds = self.model.get_input_embeddings()(padded.input_ids).clone()
            for i, vectors in enumerate(encoded.embeds):
                span = padded.content(i)
                embeds[i, span.start : span.stop] = vectors.to(embeds.device, embeds.dtype)
            inputs["inputs_embeds"] = embeds
            del inputs["input_ids"]
        if not self.family.own_positions:
            inputs["position_ids"] = padded.position_ids
        return inputs

    def gather_edits(self, requests: Sequence[Any], padded: Padded) -> dict[int, list]:
        edits: dict[int, list] = {}
        for i, request in enumerate(requests):
            if request.intervention is None:
                continue
            if Capability.INTERVENTION not in self.capabilities:
                raise CapabilityError(f"model {self.name!r} cannot apply interventions")
            if request.prompt.modality is not t.Modality.SPEECH:
                raise DataError("interventions rewrite speech positions; this request's prompt is text")
            for layer, layer_edits in edits_for(request.intervention, i, padded.states(i)).items():
                edits.setdefault(layer, []).extend(layer_edits)
        return edits

    def by_modality(self, requests: Sequence[Any], fn: Any) -> list[Any]:
        """Run ``fn`` on same-modality, length-sorted batches (spoken ones one clip per pass if the
        family says so); results in request order."""

        def run(batch: Sequence[Any]) -> list[Any]:
            if self.family.clip_per_pass and batch[0].prompt.modality is t.Modality.SPEECH:
                return [out for item in batch for out in fn([item])]
            return fn(batch)

        out: list[Any] = [None] * len(requests)
        for modality in t.Modality:
            index = [i for i, r in enumerate(requests) if r.prompt.modality is modality]
            if index:
                results = run_sorted([requests[i] for i in index], lambda r: prompt_size(r.prompt), self.batcher, run)
                for i, result in zip(index, results):
                    out[i] = result
        return out

    # --- per-modality setup and the audio-embedding memo -----------------------------------------

    def prepare_for(self, prompts: Sequence[t.Prompt]) -> None:
        """A checkpoint's speech LoRA: on for spoken batches, off for written ones."""
        if self.loaded.lora is not None:
            self.loaded.lora.switch(prompts[0].modality is t.Modality.SPEECH)

    def keep_for(self, prompts: Sequence[t.Prompt], padded: Padded) -> list[range] | None:
        """Content spans whose block-1 inputs (audio embeddings) the taps keep for reuse."""
        if not self.audio_memo.enabled or prompts[0].modality is not t.Modality.SPEECH:
            return None
        return [padded.content(i) for i in range(len(prompts))]

    def remember(self, prompts: Sequence[t.Prompt], taps: LayerTaps) -> None:
        for prompt, embeds in zip(prompts, taps.inputs):
            self.audio_memo.put(audio_key(prompt.spoken()), embeds, tensor_bytes(embeds))

    # --- the three request kinds -----------------------------------------------------------------

    def generate(self, requests: Sequence[t.GenerateRequest]) -> list[t.Generation]:
        return self.by_modality(requests, self.generate_batch)

    def generation_config(self, max_new_tokens: int) -> Any:
        config = copy.deepcopy(self.model.generation_config)
        config.update(
            do_sample=False,
            num_beams=1,
            temperature=None,
            top_p=None,
            top_k=None,
            max_new_tokens=max_new_tokens,
            pad_token_id=self.pad_id,
            eos_token_id=eos_ids(self.model, self.tokenizer),
        )
        return config

    @torch.inference_mode()
    def generate_batch(self, requests: Sequence[t.GenerateRequest]) -> list[t.Generation]:
        prompts = [r.prompt for r in requests]
        self.prepare_for(prompts)
        encoded = self.encode(prompts)
        padded = self.pad(encoded.rows)
        inputs = self.forward_inputs(padded, encoded)
        inputs.pop("position_ids", None)  # generate derives positions from the (left-padded) attention mask
        inputs["input_ids"] = padded.input_ids  # beside any embeddings: the output then carries the prompt
        with self.taps.active(edits=self.gather_edits(requests, padded), keep_inputs=self.keep_for(prompts, padded)):
            out = self.model.generate(
                **inputs, generation_config=self.generation_config(max(r.max_new_tokens for r in requests))
            )
        self.remember(prompts, self.taps)
        eos = set(eos_ids(self.model, self.tokenizer))
        results = []
        for request, ids in zip(requests, out[:, padded.input_ids.shape[1] :].tolist()):
            ids = ids[: request.max_new_tokens]
            stop = next(
                (k for k, token in enumerate(ids) if token in eos), len(ids)
            )  # cut at the first end of sequence
            text = self.tokenizer.decode(ids[:stop], skip_special_tokens=True)
            results.append(t.Generation(cut_at_stop(text, request.stop)))
        return results

    def loglikelihood(self, requests: Sequence[t.LoglikelihoodRequest]) -> list[t.Loglikelihood]:
        items = [
            Scored(r.prompt, r.intervention, tuple(self.tokenize_continuation(c) for c in r.continuations))
            for r in requests
        ]
        return self.by_modality(items, partial(full_rows if self.family.own_positions else shared_prefill, self))

    def hidden_states(self, requests: Sequence[t.HiddenStatesRequest]) -> list[t.HiddenStates]:
        return self.by_modality(list(requests), partial(states_batch, self))
