"""Intervene stage: speech accuracy with vs without an intervention on the same samples (METHOD.md §6)."""

from __future__ import annotations

from functools import partial
from typing import Any

from modgap_eval.aggregate import TaskScores
from modgap_eval.batching import requests_per_call
from modgap_eval.calibration import copy_calibration
from modgap_eval.pipeline.context import RunContext, TaskData
from modgap_eval.requests import make_prompt_pair, make_request
from modgap_eval.scoring.base import Scorer
from modgap_eval.types import InterventionMode


def intervene(ctx: RunContext, data: TaskData, scorer: Scorer, scores: TaskScores) -> list[Any]:
    """``[InterventionSummary]`` under ``--intervention``, else empty."""
    samples = [x.sample for x in scores.samples]
    if not ctx.config.intervention or not samples:
        return []
    from modgap_eval.analysis.interventions import InterventionOptions, run_interventions

    config, task = ctx.config, data.task
    written = {x.sample.id: x.text_output for x in scores.samples}
    options = InterventionOptions(
        mode=InterventionMode(config.intervention),
        critical=config.critical,
        layers=config.intervention_layers,
        batch_size=requests_per_call(config.batch_size),
    )
    return [
        run_interventions(
            ctx.model,
            samples,
            partial(make_prompt_pair, task, sample_rate=ctx.model.sample_rate),
            lambda sample, prompt, intervention: make_request(task, sample, prompt, intervention),
            # the pmi reading reads the neutral prompt's log-probs: outputs made under an intervention get them too
            lambda sample, output: scorer.score(sample, copy_calibration(output, written[sample.id])),
            options,
            aggregate=scorer.aggregate,
            speech_without={x.sample.id: x.speech for x in scores.samples},
            progress=config.progress,
        )
    ]
