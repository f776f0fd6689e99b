"""Token-similarity examples beside results.json: ``representations_<task>.json`` (data for Fig. 6 heatmaps)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from modgap_eval.analysis.schema import RepresentationExamples, TokenSimilarityExample
from modgap_eval.errors import ConfigError

PREFIX = "representations_"


def write_examples(run_dir: Path, task: str, examples: Sequence[TokenSimilarityExample]) -> Path | None:
    """Write a task's examples (nothing when there are none); returns the path written."""
    if not examples:
        return None
    path = run_dir / f"{PREFIX}{task}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        RepresentationExamples(task=task, examples=list(examples)).model_dump_json() + "\n", encoding="utf-8"
    )
    return path


def read_examples(run_dir: Path) -> dict[str, RepresentationExamples]:
    """Every task's examples in a run directory, by task name."""
    out = {}
    for path in sorted(run_dir.glob(f"{PREFIX}*.json")):
        try:
            loaded = RepresentationExamples.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            raise ConfigError(f"{path}: not a representation examples file ({exc.error_count()} error(s))") from exc
        out[loaded.task] = loaded
    return out
