"""The generic transformers adapter: chat prompts with one content slot, three request kinds.

``HFChatLM`` runs any causal LM on written prompts and holds the shared run logic (batching,
generation, log-likelihoods, hidden states, interventions); ``hf_speech.HFSpeechLM`` adds spoken
prompts through a family's processor. Family modules subclass it and set a few class attributes.

How a prompt becomes tokens. The user turn is ``prefix + slot + suffix``, rendered with the
model's own chat template (``add_generation_prompt=True``). For text the slot is a sentinel that is
replaced by the written content after rendering; the content span is the tokens whose character
offsets overlap the content. For speech the slot is the template's audio item. Both go through
the tokenizer with ``add_special_tokens=False`` (the template writes BOS where the model wants it).

Batching. ``generate`` pads on the left (HF derives position ids from the attention mask);
``loglikelihood`` and ``hidden_states`` pad on the left too and pass explicit position ids, so a
row's numbers do not depend on its batch. Continuations are tokenized on their own and appended
after the generation prompt; their log-probabilities are summed in natural log. A prompt is run
once for all its continuations: the prefill's last position scores every first token, and the
remaining tokens of all continuations run as one batch on the prompt's gathered KV cache (models
with their own position state, e.g. M-RoPE, run one full row per continuation instead).
"""

from __future__ import annotations

import copy
import functools
import inspect
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import torch

from modgap_eval.errors import CapabilityError, ConfigError, DataError
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.models.hf_common import (
    HIDDEN_STATE_CONVENTION,
    Batcher,
    BoundedMemo,
    LayerTaps,
    LoadOptions,
    Located,
    Padded,
    Row,
    content_token_span,
    count_parameters,
    describe_dtype,
    edits_for,
    load_model,
    locate,
    pad_rows,
    parse_options,
    prompt_key,
    run_sorted,
    tensor_bytes,
)
from modgap_eval.types import (
    Generation,
    GenerateRequest,
    HiddenStates,
    HiddenStatesRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    Modality,
    Prompt,
)

STATES_MEMO_BYTES = 1 << 30
SENTINEL = "\ue000MODGAP_CONTENT\ue000"
"""A private-use marker for the text slot: no template or tokenizer produces it."""


@dataclass(frozen=True)
class Encoded:
    """Rows of one modality plus the processor's non-token inputs (audio features)."""

    rows: list[Row]
    features: Mapping[str, Any]


def prompt_size(prompt: Prompt) -> int:
    """A sort key that groups similar lengths (characters, or audio samples / 1000)."""
    body = len(prompt.text) if prompt.text is not None else len(prompt.audio.samples) // 1000
    return body + len(prompt.prefix) + len(prompt.suffix)


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    cuts = [text.index(s) for s in stops if s and s in text]
    return text[: min(cuts)] if cuts else text


