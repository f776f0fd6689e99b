"""``--model_args`` and ``--device`` checked before any weights load: one line naming the argument.

Each model declares a pydantic ``ModelArgs`` subclass (``extra="forbid"``); the ``k=v`` strings are
validated against it (pydantic's lax mode turns ``"3"`` into 3 and ``"yes"`` into True), so an
unknown key ("did you mean"), a value of the wrong type or out of range is a ``ConfigError``.
``check_device`` refuses a device the installed torch does not offer, instead of a traceback
mid-load (or a dummy run that records a device it never used).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modgap_eval.errors import ConfigError, did_you_mean

A = TypeVar("A", bound="ModelArgs")
Dtype = Literal["auto", "float32", "bfloat16", "float16"]


class ModelArgs(BaseModel):
    """Base of every model's ``--model_args`` schema: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HFArgs(ModelArgs):
    """The arguments every transformers model takes (``--dtype`` / ``--device`` are their defaults)."""

    pretrained: str = ""
    """Hub id, offline-packaged name or local folder; empty: the family's default checkpoint."""
    dtype: Dtype | None = None
    device: str | None = None
    device_map: str | None = None
    """accelerate's placement: ``auto``/``balanced``/``sequential``, or a ``.json`` file mapping module
    names to devices (``"cuda:1"``, ``1``, ``"cpu"``, ``"disk"``); the model then spans those devices
    (inputs go to ``device``)."""


class SpeechSpanArgs(HFArgs):
    """A family whose processor writes more audio placeholders than its encoder fills (``HFFamily.filled_span``)."""

    speech_span: Literal["encoded", "all"] = "encoded"
    """Which placeholders the speech content span's states cover (ours; METHOD.md is silent): ``encoded``
    the positions the audio encoder filled, ``all`` every placeholder, padding embeddings included."""


def validate_args(schema: type[A], raw: Mapping[str, str], model: str) -> A:
    """``raw`` checked against ``schema``; the first problem as a one-line ConfigError."""
    try:
        return schema.model_validate(dict(raw))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        if error["type"] == "extra_forbidden":
            known = sorted(schema.model_fields)
            raise ConfigError(
                f"--model_args for {model!r}: unknown key {key!r}{did_you_mean(key, known)} "
                f"(accepted: {', '.join(known)})"
            ) from None
        raise ConfigError(f"--model_args for {model!r}: {key}={raw.get(key)!r}: {error['msg']}") from None


def offered_devices() -> list[str]:
    """The devices the installed torch can run on here."""
    import torch

    devices = ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def check_device(device: str, flag: str = "--device") -> str:
    """``device`` if this torch offers it, else a ConfigError naming ``flag``."""
    if device == "cpu":  # always there; no torch import for the dummy's default
        return device
    try:
        import torch
    except ImportError:  # a core-only install: only the CPU is on offer
        raise ConfigError(
            f"{flag} {device!r}: no torch installed, so only 'cpu' is available "
            f"(pip install 'modgap-eval[models]' for GPUs)"
        ) from None

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise ConfigError(
            f"{flag} {device!r} is not a torch device; available here: {', '.join(offered_devices())}"
        ) from None
    if parsed.type == "cpu":
        return device
    offered = offered_devices()
    if parsed.type == "cuda" and offered[1:2] and (parsed.index is None or f"cuda:{parsed.index}" in offered):
        return device
    if parsed.type == "mps" and "mps" in offered:
        return device
    raise ConfigError(
        f"{flag} {device!r}: this torch {torch.__version__} offers no such device "
        f"(available here: {', '.join(offered)})"
    )
