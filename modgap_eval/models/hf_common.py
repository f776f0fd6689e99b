"""Shared transformers machinery: options, loading, padding, layer taps, batching with OOM halving.

Conventions every HF adapter follows (recorded in ``ModelInfo.details``):

- ``dtype`` and ``device`` come from the run's ``RuntimeOptions`` (``--dtype``, ``--device``); a
  ``dtype=`` / ``device=`` in ``--model_args`` overrides them for that model. That is the one rule:
  model_args win, the CLI flags are the default.
- Hidden states are read with forward hooks on the text decoder's blocks: layer 0 is the input to
  block 1 (for audio positions, the projector output merged into the embeddings), layer ``l`` the
  output of block ``l``, i.e. the residual stream before the final norm (METHOD.md §2). Float32.
- Interventions rewrite chosen content positions at chosen layers in the first forward call only
  (the prefill); the KV cache carries the edit into decoding.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

import numpy as np
import torch

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.models.base import RuntimeOptions, take_args
from modgap_eval.types import Intervention, Prompt, Waveform

T = TypeVar("T")
R = TypeVar("R")

DTYPES = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
from modgap_eval.batching import AUTO_BATCH_START  # noqa: E402 (one meaning of --batch_size auto: batching.py)
HIDDEN_STATE_CONVENTION = "residual stream before the final norm; layer 0 = input to block 1 (forward hooks)"


@dataclass(frozen=True)
class LoadOptions:
    """Where the weights are and how to place them."""

    pretrained: str
    dtype: str
    device: str

    @property
    def torch_dtype(self) -> Any:
        # 'auto' takes the checkpoint's dtype on accelerators; on CPU bf16/fp16 matmuls are several times
        # slower than fp32 and less exact, so 'auto' means float32 there.
        if self.dtype == "auto" and self.device.startswith("cpu"):
            return torch.float32
        return DTYPES[self.dtype]


def parse_options(
    args: Mapping[str, str], runtime: RuntimeOptions, extra: Mapping[str, Any], model: str, default_pretrained: str = ""
) -> tuple[LoadOptions, dict[str, Any]]:
    """Split ``--model_args`` into the common ``LoadOptions`` and the adapter's own ``extra`` keys."""
    allowed = {"pretrained": default_pretrained, "dtype": runtime.dtype, "device": runtime.device, **extra}
    values = take_args(args, allowed, model)
    if not values["pretrained"]:
        raise ConfigError(f"--model_args for {model!r}: pretrained=<hub id or local folder> is required")
    if values["dtype"] not in DTYPES:
        raise ConfigError(f"--model_args for {model!r}: dtype={values['dtype']!r}; choose one of {sorted(DTYPES)}")
    options = LoadOptions(values.pop("pretrained"), values.pop("dtype"), values.pop("device"))
    return options, values


@dataclass(frozen=True)
class Located:
    """A resolved ``pretrained`` value: what to pass to ``from_pretrained`` and what to record."""

    path: str
    source: str
    revision: str


def locate(pretrained: str) -> Located:
    """Resolve ``pretrained`` (local folder, hub id, or an offline-packaged name) to a local folder.

    Delegates to ``models.offline.resolve_pretrained``; the recorded source and revision come from
    the folder's ``source.json`` or hub snapshot name, else a hash of its config and weight sizes.
    """
    from modgap_eval.models.offline import resolve_pretrained, source_record

    folder = resolve_pretrained(pretrained)
    record = source_record(folder)
    return Located(str(folder), source=record.source, revision=record.revision or folder_revision(folder))


def folder_revision(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode())
            if path.suffix == ".json":
                digest.update(path.read_bytes())
            else:
                digest.update(str(path.stat().st_size).encode())
    return "local-" + digest.hexdigest()[:16]


def load_model(model_cls: Any, located: Located, options: LoadOptions, **kwargs: Any) -> Any:
    """``model_cls.from_pretrained`` with dtype and device applied, in eval mode."""
    model = model_cls.from_pretrained(located.path, dtype=options.torch_dtype, **kwargs)
    return model.to(options.device).eval()


# --- rows and padding ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One token sequence to run, with its content span and (for log-likelihoods) scored tail."""

    ids: tuple[int, ...]
    content: range
    """Positions of the content span within ``ids``."""
    target: int = 0
    """How many trailing ids are a continuation to score."""
    labels: tuple[str, ...] = ()


