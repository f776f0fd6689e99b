"""The paper's LSLM architecture (Fig. 1) in pieces: checkpoint config, speech adapter, Whisper front end.

``paper_lslm`` runs them as a model (the HF engine with this family's part); ``reference/`` trains
them. A checkpoint is one folder: ``lslm_config.json`` and ``adapter.safetensors`` (the encoder and
the LM stay frozen and are referenced, not copied).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from modgap_eval.errors import ConfigError, DataError

CONFIG_FILE = "lslm_config.json"
WEIGHTS_FILE = "adapter.safetensors"
SAMPLE_RATE = 16_000
MEL_HOP = 160
"""Whisper's mel hop (samples); the encoder halves the mel rate (stride-2 conv)."""


class PaperLSLMConfig(BaseModel):
    """The settings of one checkpoint folder (``lslm_config.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["modgap-paper-lslm"] = "modgap-paper-lslm"
    encoder: str
    """Whisper checkpoint: a hub id, an offline-packaged name or a folder (relative to the checkpoint)."""
    lm: str
    """Causal LM checkpoint, same forms as ``encoder``."""
    encoder_dim: int
    lm_dim: int
    stack: int = 5
    adapter_hidden: int = 512
    lm_input: Literal["adapter", "ctc-embeddings"] = "adapter"
    ctc_vocab_size: int = 0
    """Number of LM token ids the CTC head scores (``ctc-embeddings`` only); the ids are in the weights file."""
    encoder_window: Literal["clip", "30s"] = "clip"
    notes: dict[str, Any] = {}
    """Free-form facts recorded by whoever made the checkpoint (training step, data, ...)."""


class SpeechAdapter(torch.nn.Module):
    """×``stack`` frame stacking, Linear → ReLU → Linear into the LM's width; optional CTC head."""

    vocab_ids: torch.Tensor
    """The CTC head's LM token ids (a buffer, registered for ``ctc-embeddings`` only)."""

    def __init__(self, config: PaperLSLMConfig) -> None:
        super().__init__()
        self.config = config
        self.stack = config.stack
        self.proj_in = torch.nn.Linear(config.stack * config.encoder_dim, config.adapter_hidden)
        self.proj_out = torch.nn.Linear(config.adapter_hidden, config.lm_dim)
        if config.lm_input == "ctc-embeddings":
            if config.ctc_vocab_size < 1:
                raise ConfigError("lslm config: lm_input 'ctc-embeddings' needs ctc_vocab_size >= 1")
            self.blank = torch.nn.Parameter(torch.zeros(config.lm_dim))
            self.blank_bias = torch.nn.Parameter(torch.zeros(()))
            self.register_buffer("vocab_ids", torch.zeros(config.ctc_vocab_size, dtype=torch.long))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Encoder frames ``[..., T, d_enc]`` (T a multiple of ``stack``) → ``[..., T / stack, d_lm]``."""
        *lead, length, dim = frames.shape
        if length % self.stack:
            raise DataError(f"speech adapter: {length} encoder frames is not a multiple of the stack {self.stack}")
        stacked = frames.reshape(*lead, length // self.stack, self.stack * dim)
        return self.proj_out(torch.relu(self.proj_in(stacked)))

    def ctc_logits(self, outputs: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """``[..., T, 1 + V]`` logits: index 0 the blank, index 1 + v the LM token ``vocab_ids[v]``."""
        rows = embeddings[self.vocab_ids]
        tokens = outputs @ rows.T
        blank = (outputs @ self.blank + self.blank_bias).unsqueeze(-1)
        return torch.cat([blank, tokens], dim=-1)

    def lm_inputs(self, outputs: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """One clip's LM input vectors ``[T_s, d_lm]`` from its adapter outputs ``[T, d_lm]``."""
        if self.config.lm_input == "adapter":
            return outputs
        logits = self.ctc_logits(outputs, embeddings)
        best = logits.argmax(-1)
        mixes = torch.softmax(logits[:, 1:], dim=-1) @ embeddings[self.vocab_ids]
        vectors, start = [], 0
        for t in range(1, len(best) + 1):
            if t == len(best) or best[t] != best[start]:
                if best[start] != 0:  # blanks are dropped; a run of one token is merged into one vector
                    vectors.append(mixes[start:t].mean(0))
                start = t
        if not vectors:  # all blank: keep the least-blank frame so the speech slot is never empty
            vectors.append(mixes[int(logits[:, 0].argmin())])
        return torch.stack(vectors)


