"""Represent stage: a task's hidden-state analysis (METHOD.md §2-4b), cached like the responses.

The figures of a task depend on the model, the task's content, the samples analysed (the mismatched
baseline pairs them) and the options; that is the cache key. A resumed or repeated run reads them
back (JSON floats round-trip exactly), so it reports the uninterrupted run's numbers; only a task
whose figures are missing is analysed again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from modgap_eval.batching import requests_per_call
from modgap_eval.cache import request_key
from modgap_eval.pipeline.context import RunContext, TaskData
from modgap_eval.requests import make_prompt_pair
from modgap_eval.types import Sample

RECORD_VERSION = "1"
"""Part of the key: bump when the analysis changes what it computes."""


@dataclass(frozen=True)
class Represented:
    summary: Any | None = None
    """``analysis.schema.RepresentationSummary``; None when the stage did not run."""
    per_sample: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    examples: Sequence[Any] = ()
    """``TokenSimilarityExample``s kept for heatmaps."""


def represent(ctx: RunContext, data: TaskData, samples: Sequence[Sample]) -> Represented:
    """The representation figures of ``samples`` (those scored in both modalities); written beside results."""
    if not ctx.represent or len(samples) < 2:  # the mismatched baseline needs another sample
        return Represented()
    from modgap_eval.analysis.examples import write_examples
    from modgap_eval.analysis.stage import RepresentationOptions

    options = RepresentationOptions(
        centering=ctx.config.centering,
        derangement_seed=ctx.config.seed,
        batch_size=requests_per_call(ctx.config.batch_size),
    )
    key = _key(ctx, data, samples, options)
    represented = _from_record(ctx.representations.get_record(key))
    if represented is None:
        represented = _analyse(ctx, data, samples, options)
        ctx.representations.put_record(key, _to_record(represented))
    write_examples(ctx.run_dir, data.task.name, represented.examples)
    return represented


def _analyse(ctx: RunContext, data: TaskData, samples: Sequence[Sample], options) -> Represented:
    from modgap_eval.analysis.stage import analyse_task

    pair_for = partial(make_prompt_pair, data.task, sample_rate=ctx.model.sample_rate)
    analysed = analyse_task(ctx.model, samples, pair_for, options, progress=ctx.config.progress)
    return Represented(analysed.summary, {k: dict(v) for k, v in analysed.per_sample.items()}, tuple(analysed.examples))


def _key(ctx: RunContext, data: TaskData, samples: Sequence[Sample], options) -> str:
    # batch_size is left out: it changes which states are fetched together, not what is computed
    settings = json.dumps(
        {
            "centering": options.centering,
            "seed": options.derangement_seed,
            "examples": options.examples,
            "example_layers": options.example_layers,
        },
        sort_keys=True,
    )
    return request_key(
        ctx.model.cache_key(),
        ["representations", RECORD_VERSION, data.content_hash, settings, *[s.id for s in samples]],
    )


def _to_record(represented: Represented) -> dict[str, Any]:
    assert represented.summary is not None
    return {
        "summary": represented.summary.model_dump(),
        "per_sample": {k: dict(v) for k, v in represented.per_sample.items()},
        "examples": [e.model_dump() for e in represented.examples],
    }


def _from_record(record: Mapping[str, Any] | None) -> Represented | None:
    if record is None:
        return None
    from pydantic import ValidationError

    from modgap_eval.analysis.schema import RepresentationSummary, TokenSimilarityExample

    try:
        return Represented(
            RepresentationSummary.model_validate(record["summary"]),
            {k: dict(v) for k, v in record["per_sample"].items()},
            tuple(TokenSimilarityExample.model_validate(e) for e in record["examples"]),
        )
    except (ValidationError, KeyError, TypeError, AttributeError):
        return None  # an unreadable record is recomputed, never fatal