@dataclass
class Padded:
    """A batch of rows padded to one length; ``offsets[i]`` is row i's shift (left padding)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    offsets: list[int]
    rows: list[Row] = field(default_factory=list)

    def content(self, i: int) -> range:
        span = self.rows[i].content
        return range(span.start + self.offsets[i], span.stop + self.offsets[i])


def pad_rows(rows: Sequence[Row], pad_id: int, side: str, device: str) -> Padded:
    """Pad ``rows`` on ``side``; position ids count real tokens only, so padding changes nothing."""
    width = max(len(r.ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    offsets = []
    for i, row in enumerate(rows):
        start = width - len(row.ids) if side == "left" else 0
        ids[i, start : start + len(row.ids)] = torch.tensor(row.ids, dtype=torch.long)
        mask[i, start : start + len(row.ids)] = 1
        offsets.append(start)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return Padded(ids.to(device), mask.to(device), positions.to(device), offsets, list(rows))


def content_token_span(offsets: Sequence[tuple[int, int]], start: int, end: int) -> range:
    """Token positions whose character span overlaps ``[start, end)`` (the content's characters)."""
    hits = [i for i, (a, b) in enumerate(offsets) if a < end and b > start and b > a]
    if not hits:
        raise DataError(f"no token covers the content characters [{start}, {end})")
    return range(hits[0], hits[-1] + 1)


def single_span(ids: Sequence[int], token_id: int, what: str) -> range:
    """The one contiguous run of ``token_id`` in ``ids`` (an audio placeholder expanded by the processor)."""
    hits = [i for i, t in enumerate(ids) if t == token_id]
    if not hits or hits[-1] - hits[0] + 1 != len(hits):
        raise DataError(f"{what}: expected one contiguous run of audio token {token_id}, found {len(hits)} positions")
    return range(hits[0], hits[-1] + 1)


# --- layer taps: capture and rewrite ---------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Rewrite ``positions`` (absolute, in padded coordinates) of batch row ``row`` at one layer."""

    row: int
    positions: torch.Tensor
    partners: torch.Tensor
    mode: Any


def edits_for(intervention: Intervention, row: int, content: range) -> dict[int, list[Edit]]:
    """Per-layer edits for one row, positions made absolute from the content span."""
    if intervention.partners.shape[:2] != (len(intervention.layers), len(intervention.positions)):
        raise DataError(
            f"intervention partners have shape {tuple(intervention.partners.shape)}; expected "
            f"[{len(intervention.layers)}, {len(intervention.positions)}, d]"
        )
    bad = [p for p in intervention.positions if not 0 <= p < len(content)]
    if bad:
        raise DataError(f"intervention positions {bad} fall outside the content span of length {len(content)}")
    absolute = torch.tensor([content.start + p for p in intervention.positions], dtype=torch.long)
    return {
        layer: [Edit(row, absolute, intervention.partners[k], intervention.mode)]
        for k, layer in enumerate(intervention.layers)
    }


class LayerTaps:
    """Forward hooks on the decoder blocks that capture content-span states and/or apply edits.

    Point 0 is a pre-hook on block 1's input; point ``l`` a hook on block ``l``'s output. Edits act
    on the first forward call only (the prefill).
    """

    def __init__(self, blocks: Sequence[torch.nn.Module]) -> None:
        self.blocks = list(blocks)
        self.capture: list[range] | None = None
        self.captured: list[list[torch.Tensor]] = []
        self.keep_inputs: list[range] | None = None
        self.inputs: list[torch.Tensor] = []
        """Block 1's unedited input over ``keep_inputs`` per row, in the model's dtype (for reuse)."""
        self.edits: dict[int, list[Edit]] = {}
        self.calls = 0

    @property
    def num_layers(self) -> int:
        return len(self.blocks)

    @contextmanager
    def active(self, capture: list[range] | None = None, edits: Mapping[int, list[Edit]] | None = None,
               keep_inputs: list[range] | None = None) -> Iterator["LayerTaps"]:
        bad = [layer for layer in (edits or {}) if not 0 <= layer <= self.num_layers]
        if bad:
            raise DataError(f"intervention layers {bad} are outside 0..{self.num_layers}")
        self.capture, self.edits, self.calls, self.keep_inputs = capture, dict(edits or {}), 0, keep_inputs
        self.inputs = []
        self.captured = [[] for _ in range(self.num_layers + 1)]
        handles = [self.blocks[0].register_forward_pre_hook(self._pre_hook, with_kwargs=True)]
        for layer, block in enumerate(self.blocks, start=1):
            handles.append(block.register_forward_hook(self._make_post_hook(layer)))
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()
            self.edits = {}

    def stacked(self, row: int) -> torch.Tensor:
        """Captured states of batch row ``row`` as float32 ``[L + 1, T, d]``."""
        return torch.stack([self.captured[layer][row] for layer in range(self.num_layers + 1)])

    def _pre_hook(self, module: torch.nn.Module, args: tuple, kwargs: dict) -> tuple | None:
        self.calls += 1
        if self.keep_inputs is not None and self.calls == 1:
            hidden = args[0] if args else kwargs["hidden_states"]
            self.inputs = [hidden[i, span.start : span.stop].detach().cpu().clone() for i, span in enumerate(self.keep_inputs)]
        if args:
            new = self._visit(0, args[0])
            return (new, *args[1:]), kwargs
        new = self._visit(0, kwargs["hidden_states"])
        return args, {**kwargs, "hidden_states": new}

    def _make_post_hook(self, layer: int) -> Callable:
        def hook(module: torch.nn.Module, args: tuple, output: Any) -> Any:
            if isinstance(output, tuple):
                return (self._visit(layer, output[0]), *output[1:])
            return self._visit(layer, output)

        return hook

    def _visit(self, layer: int, hidden: torch.Tensor) -> torch.Tensor:
        if self.edits.get(layer) and self.calls == 1:
            hidden = self._apply(layer, hidden)
        if self.capture is not None and self.calls == 1:
            self.captured[layer] = [hidden[i, span.start : span.stop].float().cpu() for i, span in enumerate(self.capture)]
        return hidden

    def _apply(self, layer: int, hidden: torch.Tensor) -> torch.Tensor:
        from modgap_eval.analysis.interventions import rewrite

        hidden = hidden.clone()
        for edit in self.edits[layer]:
            positions = edit.positions.to(hidden.device)
            if int(positions.max()) >= hidden.shape[1]:
                raise DataError(f"intervention position {int(positions.max())} beyond sequence length {hidden.shape[1]}")
            speech = hidden[edit.row, positions].float()
            new = rewrite(speech, edit.partners.to(hidden.device).float(), edit.mode)
            hidden[edit.row, positions] = new.to(hidden.dtype)
        return hidden


# --- memos of earlier passes ------------------------------------------------------------------


class BoundedMemo:
    """Values keyed by string; the least recently used are dropped beyond a byte budget (0 disables it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.size = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def get(self, key: str) -> Any | None:
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key][0]
        return None

    def put(self, key: str, value: Any, nbytes: int) -> None:
        if not self.enabled:
            return
        if key in self.entries:
            self.entries.move_to_end(key)
            return
        self.entries[key] = (value, nbytes)
        self.size += nbytes
        while self.size > self.max_bytes and self.entries:
            _, (_, old) = self.entries.popitem(last=False)
            self.size -= old


def audio_key(audio: Waveform) -> str:
    """A clip's identity: a digest of its samples, its rate and dtype."""
    digest = hashlib.sha1(np.ascontiguousarray(audio.samples).tobytes())
    return f"{digest.hexdigest()}:{audio.sample_rate}:{audio.samples.dtype}"


def prompt_key(prompt: Prompt) -> str:
    """A prompt's identity: every field that reaches the model (the clip by its digest)."""
    content = prompt.text if prompt.audio is None else audio_key(prompt.audio)
    return repr((prompt.modality.value, prompt.system, prompt.prefix, prompt.suffix, content))


def tensor_bytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


# --- batching --------------------------------------------------------------------------------


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc))