class HFChatLM(Model):
    """Any causal LM with a tokenizer (and chat template, if it has one): written prompts only."""

    name: ClassVar[str] = "hf-causal-lm"
    capabilities = frozenset({Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES})
    default_pretrained: ClassVar[str] = ""
    default_system: ClassVar[str | None] = None
    """System prompt used when ``Prompt.system`` is None; None leaves it to the chat template."""
    structured_content: ClassVar[bool] = False
    """Whether the template takes ``[{"type": "text", ...}, ...]`` user content (else a string)."""
    explicit_position_ids: ClassVar[bool] = True
    """Pass position ids to forward (False for models that derive their own, e.g. M-RoPE)."""

    def __init__(self, options: LoadOptions, located: Located, runtime: RuntimeOptions) -> None:
        self.options = options
        self.located = located
        self.batcher = Batcher(runtime.batch_size)
        self.model = self.load_model()
        self.tokenizer = self.load_tokenizer()
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_ids()[0]
        self.taps = LayerTaps(self.decoder_blocks())
        # Content-span states of scoring prefills, for the hidden-state requests that follow (same prompts).
        self.states_memo = BoundedMemo(STATES_MEMO_BYTES if runtime.keep_states else 0)

    # --- construction ----------------------------------------------------------------------

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> "HFChatLM":
        options, _ = parse_options(args, runtime, {}, cls.name, cls.default_pretrained)
        return cls(options, locate(options.pretrained), runtime)

    def load_model(self) -> Any:
        from transformers import AutoModelForCausalLM

        return load_model(AutoModelForCausalLM, self.located, self.options)

    def load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.located.path)

    def decoder_blocks(self) -> Sequence[torch.nn.Module]:
        """The text decoder's blocks, in order (hooked for hidden states and interventions)."""
        return list(self.model.get_decoder().layers)

    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.name,
            args={"pretrained": self.options.pretrained, "dtype": self.options.dtype, "device": self.options.device},
            source=self.located.source,
            revision=self.located.revision,
            parameters=count_parameters(self.model),
            details={
                "class": type(self.model).__name__,
                "loaded_dtype": describe_dtype(self.model),
                "hidden_states": HIDDEN_STATE_CONVENTION,
                "decoder_layers": self.taps.num_layers,
                "system_prompt_default": self.default_system if self.default_system is not None else "(chat template default)",
                "chat_template": bool(self.chat_template_owner().chat_template),
                "padding": "left; position ids from the attention mask",
                "decoding": "greedy (do_sample=False, 1 beam); the checkpoint's other generation settings kept",
                "batch_size": self.batcher.fixed if self.batcher.fixed is not None else "auto",
            },
        )

    def close(self) -> None:
        self.model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # --- prompts -----------------------------------------------------------------------------

    def chat_template_owner(self) -> Any:
        return self.tokenizer

    def audio_item(self) -> dict[str, Any]:
        raise CapabilityError(f"model {self.name!r} takes written prompts only")

    def system_for(self, prompt: Prompt) -> str | None:
        """The prompt's system prompt, else the model's default (None: leave it to the chat template)."""
        return prompt.system if prompt.system is not None else self.default_system

    def messages(self, prompt: Prompt, slot: Any) -> list[dict[str, Any]]:
        system = self.system_for(prompt)
        out: list[dict[str, Any]] = []
        if system is not None:
            out.append({"role": "system", "content": system})
        if self.structured_content:
            parts = [{"type": "text", "text": prompt.prefix}] if prompt.prefix else []
            parts.append(slot if isinstance(slot, dict) else {"type": "text", "text": slot})
            parts += [{"type": "text", "text": prompt.suffix}] if prompt.suffix else []
            out.append({"role": "user", "content": parts})
        else:
            out.append({"role": "user", "content": prompt.prefix + slot + prompt.suffix})
        return out

    def render(self, prompt: Prompt, slot: Any) -> str:
        owner = self.chat_template_owner()
        if not owner.chat_template:
            # A base LM without a template: the plain user turn after an optional system line.
            system = self.system_for(prompt)
            head = f"{system}\n\n" if system else ""
            return head + prompt.prefix + slot + prompt.suffix
        return owner.apply_chat_template(self.messages(prompt, slot), tokenize=False, add_generation_prompt=True)

    def text_row(self, prompt: Prompt, continuation: tuple[int, ...] = ()) -> Row:
        rendered = self.render(prompt, SENTINEL)
        if rendered.count(SENTINEL) != 1:
            raise ConfigError(f"model {self.name!r}: the chat template did not keep the content slot intact")
        before, after = rendered.split(SENTINEL)
        full = before + prompt.text + after
        enc = self.tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
        if prompt.text:
            span = content_token_span(enc["offset_mapping"], len(before), len(before) + len(prompt.text))
        else:  # e.g. an empty transcript: an empty span where the content would be
            start = sum(1 for a, b in enc["offset_mapping"] if b <= len(before) and b > a)
            span = range(start, start)
        ids = tuple(enc["input_ids"]) + continuation
        labels = tuple(self.tokenizer.convert_ids_to_tokens([ids[i] for i in span]))
        return Row(ids, span, target=len(continuation), labels=labels)

    def encode(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]] | None = None) -> Encoded:
        """Rows for prompts of one modality (``continuations[i]`` appended to row i)."""
        conts = list(continuations) if continuations is not None else [()] * len(prompts)
        if prompts[0].modality is Modality.SPEECH:
            return self.encode_speech(prompts, conts)
        return Encoded([self.text_row(p, c) for p, c in zip(prompts, conts)], {})

    def encode_speech(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        raise CapabilityError(
            f"model {self.name!r} is a text-only LM (the base-model text condition): it cannot take speech "
            "prompts; evaluate it on the text modality, or use the 'cascade' model to put an ASR in front"
        )

    def tokenize_continuation(self, text: str) -> tuple[int, ...]:
        ids = tuple(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if not ids:
            raise DataError(f"model {self.name!r}: continuation {text!r} has no tokens")
        return ids

    def eos_ids(self) -> list[int]:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        return [eos] if isinstance(eos, int) else list(eos or [])

    # --- running -------------------------------------------------------------------------------

    def pad(self, rows: Sequence[Row]) -> Padded:
        return pad_rows(rows, self.pad_id, "left", self.options.device)

    def forward_inputs(self, padded: Padded, features: Mapping[str, Any]) -> dict[str, Any]:
        inputs = {"input_ids": padded.input_ids, "attention_mask": padded.attention_mask, **features}
        if self.explicit_position_ids:
            inputs["position_ids"] = padded.position_ids
        return inputs

    def gather_edits(self, requests: Sequence[Any], padded: Padded) -> dict[int, list]:
        edits: dict[int, list] = {}
        for i, request in enumerate(requests):
            if request.intervention is None:
                continue
            if Capability.INTERVENTION not in self.capabilities:
                raise CapabilityError(f"model {self.name!r} cannot apply interventions")
            if request.prompt.modality is not Modality.SPEECH:
                raise DataError("interventions rewrite speech positions; this request's prompt is text")
            for layer, layer_edits in edits_for(request.intervention, i, padded.content(i)).items():
                edits.setdefault(layer, []).extend(layer_edits)
        return edits

    def by_modality(self, requests: Sequence[Any], fn: Any) -> list[Any]:
        """Run ``fn`` on same-modality, length-sorted batches; results in request order."""
        out: list[Any] = [None] * len(requests)
        for modality in Modality:
            index = [i for i, r in enumerate(requests) if r.prompt.modality is modality]
            if not index:
                continue
            results = run_sorted([requests[i] for i in index], lambda r: prompt_size(r.prompt), self.batcher, fn)
            for i, result in zip(index, results):
                out[i] = result
        return out

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        return self.by_modality(requests, self._generate_batch)

    def generation_config(self, max_new_tokens: int) -> Any:
        config = copy.deepcopy(self.model.generation_config)
        config.update(do_sample=False, num_beams=1, temperature=None, top_p=None, top_k=None,
                      max_new_tokens=max_new_tokens, pad_token_id=self.pad_id, eos_token_id=self.eos_ids())
        return config

    @torch.inference_mode()
    def _generate_batch(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        self.prepare_for([r.prompt for r in requests])
        encoded = self.encode([r.prompt for r in requests])
        padded = self.pad(encoded.rows)
        longest = max(r.max_new_tokens for r in requests)
        prompts = [r.prompt for r in requests]
        with self.taps.active(edits=self.gather_edits(requests, padded), keep_inputs=self.keep_for(prompts, padded)):
            # HF derives position ids from the (left-padded) attention mask during generation.
            out = self.model.generate(
                input_ids=padded.input_ids,
                attention_mask=padded.attention_mask,
                generation_config=self.generation_config(longest),
                **encoded.features,
            )
        self.remember(prompts, self.taps)
        return self.decode_new_tokens(requests, out[:, padded.input_ids.shape[1] :].tolist())

    def decode_new_tokens(self, requests: Sequence[GenerateRequest], new: Sequence[Sequence[int]]) -> list[Generation]:
        """Generated ids -> text, cut at the first end-of-sequence token and at the request's stop strings."""
        eos = set(self.eos_ids())
        results = []
        for request, ids in zip(requests, new):
            ids = list(ids)[: request.max_new_tokens]
            stop = next((k for k, t in enumerate(ids) if t in eos), len(ids))
            text = self.tokenizer.decode(ids[:stop], skip_special_tokens=True)
            results.append(Generation(cut_at_stop(text, request.stop)))
        return results

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        items = [_Scored(r.prompt, r.intervention, tuple(self.tokenize_continuation(c) for c in r.continuations))
                 for r in requests]
        run = self._loglikelihood_batch if self.explicit_position_ids else self._loglikelihood_rows
        return self.by_modality(items, run)

    @functools.cached_property
    def accepts_logits_to_keep(self) -> bool:
        return "logits_to_keep" in inspect.signature(self.model.forward).parameters

    @functools.cached_property
    def cache_argument(self) -> str:
        """The forward argument (and output key) of the KV cache: ``cache`` since transformers 5.2x."""
        return "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"

    @torch.inference_mode()
    def _loglikelihood_batch(self, items: Sequence["_Scored"]) -> list[Loglikelihood]:
        """One prefill per prompt scores every continuation's first token; the rest continue from its KV cache.

        The prompt is the expensive part (speech especially): it runs once however many options a
        question has, and all continuations' remaining tokens run as one batch on the gathered cache.
        """
        self.prepare_for([it.prompt for it in items])
        encoded = self.encode([it.prompt for it in items])
        padded = self.pad(encoded.rows)
        prompts = [it.prompt for it in items]
        inputs = self.forward_inputs(padded, encoded.features)
        if self.accepts_logits_to_keep:
            inputs["logits_to_keep"] = 1  # only the last position's vocabulary projection is needed
        capture = [padded.content(i) for i in range(len(items))] if self.states_memo.enabled else None
        with self.taps.active(capture=capture, edits=self.gather_edits(items, padded),
                              keep_inputs=self.keep_for(prompts, padded)):
            out = self.model(**inputs, use_cache=True)
        self.remember(prompts, self.taps)
        if capture is not None:
            for i, it in enumerate(items):
                if it.intervention is None:  # an edited pass is not the prompt's own states
                    states = HiddenStates(self.taps.stacked(i), tokens=padded.rows[i].labels)
                    self.states_memo.put(prompt_key(it.prompt), states, tensor_bytes(states.states))
        # Left padding: every row's last prompt token sits at the last position.
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        scores = [[float(first[i, ids[0]]) for ids in it.continuations] for i, it in enumerate(items)]
        tails = [(i, k) for i, it in enumerate(items) for k, ids in enumerate(it.continuations) if len(ids) > 1]
        if tails:
            rest = self._continue_from_cache(out[self.cache_argument], padded,
                                             [i for i, _ in tails], [items[i].continuations[k] for i, k in tails])
            for (i, k), value in zip(tails, rest):
                scores[i][k] += value
        return [Loglikelihood(tuple(s), tuple(len(ids) for ids in it.continuations)) for s, it in zip(scores, items)]

    def _continue_from_cache(self, cache: Any, padded: Padded, rows: list[int],
                             continuations: list[tuple[int, ...]]) -> list[float]:
        """Summed log-probs of tokens 2..n of each continuation, fed after prompt row ``rows[j]``'s cache."""
        device = padded.input_ids.device
        index = torch.tensor(rows, dtype=torch.long, device=device)
        cache.reorder_cache(index)  # gathers (and repeats) batch rows: one cache row per continuation
        width = max(len(ids) - 1 for ids in continuations)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        tail_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, continuation in enumerate(continuations):  # right-padded: a row's real tokens come first
            ids[j, : len(continuation) - 1] = torch.tensor(continuation[:-1])
            tail_mask[j, : len(continuation) - 1] = 1
        prompt_mask = padded.attention_mask[index]
        positions = prompt_mask.sum(-1, keepdim=True) + torch.arange(width, device=device)[None]
        logits = self.model(input_ids=ids.to(device), attention_mask=torch.cat([prompt_mask, tail_mask.to(device)], -1),
                            position_ids=positions, use_cache=True, **{self.cache_argument: cache}).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
        return [float(logp[j, torch.arange(len(c) - 1), torch.tensor(c[1:], device=device)].sum())
                for j, c in enumerate(continuations)]

    @torch.inference_mode()
    def _loglikelihood_rows(self, items: Sequence["_Scored"]) -> list[Loglikelihood]:
        """One full row per (prompt, continuation), for models that derive their own positions (M-RoPE):
        their position state cannot follow a cache whose rows are gathered."""
        flat = [(it, ids) for it in items for ids in it.continuations]
        self.prepare_for([it.prompt for it in items])
        encoded = self.encode([it.prompt for it, _ in flat], [ids for _, ids in flat])
        padded = self.pad(encoded.rows)
        prompts = [it.prompt for it, _ in flat]
        with self.taps.active(edits=self.gather_edits([it for it, _ in flat], padded),
                              keep_inputs=self.keep_for(prompts, padded)):
            logits = self.model(**self.forward_inputs(padded, encoded.features)).logits
        self.remember(prompts, self.taps)
        width = padded.input_ids.shape[1]
        sums = []
        for i, (_, ids) in enumerate(flat):
            n = len(ids)
            # Left padding: every row ends at ``width``; token t is predicted at position t - 1.
            step = torch.log_softmax(logits[i, width - n - 1 : width - 1].float(), dim=-1)
            sums.append(float(step.gather(-1, padded.input_ids[i, width - n :].unsqueeze(-1)).sum()))
        out, k = [], 0
        for it in items:
            out.append(Loglikelihood(tuple(sums[k : k + len(it.continuations)]), tuple(len(c) for c in it.continuations)))
            k += len(it.continuations)
        return out

    def hidden_states(self, requests: Sequence[HiddenStatesRequest]) -> list[HiddenStates]:
        """Content-span states; prompts already scored with ``keep_states`` on come from that prefill."""
        out = [self.states_memo.get(prompt_key(r.prompt)) if self.states_memo.enabled else None for r in requests]
        missing = [i for i, states in enumerate(out) if states is None]
        if missing:
            for i, states in zip(missing, self.by_modality([requests[i] for i in missing], self._hidden_states_batch)):
                out[i] = states
        return out

    @torch.inference_mode()
    def _hidden_states_batch(self, requests: Sequence[HiddenStatesRequest]) -> list[HiddenStates]:
        self.prepare_for([r.prompt for r in requests])
        encoded = self.encode([r.prompt for r in requests])
        # Causal attention: nothing after the content changes its states, so stop the pass there.
        rows = [Row(r.ids[: r.content.stop], r.content, labels=r.labels) for r in encoded.rows]
        padded = self.pad(rows)
        spans = [padded.content(i) for i in range(len(rows))]
        prompts = [r.prompt for r in requests]
        with self.taps.active(capture=spans, keep_inputs=self.keep_for(prompts, padded)) as taps:
            self.backbone()(**self.forward_inputs(padded, encoded.features))
        self.remember(prompts, taps)
        return [HiddenStates(taps.stacked(i), tokens=rows[i].labels) for i in range(len(rows))]

    def prepare_for(self, prompts: Sequence[Prompt]) -> None:
        """Set the model up for a batch of one modality (e.g. switch a speech-only LoRA on or off)."""

    def keep_for(self, prompts: Sequence[Prompt], padded: Padded) -> list[range] | None:
        """Content spans whose block-1 inputs to keep for reuse (none for written prompts)."""
        return None

    def remember(self, prompts: Sequence[Prompt], taps: LayerTaps) -> None:
        """Store what ``keep_for`` asked the taps to keep."""

    def backbone(self) -> Any:
        """The model without its LM head (no logits needed for hidden states)."""
        return getattr(self.model, "model", self.model)


@dataclass(frozen=True)
class _Scored:
    """One prompt to score: the prompt, the intervention and its continuations' token ids."""

    prompt: Prompt
    intervention: Any
    continuations: tuple[tuple[int, ...], ...]
