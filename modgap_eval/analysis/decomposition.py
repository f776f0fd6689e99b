"""The paper's decomposition of the drop (its Fig. 2) and path trends across checkpoints (its Fig. 8).

From a base text LLM's run and an LSLM's run on the same tasks (METHOD.md §1 scores, in points):

    total drop = base text − LSLM speech
               = (base text − LSLM text)  [fine-tuning erosion]
               + (LSLM text − LSLM speech) [modality gap, METHOD.md §1]

per task and pooled over the common tasks two ways, named as ``correlate`` names them:
``overall_macro`` (the plain mean over tasks, like a group score) and ``overall_micro`` (each score
pooled over its samples, each task weighing its n).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modgap_eval.analysis.correlation import OVERALL_MACRO, OVERALL_MICRO
from modgap_eval.errors import ConfigError


@dataclass(frozen=True)
class DropRow:
    task: str
    base_text: float
    lslm_text: float
    lslm_speech: float
    total_drop: float
    erosion: float
    modality_gap: float


def _row(task: str, base_text: float, lslm_text: float, lslm_speech: float) -> DropRow:
    return DropRow(
        task=task,
        base_text=base_text,
        lslm_text=lslm_text,
        lslm_speech=lslm_speech,
        total_drop=base_text - lslm_speech,
        erosion=base_text - lslm_text,
        modality_gap=lslm_text - lslm_speech,
    )


def decompose(base: Any, lslm: Any, tasks: Sequence[str] | None = None) -> list[DropRow]:
    """Rows per common task (or ``tasks``), then ``overall_macro`` and ``overall_micro`` over those tasks."""
    common = [t for t in base.tasks if t in lslm.tasks]
    if tasks:
        missing = [t for t in tasks if t not in base.tasks or t not in lslm.tasks]
        if missing:
            raise ConfigError(f"task {missing[0]!r} is not in both the base run and the LSLM run")
        common = list(tasks)
    if not common:
        raise ConfigError(f"the base run ({base.model.name}) and the LSLM run ({lslm.model.name}) share no task")
    names = sorted(common)
    # Per task its three scores (ModalityScore: score and n): base text, LSLM text, LSLM speech.
    scores = [(base.tasks[t].text, lslm.tasks[t].text, lslm.tasks[t].speech) for t in names]
    columns = list(zip(*scores))
    return [
        *(_row(t, *(s.score for s in task)) for t, task in zip(names, scores)),
        _row(OVERALL_MACRO, *(float(np.mean([s.score for s in column])) for column in columns)),
        _row(OVERALL_MICRO, *(_pooled(column) for column in columns)),
    ]


def _pooled(scores: Sequence[Any]) -> float:
    """The score over all the tasks' samples: each task's score weighted by its n (NaN with no samples)."""
    total = sum(s.n for s in scores)
    return sum(s.score * s.n for s in scores) / total if total else float("nan")


@dataclass(frozen=True)
class PathRow:
    """Path statistics of one run (checkpoint) for one scope (METHOD.md §4)."""

    label: str
    scope: str
    monotonicity_cos: float | None
    monotonicity_euc: float | None
    consistency: float | None


def path_trend(runs: Sequence[tuple[str, Any]], scope: str = OVERALL_MACRO) -> list[PathRow]:
    """Monotonicity and consistency per run in the given order; ``overall_macro`` = plain mean over the
    run's analysed tasks (tasks where a value is undefined are left out of that value's mean)."""
    rows = []
    for label, results in runs:
        summaries = {
            name: task.representations for name, task in results.tasks.items() if task.representations is not None
        }
        if scope != OVERALL_MACRO:
            if scope not in summaries:
                raise ConfigError(f"{label}: no representation results for task {scope!r}")
            summaries = {scope: summaries[scope]}
        if not summaries:
            raise ConfigError(f"{label}: no representation results (run with --representations on)")
        kept = list(summaries.values())
        rows.append(
            PathRow(
                label,
                scope,
                _mean_of(kept, "monotonicity_cos"),
                _mean_of(kept, "monotonicity_euc"),
                _mean_of(kept, "consistency"),
            )
        )
    return rows


def _mean_of(summaries: Iterable[Any], field: str) -> float | None:
    """Mean of ``field`` over the summaries that have it; None when none does."""
    values = [getattr(s, field) for s in summaries if getattr(s, field) is not None]
    return float(np.mean(values)) if values else None
