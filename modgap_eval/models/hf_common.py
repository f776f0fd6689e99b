"""Shared transformers machinery: options, loading, rows and padding, batching with OOM halving.

Conventions every HF adapter follows (recorded in ``ModelInfo.details``):

- ``dtype`` and ``device`` come from the run's ``RuntimeOptions`` (``--dtype``, ``--device``); a
  ``dtype=`` / ``device=`` in ``--model_args`` overrides them for that model. That is the one rule:
  model_args win, the CLI flags are the default.
- ``device_map=`` (accelerate's big-model placement) spreads the weights over several devices
  instead of moving them to ``device``; inputs are put on ``device`` and accelerate's hooks move
  activations between the parts.
- Hidden states and interventions: see ``hf_taps``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch

from modgap_eval.batching import AUTO_BATCH_START  # one meaning of --batch_size auto
from modgap_eval.errors import ConfigError, DataError
from modgap_eval.models.args import HFArgs, check_device
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.offline import Located

T = TypeVar("T")
R = TypeVar("R")

DTYPES = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

PLACEMENTS = ("auto", "balanced", "balanced_low_0", "sequential")
"""accelerate's named ``device_map`` strategies."""


@dataclass(frozen=True)
class LoadOptions:
    """Where the weights are and how to place them."""

    pretrained: str
    dtype: str
    device: str
    device_map: str | tuple[tuple[str, str], ...] | None = None
    """None: all on ``device``; else a named strategy or (module, device) pairs."""

    @property
    def torch_dtype(self) -> Any:
        # 'auto' takes the checkpoint's dtype on accelerators; on CPU bf16/fp16 matmuls are several times
        # slower than fp32 and less exact, so 'auto' means float32 there.
        if self.dtype == "auto" and self.device.startswith("cpu"):
            return torch.float32
        return DTYPES[self.dtype]

    @property
    def placement(self) -> str | dict[str, str] | None:
        """``device_map`` as accelerate takes it (and results record it)."""
        return self.device_map if self.device_map is None or isinstance(self.device_map, str) else dict(self.device_map)


def load_options(args: HFArgs, runtime: RuntimeOptions, model: str, default_pretrained: str = "") -> LoadOptions:
    """The validated ``--model_args`` over the run's defaults; devices checked against this torch."""
    pretrained = args.pretrained or default_pretrained
    if not pretrained:
        raise ConfigError(f"--model_args for {model!r}: pretrained=<hub id or local folder> is required")
    dtype = args.dtype or runtime.dtype
    if dtype not in DTYPES:
        raise ConfigError(f"--dtype {dtype!r}: choose one of {sorted(DTYPES)}")
    device = check_device(args.device, "--model_args device") if args.device else check_device(runtime.device)
    return LoadOptions(pretrained, dtype, device, read_device_map(args.device_map, model))


def read_device_map(value: str | None, model: str) -> str | tuple[tuple[str, str], ...] | None:
    """A named strategy as is, or a ``.json`` file's {module: device} as checked pairs."""
    if value is None or value in PLACEMENTS:
        return value
    where = f"--model_args for {model!r}: device_map={value!r}"
    path = Path(value).expanduser()
    if path.suffix != ".json" or not path.is_file():
        raise ConfigError(f"{where} is neither one of {', '.join(PLACEMENTS)} nor a .json file")
    try:
        mapping = json.loads(path.read_text())
    except ValueError as exc:
        raise ConfigError(f"{where}: not JSON ({exc})") from None
    if not isinstance(mapping, dict) or not mapping:
        raise ConfigError(f"{where}: expected a non-empty object {{module: device}}")
    devices = {k: f"cuda:{v}" if isinstance(v, int) else str(v) for k, v in mapping.items()}
    for module, device in devices.items():
        if device != "disk":  # accelerate's offload: weights read from a scratch folder when their module runs
            check_device(device, f"{path} ({module})")
    return tuple(devices.items())


def load_model(model_cls: Any, located: Located, options: LoadOptions, **kwargs: Any) -> Any:
    """``model_cls.from_pretrained`` with dtype and placement (one device, or a device map) applied, in eval mode."""
    model = place(model_cls, located, options, **kwargs).eval()
    if getattr(model, "generation_config", None) is not None:
        # Every generate call sets max_new_tokens: a checkpoint's max_length would only clash with it
        # (transformers then warns on each call that both are set).
        model.generation_config.max_length = None
    return model


def place(model_cls: Any, located: Located, options: LoadOptions, **kwargs: Any) -> Any:
    if options.device_map is None:
        return model_cls.from_pretrained(located.path, dtype=options.torch_dtype, **kwargs).to(options.device)
    placement = options.placement
    if isinstance(placement, dict) and "disk" in placement.values():
        import tempfile

        kwargs["offload_folder"] = tempfile.mkdtemp(prefix="modgap-offload-")
    return model_cls.from_pretrained(located.path, dtype=options.torch_dtype, device_map=placement, **kwargs)


def placed_on(model: Any, options: LoadOptions) -> str:
    """The device(s) the weights are on: ``cuda:0``, or ``cpu,cuda:0`` for a model spread by a device map."""
    spread = getattr(model, "hf_device_map", None)
    if options.device_map is None or not spread:
        return options.device
    return ",".join(sorted({f"cuda:{d}" if isinstance(d, int) else str(d) for d in spread.values()}))


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
    states: range | None = None
    """Positions whose hidden states are captured and interventions edit, a part of ``content`` (a
    fixed-count audio run's encoded start, ``hf_family.FilledSpan``); None: the whole content span."""


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

    def states(self, i: int) -> range:
        """Row i's captured (and edited) positions in padded coordinates."""
        row = self.rows[i]
        span = row.content if row.states is None else row.states
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


def run_sorted(
    items: Sequence[T], key: Callable[[T], Any], batcher: Batcher, fn: Callable[[Sequence[T]], list[R]]
) -> list[R]:
    """Run ``fn`` over ``items`` grouped by ``key`` then sorted by it (less padding); original order back."""
    order = sorted(range(len(items)), key=lambda i: key(items[i]), reverse=True)
    results = batcher.run([items[i] for i in order], fn)
    out: list[Any] = [None] * len(items)
    for rank, index in enumerate(order):
        out[index] = results[rank]
    return out


def eos_ids(model: Any, tokenizer: Any) -> list[int]:
    """The end-of-sequence ids: the generation config's, else the tokenizer's."""
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    return [eos] if isinstance(eos, int) else list(eos or [])


def pad_id(model: Any, tokenizer: Any) -> int:
    """The id padding (and placeholder) positions get: the tokenizer's pad token, else the first EOS."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids(model, tokenizer)[0]


def count_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))