class WhisperFrontEnd:
    """Log-mel features and the frozen Whisper encoder, one clip per window (see module docstring)."""

    def __init__(self, folder: str, window: str, stack: int, device: str = "cpu") -> None:
        from transformers import WhisperFeatureExtractor, WhisperModel

        self.extractor = WhisperFeatureExtractor.from_pretrained(folder)
        self.encoder = WhisperModel.from_pretrained(folder, dtype=torch.float32).get_encoder().to(device).eval()
        self.window = window
        self.stack = stack
        self.device = device
        self.dim = int(self.encoder.config.d_model)
        self.max_frames = int(self.encoder.config.max_source_positions)

    def frames_for(self, num_samples: int) -> tuple[int, int]:
        """(encoder frames in the window, encoder frames kept for the clip), both multiples of ``stack``."""
        samples_per_frame = 2 * MEL_HOP
        unit = self.stack * samples_per_frame
        kept = max(1, math.ceil(num_samples / unit)) * self.stack
        if self.window == "30s":
            window = self.max_frames
        else:
            per_second = SAMPLE_RATE // samples_per_frame
            window = min(self.max_frames, math.ceil(kept / per_second) * per_second)
        if kept > window:
            raise DataError(
                f"speech clip of {num_samples / SAMPLE_RATE:.1f} s exceeds the encoder's "
                f"{self.max_frames * samples_per_frame / SAMPLE_RATE:.0f} s"
            )
        return window, kept

    @torch.no_grad()
    def encode(self, waveform: np.ndarray) -> torch.Tensor:
        """Final-layer encoder states ``[T, d_enc]`` covering one 16 kHz clip (float32)."""
        if waveform.ndim != 1 or len(waveform) == 0:
            raise DataError("speech clip must be a non-empty mono waveform")
        window, kept = self.frames_for(len(waveform))
        # Padding to the window, not to 30 s, gives the same mel frames (the log-mel floor is set by the
        # clip's own maximum; padded silence sits at the floor) for a fraction of the STFT work.
        mel = self.extractor(
            waveform,
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            padding="max_length",
            max_length=2 * window * MEL_HOP,
        ).input_features
        mel = mel[..., : 2 * window].to(self.device)
        enc = self.encoder
        hidden = torch.nn.functional.gelu(enc.conv1(mel))
        hidden = torch.nn.functional.gelu(enc.conv2(hidden)).permute(0, 2, 1)
        hidden = hidden + enc.embed_positions.weight[: hidden.shape[1]]
        for layer in enc.layers:
            hidden = layer(hidden, None)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return enc.layer_norm(hidden)[0, :kept].float()


def resolve_reference(reference: str, folder: Path) -> str:
    """A checkpoint's encoder/LM reference: a folder relative to the checkpoint, else a name as given."""
    candidate = folder / reference
    return str(candidate) if reference and candidate.is_dir() else reference


def load_checkpoint(folder: Path) -> tuple[PaperLSLMConfig, dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise DataError(f"{folder}: not a paper-lslm checkpoint (no {CONFIG_FILE})")
    try:
        config = PaperLSLMConfig.model_validate_json(config_path.read_text())
    except ValueError as exc:
        raise ConfigError(f"{config_path}: {exc}") from exc
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise DataError(f"{folder}: missing {WEIGHTS_FILE}")
    return config, load_file(str(weights))


def save_checkpoint(
    folder: Path, config: PaperLSLMConfig, adapter: SpeechAdapter, dtype: torch.dtype = torch.float32
) -> Path:
    """Write ``lslm_config.json`` and ``adapter.safetensors`` (floats stored in ``dtype``)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().to(dtype) if v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in adapter.state_dict().items()
    }
    save_file(state, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(config.model_dump_json(indent=2) + "\n")
    return folder


def checkpoint_revision(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        digest.update((folder / name).read_bytes())
    return "sha256:" + digest.hexdigest()[:16]
