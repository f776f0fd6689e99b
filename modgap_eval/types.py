"""The small vocabulary every stage shares: samples, audio, prompts, requests and model outputs.

A ``Sample`` holds both forms of one benchmark item (pairing by construction). A ``Prompt`` is the
task's single template with its one content slot filled by either the written text or the decoded
audio; the two prompts of a sample differ in nothing else. Requests are batched by kind
(``GenerateRequest``, ``LoglikelihoodRequest``, ``HiddenStatesRequest``) and each model method takes
a list of one kind and returns a list of outputs in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

CORRECT_THRESHOLD = 0.5
"""A per-sample score at or above this counts as right in the 2×2 table and McNemar (declared once)."""

if TYPE_CHECKING:  # numpy/torch only for annotations: importing this module stays cheap
    import numpy as np
    import torch


class Modality(str, Enum):
    """Which form of a sample fills the prompt's content slot."""

    TEXT = "text"
    SPEECH = "speech"


@dataclass(frozen=True)
class Audio:
    """A reference to one encoded clip: a file path or the file's bytes (wav, flac, ogg, ...).

    Decoding happens late, per batch, through ``modgap_eval.audio.decode``.
    """

    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("Audio needs exactly one of path or data")

    def describe(self) -> str:
        return str(self.path) if self.path is not None else f"<{len(self.data or b'')} bytes>"


@dataclass(frozen=True)
class Waveform:
    """Decoded mono float32 audio in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray = field(repr=False)
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Sample:
    """One paired benchmark item: the written form, the spoken form of the same words, the target."""

    id: str
    """Unique within its task; the unit of pairing, resampling and resume."""
    text: str
    """The written content (what fills the content slot in the text condition)."""
    audio: Audio
    """The spoken content (what fills the content slot in the speech condition)."""
    references: tuple[str, ...] = ()
    """Acceptable reference answers for generative scorers."""
    choices: tuple[str, ...] = ()
    """Answer options of a multiple-choice item, in order (letters A, B, ... by position)."""
    answer_index: int | None = None
    """Index into ``choices`` of the correct option."""
    metadata: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Extra per-item data a scorer may need (e.g. IFEval instruction ids and kwargs)."""


@dataclass(frozen=True)
class Prompt:
    """A chat prompt whose single content slot holds text or audio.

    The user turn is ``prefix + <content> + suffix``; ``system`` is the optional system turn.
    Adapters apply their own chat template around it; the content span (METHOD.md §2) is the
    positions produced by the content alone.
    """

    modality: Modality
    prefix: str
    suffix: str
    system: str | None = None
    text: str | None = None
    audio: Waveform | None = None

    def __post_init__(self) -> None:
        if self.modality is Modality.TEXT and (self.text is None or self.audio is not None):
            raise ValueError("a text prompt holds text and no audio")
        if self.modality is Modality.SPEECH and (self.audio is None or self.text is not None):
            raise ValueError("a speech prompt holds audio and no text")

    def written(self) -> str:
        """The text in the content slot of a written prompt (ValueError on a spoken one)."""
        if self.text is None:
            raise ValueError(f"a {self.modality.value} prompt holds no text")
        return self.text

    def spoken(self) -> Waveform:
        """The audio in the content slot of a spoken prompt (ValueError on a written one)."""
        if self.audio is None:
            raise ValueError(f"a {self.modality.value} prompt holds no audio")
        return self.audio


@dataclass(frozen=True)
class PromptPair:
    """The two prompts of one sample: same template, content slot filled by text or by audio."""

    text: Prompt
    speech: Prompt


@dataclass(frozen=True)
class GenerateRequest:
    prompt: Prompt
    max_new_tokens: int = 256
    stop: tuple[str, ...] = ()
    intervention: Intervention | None = None


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Log-probabilities of each continuation as the start of the assistant's reply to ``prompt``."""

    prompt: Prompt
    continuations: tuple[str, ...]
    intervention: Intervention | None = None


@dataclass(frozen=True)
class HiddenStatesRequest:
    prompt: Prompt


@dataclass(frozen=True)
class Generation:
    text: str
    extras: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """Adapter-specific facts worth logging (e.g. the cascade's transcript)."""


@dataclass(frozen=True)
class Loglikelihood:
    """One log-probability (natural log, summed over tokens) and token count per continuation."""

    logprobs: tuple[float, ...]
    token_counts: tuple[int, ...]
    extras: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


Output = Generation | Loglikelihood
"""What ``generate`` or ``loglikelihood`` returns for one request (what scorers read and the cache keeps)."""


@dataclass(frozen=True)
class HiddenStates:
    """Per-layer states over the content span only (METHOD.md §2).

    ``states`` is float32 ``[L + 1, T, d]``: index 0 is the input to the first decoder block, index
    ``l >= 1`` the residual stream after block ``l`` before the final norm. ``T`` is the number of
    audio positions (speech) or written-question tokens (text).
    """

    states: torch.Tensor = field(repr=False)
    tokens: tuple[str, ...] = ()
    """Readable labels of the positions (token strings for text; may be empty for speech)."""

    @property
    def num_layers(self) -> int:
        return int(self.states.shape[0]) - 1

    @property
    def length(self) -> int:
        return int(self.states.shape[1])


class InterventionMode(str, Enum):
    """METHOD.md §6: how a selected speech state is rewritten from its text partner."""

    ANGLE = "angle"
    """ĥ = ||h^s|| · h^t / ||h^t||: the text direction, the speech norm."""
    LENGTH = "length"
    """ĥ = ||h^t|| · h^s / ||h^s||: the speech direction, the text norm."""


@dataclass(frozen=True)
class Intervention:
    """Rewrite chosen speech-content positions during the speech prefill (METHOD.md §6).

    ``positions`` index the content span (0 = first audio position). ``partners`` is float32
    ``[len(layers), len(positions), d]``: the text-pass state paired with each position at each
    layer. Layer indices follow HiddenStates (0 = input to block 1, l = output of block l).
    """

    mode: InterventionMode
    layers: tuple[int, ...]
    positions: tuple[int, ...]
    partners: torch.Tensor = field(repr=False)
