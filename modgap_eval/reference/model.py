"""``--model reference``: the shipped reference LSLM checkpoints, by name (``checkpoint=final`` or ``step-N``).

A thin layer over ``paper-lslm``: it finds the checkpoint folder among those shipped in
``modgap_eval/reference/checkpoints``; the encoder and LM come from their offline sources.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar

from modgap_eval.errors import ConfigError
from modgap_eval.models.base import ModelInfo, RuntimeOptions
from modgap_eval.models.hf_common import parse_options
from modgap_eval.models.paper_lslm import CONFIG_FILE, PaperLSLM
from modgap_eval.reference.recipe import SHIPPED_DIR


def shipped_checkpoints() -> list[str]:
    """Names of the shipped checkpoints, in training order (step-N by N, then final)."""
    names = [p.name for p in SHIPPED_DIR.iterdir() if (p / CONFIG_FILE).is_file()] if SHIPPED_DIR.is_dir() else []
    return sorted(names, key=lambda n: (n == "final", int(n.split("-")[1]) if n.startswith("step-") else 0))


class ReferenceLSLM(PaperLSLM):
    name: ClassVar[str] = "reference"
    checkpoint_name: str
    """The shipped checkpoint's name (``final``, ``step-N``), set by ``from_args``."""

    @classmethod
    def from_args(cls, args: Mapping[str, str], runtime: RuntimeOptions) -> ReferenceLSLM:
        args = dict(args)
        checkpoint = args.pop("checkpoint", "final")
        available = shipped_checkpoints()
        if checkpoint not in available:
            raise ConfigError(f"--model_args for 'reference': checkpoint={checkpoint!r} is not shipped; "
                              f"choose one of {available}")
        folder = SHIPPED_DIR / checkpoint
        options, _ = parse_options(args, runtime, {}, cls.name, str(folder))
        if options.pretrained != str(folder):
            raise ConfigError("--model_args for 'reference': use checkpoint=<name>, not pretrained= "
                              "(for another folder use --model paper-lslm)")
        model = cls(options, cls.open_checkpoint(str(folder)), runtime)
        model.checkpoint_name = checkpoint
        return model

    def info(self) -> ModelInfo:
        base = super().info()
        # Recorded by name and package path, not this machine's absolute folder: results stay comparable.
        args = {"checkpoint": self.checkpoint_name, "dtype": base.args["dtype"], "device": base.args["device"]}
        source = f"modgap_eval/reference/checkpoints/{self.checkpoint_name} (shipped)"
        return dataclasses.replace(base, args=args, source=source)
