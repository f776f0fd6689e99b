"""``--model reference``: the shipped reference LSLM checkpoints, by name (``checkpoint=final`` or ``step-N``).

A thin layer over ``paper-lslm``: the same family part, loaded from the checkpoint folder found
among those shipped in ``modgap_eval/reference/checkpoints``; the encoder and LM come from their
offline sources. Recorded by name and package path, not this machine's absolute folder, so results
stay comparable.
"""

from __future__ import annotations

from dataclasses import replace

from modgap_eval.errors import ConfigError
from modgap_eval.models.args import Dtype, ModelArgs, check_device
from modgap_eval.models.base import RuntimeOptions
from modgap_eval.models.hf_common import LoadOptions
from modgap_eval.models.hf_engine import HFModel
from modgap_eval.models.hf_family import HFFamily, Loaded
from modgap_eval.models.paper_lslm import CONFIG_FILE, lslm_loaded, open_checkpoint
from modgap_eval.reference.recipe import SHIPPED_DIR


class ReferenceArgs(ModelArgs):
    checkpoint: str = "final"
    dtype: Dtype | None = None
    device: str | None = None


def shipped_checkpoints() -> list[str]:
    """Names of the shipped checkpoints, in training order (step-N by N, then final)."""
    names = [p.name for p in SHIPPED_DIR.iterdir() if (p / CONFIG_FILE).is_file()] if SHIPPED_DIR.is_dir() else []
    return sorted(names, key=lambda n: (n == "final", int(n.split("-")[1]) if n.startswith("step-") else 0))


def load_reference(family: HFFamily, args: ReferenceArgs, runtime: RuntimeOptions) -> Loaded:
    available = shipped_checkpoints()
    if args.checkpoint not in available:
        raise ConfigError(
            f"--model_args for 'reference': checkpoint={args.checkpoint!r} is not shipped; choose one of {available}"
        )
    folder = SHIPPED_DIR / args.checkpoint
    device = check_device(args.device, "--model_args device") if args.device else check_device(runtime.device)
    options = LoadOptions(str(folder), args.dtype or runtime.dtype, device)
    loaded = lslm_loaded(family, options, open_checkpoint(str(folder)))
    return replace(
        loaded,
        args={"checkpoint": args.checkpoint, "dtype": options.dtype, "device": options.device},
        source=f"modgap_eval/reference/checkpoints/{args.checkpoint} (shipped)",
    )


class ReferenceLSLM(HFModel):
    family = HFFamily(name="reference", chat_template="tokenizer-or-plain", args=ReferenceArgs, load=load_reference)
