"""The paper's LSLM architecture (Fig. 1): Whisper encoder → ×k frame stacking + 2-layer MLP → causal LM.

A checkpoint is one folder (``lslm_arch``); its encoder and LM references resolve through
``models.offline.resolve_pretrained``.

How speech reaches the LM (``lm_input``):

- ``adapter``: the adapter's output vectors are the LM's input embeddings, one per stacked frame
  (the paper's design).
- ``ctc-embeddings`` *(ours, the reference model's recipe)*: the adapter output is scored against
  the LM's own input-embedding rows (a fixed vocabulary subset plus a learned blank), as a CTC head;
  each run of frames with the same non-blank best token becomes one LM input, the mean over those
  frames of the posterior-weighted mix of embedding rows. The LM receives continuous vectors computed
  from the audio, never token ids or a transcript.

Encoder window *(ours)*: ``clip`` runs the encoder on the clip padded to whole seconds (not Whisper's
30 s) and keeps the frames that cover the clip; ``30s`` pads to 30 s as Whisper does. Each clip is
encoded on its own window, so a clip's states never depend on its batch.

Hidden states, prompts, batching and interventions are the HF engine's (``hf_engine``); this
family's part (``LSLMPart``) builds the rows. The written prompt path *is* the LM alone (the generic
template part); in the spoken prompt the content span is the speech positions, whose input vectors
are written over placeholder ids (``Encoded.embeds``), and layer 0 there is the adapter's output
(the input to block 1). The architecture's pieces are in ``lslm_arch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from modgap_eval.errors import ConfigError
from modgap_eval.models.args import HFArgs
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.hf_common import LoadOptions, Row, load_model, load_options, pad_id
from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import Encoded, HFFamily, Loaded
from modgap_eval.models.hf_prompts import TemplatePart
from modgap_eval.models.lslm_arch import (  # noqa: F401 (re-exported: the reference trainer's names)
    CONFIG_FILE,
    SAMPLE_RATE,
    WEIGHTS_FILE,
    PaperLSLMConfig,
    SpeechAdapter,
    WhisperFrontEnd,
    checkpoint_revision,
    load_checkpoint,
    resolve_reference,
    save_checkpoint,
)
from modgap_eval.models.memo import BoundedMemo, audio_key, tensor_bytes
from modgap_eval.models.offline import Located, locate
from modgap_eval.types import Prompt

VECTORS_MEMO_BYTES = 256 << 20


@dataclass(frozen=True)
class Checkpoint:
    folder: Path
    config: PaperLSLMConfig
    weights: Mapping[str, torch.Tensor]


def open_checkpoint(pretrained: str) -> Checkpoint:
    folder = Path(pretrained).expanduser()
    config, weights = load_checkpoint(folder)
    return Checkpoint(folder, config, weights)


class LSLMPart:
    """Written prompts through the LM's template; spoken ones as the adapter's vectors in the content slot."""

    def __init__(self, chat: TemplatePart, checkpoint: Checkpoint, encoder: Located, device: str) -> None:
        self.chat, self.checkpoint, self.tokenizer, self.model = chat, checkpoint, chat.tokenizer, chat.model
        config = checkpoint.config
        self.front_end = WhisperFrontEnd(encoder.path, config.encoder_window, config.stack, device)
        if (self.front_end.dim, self.model.config.hidden_size) != (config.encoder_dim, config.lm_dim):
            raise ConfigError(
                f"{checkpoint.folder / CONFIG_FILE}: encoder/LM widths {self.front_end.dim}/"
                f"{self.model.config.hidden_size} differ from the config's {config.encoder_dim}/{config.lm_dim}"
            )
        self.adapter = SpeechAdapter(config)
        self.adapter.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in checkpoint.weights.items()}
        )
        self.adapter.to(device).eval()
        # Scoring and then hidden states read each clip twice: its LM input vectors are computed once.
        self.vectors_memo = BoundedMemo(VECTORS_MEMO_BYTES)
        self.has_chat_template = chat.has_chat_template
        self.text_row = chat.text_row

    @torch.inference_mode()
    def speech_vectors(self, waveform: np.ndarray) -> torch.Tensor:
        """The LM input vectors ``[T_s, d_lm]`` one clip becomes (the speech content span)."""
        embeddings = self.model.get_input_embeddings().weight
        outputs = self.adapter(self.front_end.encode(waveform))
        return self.adapter.lm_inputs(outputs, embeddings.float()).to(embeddings.dtype)

    def speech_batch(self, prompts: Sequence[Prompt], continuations: Sequence[tuple[int, ...]]) -> Encoded:
        rows, speech = [], []
        placeholder = pad_id(self.model, self.tokenizer)  # overwritten by the vectors; the engine's pad id, as before
        for prompt, continuation in zip(prompts, continuations):
            before, after = (
                tuple(self.tokenizer(part, add_special_tokens=False)["input_ids"])
                for part in self.chat.split_at_slot(prompt)
            )
            audio = prompt.spoken()
            clip = audio_key(audio)
            vectors = self.vectors_memo.get(clip)
            if vectors is None:
                vectors = self.speech_vectors(np.asarray(audio.samples, dtype=np.float32))
                self.vectors_memo.put(clip, vectors, tensor_bytes(vectors))
            ids = before + (placeholder,) * len(vectors) + after + continuation
            rows.append(Row(ids, range(len(before), len(before) + len(vectors)), target=len(continuation)))
            speech.append(vectors)
        return Encoded(rows, {}, embeds=speech)

    def cached_rows(self, prompts: Sequence[Prompt], cached: Sequence[torch.Tensor]) -> list[Row] | None:
        return None  # the vectors memo already spares the encoder

    def details(self) -> dict[str, Any]:
        return {
            **self.chat.details(),
            "speech_content_span": "one position per LM input vector computed from the audio",
        }


def lslm_loaded(family: HFFamily, options: LoadOptions, checkpoint: Checkpoint) -> Loaded:
    """The LM, its tokenizer and the LSLM part for ``checkpoint``; recorded by the checkpoint's folder and hash."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config, folder = checkpoint.config, checkpoint.folder
    lm = locate(resolve_reference(config.lm, folder))
    model = load_model(AutoModelForCausalLM, lm, options)
    tokenizer = AutoTokenizer.from_pretrained(lm.path)
    encoder = locate(resolve_reference(config.encoder, folder))
    part = LSLMPart(TemplatePart(family, model, tokenizer, None), checkpoint, encoder, options.device)
    details = {
        "architecture": f"whisper encoder -> x{config.stack} stacking + MLP({config.adapter_hidden}) -> causal LM",
        "lm_input": config.lm_input,
        "encoder_window": config.encoder_window,
        "encoder": {"source": encoder.source, "revision": encoder.revision},
        "lm": {"source": lm.source, "revision": lm.revision},
        "checkpoint_notes": config.notes,
    }
    return Loaded(
        model, tokenizer, part, options, str(folder), checkpoint_revision(folder), SAMPLE_RATE, details=details
    )


def load_paper_lslm(family: HFFamily, args: HFArgs, runtime: RuntimeOptions) -> Loaded:
    options = load_options(args, runtime, family.name)
    return lslm_loaded(family, options, open_checkpoint(options.pretrained))


class PaperLSLM(HFModel):
    """``--model paper-lslm --model_args pretrained=<checkpoint folder>``: the paper's architecture."""

    family = HFFamily(name="paper-lslm", chat_template="tokenizer-or-plain", load=load_paper_lslm)
    part: LSLMPart
    """Always an ``LSLMPart``: ``load_paper_lslm`` builds no other (typed here for the reference recipe,
    which reads its adapter, front end and checkpoint)."""
