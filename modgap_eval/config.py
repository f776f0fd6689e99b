"""RunConfig: every setting of one evaluation run, validated (pydantic, unknown keys rejected)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from modgap_eval.stats import DEFAULT_BOOTSTRAP_ITERS
from modgap_eval.strict import Frozen


class RunConfig(Frozen):
    model: str
    model_args: dict[str, str] = Field(default_factory=dict)
    tasks: list[str] = Field(default_factory=lambda: ["all"], min_length=1)
    include_path: list[Path] = Field(default_factory=list)
    data_dir: Path | None = None
    """Offline mirror of hub datasets and a root for local task files (see tasks/sources.py)."""
    limit: int | None = Field(default=None, ge=1)
    batch_size: int | Literal["auto"] = 1
    device: str = "cpu"
    dtype: str = "auto"
    seed: int = 1234
    bootstrap_iters: int = Field(default=DEFAULT_BOOTSTRAP_ITERS, ge=1)
    output_path: Path = Path("results")
    log_samples: bool = False
    use_cache: bool = True
    on_error: Literal["raise", "skip"] = "raise"
    representations: Literal["auto", "on", "off"] = "auto"
    """auto: on for models that return hidden states."""
    centering: bool = False
    """Per-layer mean-centering before cosine (METHOD.md §4b, optional, recorded)."""
    intervention: Literal["angle", "length"] | None = None
    critical: str = "bottom-3"
    intervention_layers: str = "0"
    """'0' (adapter output), one block index, or 'all' (METHOD.md §6, ours)."""
    progress: bool = True
    command: list[str] = Field(default_factory=list)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch(cls, value: object) -> object:
        if isinstance(value, str) and value != "auto":
            try:
                value = int(value)
            except ValueError as exc:
                raise ValueError("batch_size must be a positive integer or 'auto'") from exc
        if isinstance(value, int) and value < 1:
            raise ValueError("batch_size must be a positive integer or 'auto'")
        return value

    @field_validator("output_path")
    @classmethod
    def _output_folder(cls, value: Path) -> Path:
        # Checked up front: finding a file here only when the first result is written would lose the model work.
        for folder in (value, *value.parents):
            if folder.exists():
                if not folder.is_dir():
                    raise ValueError(
                        f"{str(folder)!r} is a file, not a folder (output_path names a folder for run "
                        f"directories and the response cache)"
                    )
                break
        return value

    @field_validator("intervention_layers")
    @classmethod
    def _intervention_layers(cls, value: str) -> str:
        # The upper bound needs the model (checked when it is known); the form is checked here, before any work.
        if value != "all" and not value.isdigit():
            raise ValueError(f"{value!r} is not 0, a block index or 'all'")
        return value

    @field_validator("critical")
    @classmethod
    def _critical(cls, value: str) -> str:
        if value != "all" and not (value.startswith("bottom-") and value[7:].isdigit() and int(value[7:]) > 0):
            raise ValueError("critical must be 'all' or 'bottom-K' with K > 0")
        return value