class Batcher:
    """Runs a list of items in chunks; a fixed size, or 'auto': start large and halve on OOM."""

    def __init__(self, batch_size: int | None) -> None:
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"--batch_size must be >= 1 or 'auto', got {batch_size}")
        self.fixed = batch_size
        self.size = batch_size or AUTO_BATCH_START

    def run(self, items: Sequence[T], fn: Callable[[Sequence[T]], list[R]]) -> list[R]:
        out: list[R] = []
        start = 0
        while start < len(items):
            chunk = items[start : start + self.size]
            try:
                out.extend(fn(chunk))
            except Exception as exc:
                if self.fixed is not None or not is_out_of_memory(exc) or self.size == 1:
                    raise
                self.size //= 2
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            start += len(chunk)
        return out


def run_sorted(items: Sequence[T], key: Callable[[T], Any], batcher: Batcher, fn: Callable[[Sequence[T]], list[R]]) -> list[R]:
    """Run ``fn`` over ``items`` grouped by ``key`` then sorted by it (less padding); original order back."""
    order = sorted(range(len(items)), key=lambda i: key(items[i]), reverse=True)
    results = batcher.run([items[i] for i in order], fn)
    out: list[Any] = [None] * len(items)
    for rank, index in enumerate(order):
        out[index] = results[rank]
    return out


def describe_dtype(model: Any) -> str:
    return str(next(model.parameters()).dtype).replace("torch.", "")


def count_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))
