"""What every stage of one run shares: the settings, the model, the caches, the run directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from modgap_eval.cache import ResponseCache
from modgap_eval.config import RunConfig
from modgap_eval.distributed import DistInfo
from modgap_eval.models.base import Model
from modgap_eval.tasks.loader import LoadedTask
from modgap_eval.types import Sample


@dataclass(frozen=True)
class TaskData:
    """A planned task: its definition, its loaded samples and their content hash."""

    task: LoadedTask
    samples: Sequence[Sample]
    content_hash: str


@dataclass(frozen=True)
class RunContext:
    config: RunConfig
    model: Model
    responses: ResponseCache
    """Model outputs, keyed by request (cache.request_key)."""
    representations: ResponseCache
    """Representation figures of a task, keyed by model, task content, samples and options."""
    run_dir: Path
    dist: DistInfo
    represent: bool
    """Whether the representation stage runs (``--representations`` resolved against the model)."""
