"""The model adapter protocol: batch in, list out, one method per request kind.

An adapter declares its ``capabilities``; the runner checks them against the tasks and options
before any data loads. Every method receives requests of one kind and returns outputs in the
same order. Audio arrives already decoded and resampled to ``sample_rate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

from pydantic import ConfigDict

from modgap_eval import types as t
from modgap_eval.errors import CapabilityError, ConfigError
from modgap_eval.results import ModelRecord


class Capability(str, Enum):
    GENERATE = "generate"
    LOGLIKELIHOOD = "loglikelihood"
    HIDDEN_STATES = "hidden_states"
    INTERVENTION = "intervention"
    """Honors ``request.intervention`` on speech prompts in generate and loglikelihood."""


@dataclass(frozen=True)
class RuntimeOptions:
    """Run-wide settings every adapter receives (from the CLI, not from model_args)."""

    device: str = "cpu"
    dtype: str = "auto"
    batch_size: int | None = None
    """None means 'auto': the adapter picks the largest batch that fits."""
    seed: int = 1234


class ModelInfo(ModelRecord):
    """The results' model record (``ModelRecord``) of the model actually used, and where it ran."""

    model_config = ConfigDict(frozen=True)
    device: str = ""
    """The device(s) the model actually ran on (``cpu``, ``cuda:0``, ``cuda:0,cuda:1`` when spread);
    empty for an adapter that does not say."""

    def __init__(self, *fields: Any, **named: Any) -> None:
        # Adapters may give the record's leading fields positionally, in ModelRecord's order.
        super().__init__(**dict(zip(type(self).model_fields, fields)), **named)


class Model:
    """Base class for adapters. Subclasses set ``capabilities`` and implement the matching methods."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    sample_rate: int = 16_000
    """The audio rate the adapter's processor expects; the runner resamples to it."""
    accepts_speech: ClassVar[bool] = True
    """False for text-only models: the runner refuses them before any data loads."""

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> Model:
        """Build from ``--model_args k=v,...`` strings, validated by the model's ``args.ModelArgs`` schema
        (unknown keys, wrong types and ranges raise ConfigError), after ``args.check_device``."""
        raise NotImplementedError

    def info(self) -> ModelInfo:
        raise NotImplementedError

    def cache_key(self) -> str:
        """Identity of the model's behaviour for the response cache (name, args, revision)."""
        info = self.info()
        return "|".join([info.name, repr(sorted(info.args.items())), info.source, info.revision])

    def generate(self, requests: Sequence[t.GenerateRequest]) -> list[t.Generation]:
        raise CapabilityError(f"{type(self).__name__} cannot generate")

    def loglikelihood(self, requests: Sequence[t.LoglikelihoodRequest]) -> list[t.Loglikelihood]:
        raise CapabilityError(f"{type(self).__name__} cannot score log-likelihoods")

    def hidden_states(self, requests: Sequence[t.HiddenStatesRequest]) -> list[t.HiddenStates]:
        raise CapabilityError(f"{type(self).__name__} cannot return hidden states")

    def close(self) -> None:
        """Free weights and device memory (called before metrics are computed)."""


def check_capabilities(model_cls: type[Model], needed: Mapping[Capability, str]) -> None:
    """Raise CapabilityError listing every capability in ``needed`` (capability -> why) the class lacks."""
    missing = [f"{cap.value} (needed by {why})" for cap, why in needed.items() if cap not in model_cls.capabilities]
    if missing:
        raise CapabilityError(f"model {model_cls.__name__} lacks: {'; '.join(missing)}")


def parse_model_args(text: str) -> dict[str, str]:
    """Parse lm-eval style ``k=v,k2=v2`` (values may not contain commas)."""
    args: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--model_args: {part!r} is not key=value")
        if key.strip() in args:
            raise ConfigError(f"--model_args: {key.strip()!r} is given twice")
        args[key.strip()] = value.strip()
    return args
