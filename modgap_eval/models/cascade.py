"""The ASR → LLM cascade (the paper's pipeline baseline): speech is transcribed, then answered as text.

``asr`` is any transformers speech-to-text seq2seq model (Whisper and the like; greedy decoding, one
30 s window per clip), ``lm`` any causal LM run exactly as ``text-lm`` runs it. A spoken prompt
becomes the written prompt with the transcript in the content slot, so the speech side's hidden
states are the LM's states over the transcript tokens. Each speech output's ``extras`` carries the
``transcript``; its word error rate against the written form is ``transcripts.transcript_wer``
(the adapter never sees the written form of a spoken request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from pydantic import Field

from modgap_eval import types as t
from modgap_eval.errors import ConfigError, DataError
from modgap_eval.models.args import Dtype, HFArgs, ModelArgs, validate_args
from modgap_eval.models.base import Capability, Model, ModelInfo, RuntimeOptions
from modgap_eval.models.hf_common import (
    Batcher,
    LoadOptions,
    count_parameters,
    load_model,
    load_options,
    run_sorted,
)
from modgap_eval.models.hf_family import load_family
from modgap_eval.models.memo import BoundedMemo, audio_key
from modgap_eval.models.offline import Located, locate
from modgap_eval.models.text_lm import TextLM

TRANSCRIPTS_MEMO_BYTES = 64 << 20
WHISPER_OWN_DEPRECATION = "Passing `generation_config` together with generation-related arguments"


class CascadeArgs(ModelArgs):
    asr: str = "openai/whisper-tiny.en"
    """A transformers speech-to-text checkpoint (hub id, offline name or folder)."""
    lm: str = "HuggingFaceTB/SmolLM2-135M-Instruct"
    """A causal LM checkpoint, run as ``text-lm``."""
    dtype: Dtype | None = None
    device: str | None = None
    asr_max_new_tokens: int = Field(128, ge=1)
    """Transcript length cap in tokens (for Whisper at most its decoder positions less 4 start tokens: 444)."""


class Transcriber:
    """A seq2seq ASR model with its processor: waveforms in, transcripts out (greedy, batched)."""

    def __init__(self, options: LoadOptions, located: Located, batcher: Batcher, max_new_tokens: int) -> None:
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

        self.options, self.located, self.batcher = options, located, batcher
        self.processor = AutoProcessor.from_pretrained(located.path)
        self.model = load_model(AutoModelForSpeechSeq2Seq, located, options)
        self.sample_rate = int(self.processor.feature_extractor.sampling_rate)
        cap = _length_cap(self.model, max_new_tokens, located.path)
        self.model.generation_config.update(do_sample=False, num_beams=1, **cap)

    def transcribe(self, waveforms: Sequence[t.Waveform]) -> list[str]:
        for wave in waveforms:
            if wave.sample_rate != self.sample_rate:
                raise DataError(f"the ASR model needs {self.sample_rate} Hz audio, got {wave.sample_rate} Hz")
        return run_sorted(list(waveforms), lambda w: len(w.samples), self.batcher, self._batch)

    @torch.inference_mode()
    def _batch(self, waveforms: Sequence[t.Waveform]) -> list[str]:
        inputs = self.processor(
            [w.samples for w in waveforms],
            sampling_rate=self.sample_rate,
            return_tensors="pt",
            return_attention_mask=True,
        )
        features = inputs["input_features"].to(self.options.device, next(self.model.parameters()).dtype)
        # The mask tells generate which rows are real (Whisper's pad id is its end-of-text id, so it cannot infer it).
        with _whisper_deprecation_dropped():
            out = self.model.generate(
                input_features=features,
                attention_mask=inputs["attention_mask"].to(self.options.device),
                generation_config=self.model.generation_config,
            )
        return [text.strip() for text in self.processor.batch_decode(out, skip_special_tokens=True)]


WHISPER_START_TOKENS = 4
"""The most start tokens Whisper writes before a transcript: start, language, task, no-timestamps."""


def _length_cap(model: Any, max_new_tokens: int, path: str) -> dict[str, int]:
    """The generation setting that caps a transcript at ``max_new_tokens`` tokens without a length warning.

    Whisper's ``generate`` prepares its config once itself, which fills in the library default
    ``max_length`` (20), then hands it to the generic ``generate``; that one then sees ``max_length``
    set beside ``max_new_tokens`` and warns on every call. Whisper counts its own ``max_length`` past
    the start tokens (``_set_max_new_tokens_and_length``), so the same cap set there stops at the same
    token; it would also cut a cap beyond its decoder positions silently, so that is refused here.
    Other seq2seq models count ``max_length`` from the start, so they keep ``max_new_tokens``.
    """
    from transformers.models.whisper.generation_whisper import WhisperGenerationMixin

    config = model.config  # read before the isinstance check narrows ``model`` to the untyped mixin
    if not isinstance(model, WhisperGenerationMixin):
        return {"max_new_tokens": max_new_tokens}
    positions: int = config.max_target_positions
    if max_new_tokens > positions - WHISPER_START_TOKENS:
        raise ConfigError(
            f"cascade model_args asr_max_new_tokens={max_new_tokens}: the Whisper checkpoint {path} writes at most "
            f"{positions - WHISPER_START_TOKENS} transcript tokens ({positions} positions less its start tokens)"
        )
    return {"max_length": max_new_tokens}


@contextmanager
def _whisper_deprecation_dropped() -> Iterator[None]:
    """Drops transformers' deprecation notice about a config passed with generation arguments, for one call.

    Whisper's own ``generate`` passes its config together with ``suppress_tokens`` and
    ``begin_suppress_tokens`` to the generic ``generate`` (transformers PR #48108), which then logs
    that notice; the caller passes no generation argument, so nothing on this side can avoid it.
    """
    logger = logging.getLogger("transformers.generation.utils")

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(WHISPER_OWN_DEPRECATION)

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


class Cascade(Model):
    name = "cascade"
    capabilities = frozenset({Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES})

    def __init__(self, asr: Transcriber, lm: TextLM, args: Mapping[str, str]) -> None:
        self.asr, self.lm, self.args = asr, lm, dict(args)
        self.sample_rate = asr.sample_rate
        self.transcripts = BoundedMemo(TRANSCRIPTS_MEMO_BYTES)
        """Transcript per clip (by its digest): the evaluation and the hidden-state pass share it."""

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> Cascade:
        values = validate_args(CascadeArgs, args, cls.name)
        asr_options = load_options(
            HFArgs(pretrained=values.asr, dtype=values.dtype, device=values.device), runtime, cls.name
        )
        asr = Transcriber(asr_options, locate(values.asr), Batcher(runtime.batch_size), values.asr_max_new_tokens)
        lm_args = HFArgs(pretrained=values.lm, dtype=values.dtype, device=values.device)
        lm = TextLM(load_family(TextLM.family, lm_args, runtime), runtime)
        recorded = {
            "asr": values.asr,
            "lm": values.lm,
            "dtype": asr_options.dtype,
            "device": asr_options.device,
            "asr_max_new_tokens": str(values.asr_max_new_tokens),
        }
        return cls(asr, lm, recorded)

    def info(self) -> ModelInfo:
        lm = self.lm.info()
        return ModelInfo(
            name=self.name,
            args=self.args,
            source=f"asr: {self.asr.located.source}; lm: {lm.source}",
            revision=f"asr: {self.asr.located.revision}; lm: {lm.revision}",
            parameters=count_parameters(self.asr.model) + (lm.parameters or 0),
            device=lm.device,
            details={
                "asr_class": type(self.asr.model).__name__,
                "asr_decoding": "greedy, one 30 s window",
                "hidden_states": lm.details.get("hidden_states"),  # the LM's convention (its own hooks)
                "speech_hidden_states": "the LM's states over the transcript tokens",
                "lm": dict(lm.details),
            },
        )

    def close(self) -> None:
        self.asr.model = None
        self.lm.close()

    def _as_text(self, prompts: Sequence[t.Prompt]) -> tuple[list[t.Prompt], list[str | None]]:
        """Speech prompts become written prompts holding their transcripts (None for text prompts)."""
        spoken = [i for i, p in enumerate(prompts) if p.modality is t.Modality.SPEECH]
        keys = {i: audio_key(prompts[i].spoken()) for i in spoken}
        known = {i: self.transcripts.get(keys[i]) for i in spoken}
        todo = [i for i in spoken if known[i] is None]
        for i, transcript in zip(todo, self.asr.transcribe([prompts[i].spoken() for i in todo])):
            known[i] = transcript
            self.transcripts.put(keys[i], transcript, len(transcript.encode("utf-8")) + 1)
        transcripts: list[str | None] = [known.get(i) for i in range(len(prompts))]
        written = [
            p if heard is None else t.Prompt(t.Modality.TEXT, p.prefix, p.suffix, p.system, text=heard)
            for p, heard in zip(prompts, transcripts)
        ]
        return written, transcripts

    def generate(self, requests: Sequence[t.GenerateRequest]) -> list[t.Generation]:
        written, transcripts = self._as_text([r.prompt for r in requests])
        outputs = self.lm.generate([t.GenerateRequest(p, r.max_new_tokens, r.stop) for p, r in zip(written, requests)])
        return [t.Generation(o.text, _extras(heard)) for o, heard in zip(outputs, transcripts)]

    def loglikelihood(self, requests: Sequence[t.LoglikelihoodRequest]) -> list[t.Loglikelihood]:
        written, transcripts = self._as_text([r.prompt for r in requests])
        outputs = self.lm.loglikelihood([t.LoglikelihoodRequest(p, r.continuations) for p, r in zip(written, requests)])
        return [t.Loglikelihood(o.logprobs, o.token_counts, _extras(heard)) for o, heard in zip(outputs, transcripts)]

    def hidden_states(self, requests: Sequence[t.HiddenStatesRequest]) -> list[t.HiddenStates]:
        written, _ = self._as_text([r.prompt for r in requests])
        return self.lm.hidden_states([t.HiddenStatesRequest(p) for p in written])


def _extras(transcript: str | None) -> dict[str, Any]:
    return {} if transcript is None else {"transcript": transcript}
