"""What a model family gives the HF engine: its settings (``HFFamily``) and its prompt part.

The engine (``hf_engine.HFModel``) does the shared work; a family is a frozen ``HFFamily`` whose
fields are every choice a family makes, and a *part* (``FamilyPart``) built at load time that turns
prompts into token rows. Most families use the generic part (``hf_prompts.TemplatePart``) and
differ only in settings; a family with its own tokenizer (Voxtral) or its own speech path
(paper-lslm) brings its own part and, if it loads differently, its own ``load`` function.
``docs/ADDING_A_MODEL.md`` walks through adding one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import torch

from modgap_eval.models.args import HFArgs, ModelArgs, SpeechSpanArgs
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.hf_common import LoadOptions, Row, load_model, load_options
from modgap_eval.models.offline import locate
from modgap_eval.types import Prompt


@dataclass(frozen=True)
class Encoded:
    """Rows of one modality plus what else the forward pass takes."""

    rows: list[Row]
    features: Mapping[str, Any]
    """The processor's non-token inputs (audio features), passed to forward as they are."""
    embeds: Sequence[torch.Tensor] | None = None
    """Vectors written over each row's content span (``inputs_embeds``), for a speech path of our own."""


class FamilyPart(Protocol):
    """The per-family methods the engine calls (see ``hf_prompts.TemplatePart`` for the generic one)."""

    has_chat_template: bool

    def text_row(self, prompt: Prompt, continuation: tuple[int, ...] = ()) -> Row:
        """The written prompt's ids (``continuation`` appended) and its content span (the content's tokens)."""

    def speech_batch(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        """Spoken prompts' rows (content span = the audio positions) and features; audio already resampled."""

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        """Rows up to the content end with the audio span as long as ``cached[i]`` (kept audio embeddings),
        without the processor; None when the family cannot tell (the engine then runs the processor)."""

    def details(self) -> dict[str, Any]:
        """What ``ModelInfo.details`` records about the prompts (template, spans)."""


@dataclass(frozen=True)
class FilledSpan:
    """An audio placeholder run of which only the first positions encode the clip, one per
    ``frames_per_position`` of its feature frames; the rest encode padding (Gemma 3n's fixed 188, filled
    from the encoder's mask; Voxtral's 375 per 30 s window, the clip zero-padded to whole windows). The
    pass still runs every placeholder; states and interventions cover the clip's. The clip's frames are
    counted from the processor's frame ``mask``, or, where its features carry none, from the clip's
    sample count: ``samples // hop``."""

    mask: str | None
    frames_per_position: int
    hop: int | None = None

    def __post_init__(self) -> None:
        if (self.mask is None) == (self.hop is None):
            raise TypeError("FilledSpan counts frames from a mask or from samples // hop: give exactly one")

    def counts(self, features: Mapping[str, Any], spans: Sequence[range], samples: Sequence[int] = ()) -> list[int]:
        """Filled positions per clip: ceil(frames / frames_per_position), at most the run's length."""
        if self.mask is not None:
            frames = [int(v) for v in features[self.mask].sum(-1).tolist()]
        else:
            frames = [n // self.hop for n in samples]  # type: ignore[operator]
        return [min(-(-f // self.frames_per_position), len(span)) for f, span in zip(frames, spans, strict=True)]

    def describe(self) -> str:
        if self.mask is not None:
            which, frames = "those the encoder filled", f"sum({self.mask})"
        else:
            which, frames = "those whose frames are the clip's", f"the clip's samples // {self.hop}"
        rule = f"the first ceil(frames / {self.frames_per_position}) of them"
        return f"{rule}, {which} (frames = {frames}); speech_span=encoded"


@dataclass(frozen=True)
class Loaded:
    """A loaded model with everything the engine needs from the family."""

    model: Any
    tokenizer: Any
    part: FamilyPart
    options: LoadOptions
    source: str
    revision: str
    sample_rate: int = 16_000
    lora: Any = None
    """The checkpoint's speech LoRA (``hf_lora.SpeechLora``): switched on for spoken batches only."""
    args: Mapping[str, str] | None = None
    """What results record as the model's args (default: pretrained, dtype, device)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    filled_span: FilledSpan | None = None
    """The family's ``filled_span`` when ``speech_span=encoded``; None: states cover the whole content span."""


@dataclass(frozen=True)
class HFFamily:
    """Every choice a transformers family makes; the engine reads nothing else about it."""

    name: str
    default_pretrained: str = ""
    model_class: str = "AutoModelForCausalLM"
    """``transformers`` attribute name of the model class."""
    speech: bool = True
    """Takes spoken prompts (through its processor) and interventions; False: a text-only LM."""
    default_system: str | None = None
    """System prompt used when ``Prompt.system`` is None; None leaves it to the chat template."""
    chat_template: Literal["processor", "tokenizer", "processor-or-tokenizer", "tokenizer-or-plain"] = "processor"
    """Whose chat template renders prompts; ``tokenizer-or-plain`` falls back to the plain user turn
    (``system\\n\\n`` + prefix + content + suffix), the others refuse a checkpoint without one. A
    processor's template takes typed user content, ``[{"type": "text", ...}, {"type": "audio"}]``; the
    others (``processor-or-tokenizer`` too, as either may render) one string with the processor's
    audio token written in place."""
    own_positions: bool = False
    """The model derives its position ids itself (e.g. Omni's 3-D M-RoPE). Two consequences: no position
    ids are passed to forward, and log-likelihoods run one full row per continuation instead of
    continuing the prompt's shared prefill cache (the model's position state cannot follow a gathered
    cache). Same numbers, more compute."""
    audio_kwarg: str = "audio"
    """The processor's keyword for the waveforms."""
    audio_token: str = "audio_token_id"
    """Where the model config keeps the audio placeholder id (dotted path)."""
    reuse_audio_embeddings: bool = False
    """The text decoder takes ``inputs_embeds`` with 1-D positions, so a clip's audio embeddings (block
    1's input at its audio positions, kept from an earlier pass) can replace the processor and the
    audio encoder in later ``hidden_states`` passes over the same clip."""
    residual_stream: str | None = None
    """Where the model config keeps the index of the residual stream that hidden states read and
    interventions edit, for decoder blocks that pass several streams stacked on dim 0 (Gemma 3n's
    AltUp, ``"text_config.altup_active_idx"``); None: blocks pass ``[batch, T, d]``."""
    clip_per_pass: bool = False
    """Spoken prompts run one clip per pass (written ones still batch): for audio encoders that see the
    frames a batch pads a shorter clip with, where batching would change a clip's numbers."""
    filled_span: FilledSpan | None = None
    """The audio placeholder run is longer than the clip (a fixed count, or whole padded windows) and
    only its first positions encode the clip: states and intervention positions cover those
    (``speech_span=encoded``, the default of the ``SpeechSpanArgs`` the family then takes) or every
    placeholder (``speech_span=all``)."""
    speech_lora: str | None = None
    """Folder of the checkpoint's speech LoRA relative to the weights (``""``: beside them), or None."""
    args: type[ModelArgs] = HFArgs
    part: Callable[[HFFamily, Any, Any, Any], FamilyPart] | None = None
    """Builds the part from (family, model, tokenizer, processor); None: ``hf_prompts.TemplatePart``."""
    load: Callable[[HFFamily, Any, RuntimeOptions], Loaded] | None = None
    """Loads from validated args; None: ``load_family`` (weights, processor, LoRA, part)."""

    def __post_init__(self) -> None:
        if (self.filled_span is not None) != issubclass(self.args, SpeechSpanArgs):
            raise TypeError(f"family {self.name!r}: filled_span and SpeechSpanArgs come together")
        if self.filled_span is not None and self.filled_span.mask is not None and self.reuse_audio_embeddings:
            # kept rows have no features to count from (a sample-count rule needs only the clip)
            raise TypeError(f"family {self.name!r}: a mask-counted filled_span cannot reuse audio embeddings")

    def system_for(self, prompt: Prompt) -> str | None:
        """The prompt's system prompt, else the family's default (None: leave it to the chat template)."""
        return prompt.system if prompt.system is not None else self.default_system


def load_family(family: HFFamily, args: HFArgs, runtime: RuntimeOptions) -> Loaded:
    """The usual load: ``model_class`` weights, the processor (speech) or tokenizer, the LoRA, the part."""
    import transformers

    from modgap_eval.models.hf_lora import NO_AUTOLOAD, SpeechLora, has_adapter
    from modgap_eval.models.hf_prompts import TemplatePart

    options = load_options(args, runtime, family.name, family.default_pretrained)
    located = locate(options.pretrained)
    # A LoRA beside the weights would be picked up by from_pretrained itself (and refused): we load it.
    extra = NO_AUTOLOAD if family.speech_lora == "" else {}
    model = load_model(getattr(transformers, family.model_class), located, options, **extra)
    lora_folder = Path(located.path) / family.speech_lora if family.speech_lora is not None else None
    lora = (
        SpeechLora(model, lora_folder, f"model {family.name!r}") if lora_folder and has_adapter(lora_folder) else None
    )
    processor, sample_rate = None, 16_000
    if family.speech:
        processor = transformers.AutoProcessor.from_pretrained(located.path)
        # Granite and Phi-4 call their feature extractor ``audio_processor``.
        extractor = getattr(processor, "feature_extractor", None) or processor.audio_processor
        sample_rate = int(extractor.sampling_rate)
        tokenizer = processor.tokenizer
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(located.path)
    part = (family.part or TemplatePart)(family, model, tokenizer, processor)
    details = (
        {"sample_rate": sample_rate, "audio_embedding_reuse": family.reuse_audio_embeddings} if family.speech else {}
    )
    filled = family.filled_span if isinstance(args, SpeechSpanArgs) and args.speech_span == "encoded" else None
    return Loaded(
        model,
        tokenizer,
        part,
        options,
        located.source,
        located.revision,
        sample_rate,
        lora,
        details=details,
        filled_span=filled,
    )
