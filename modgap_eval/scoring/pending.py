"""Judge later: open-ended tasks whose judge is not configured are generated, saved, and scored afterwards.

Without a judge endpoint an ``llm_judge`` task does not stop the run: its responses are written to
``samples_<task>.jsonl`` (scores left empty) and the task is recorded in ``RunResults.not_scored``
as "not scored (no judge)". ``score_pending`` (``modgap-eval rescore RUN_DIR --judge_base_url ...``)
scores them from those logs and fills in the groups that were waiting for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modgap_eval.scoring.base import Scorer
from modgap_eval.scoring.judge_config import judge_endpoint
from modgap_eval.types import Output, Sample

NO_JUDGE = "no judge"


def unavailable_judge(scorer: Scorer) -> str | None:
    """Why ``scorer`` cannot score now (``"no judge"``), or None when it can."""
    return NO_JUDGE if getattr(scorer, "needs_judge", False) and judge_endpoint() is None else None


def write_unscored_log(
    path: Path,
    task: Any,
    samples: Sequence[Sample],
    text: Mapping[str, Output],
    speech: Mapping[str, Output],
) -> int:
    """Write the saved responses of samples answered in both modalities; returns how many."""
    from modgap_eval.pipeline.assemble import sample_record

    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for s in samples:
            if s.id not in text or s.id not in speech:
                continue
            handle.write(sample_record(task, s, (text[s.id], None), (speech[s.id], None)).model_dump_json() + "\n")
            written += 1
    return written


def score_pending(results: Any, run_dir: Path) -> Any:
    """``results`` with every not-scored task scored from its sample log; unchanged while no judge is configured."""
    from modgap_eval.aggregate import aggregate_group
    from modgap_eval.rescoring import score_from_log
    from modgap_eval.results import TaskResult
    from modgap_eval.scoring import SCORERS

    if not results.not_scored or judge_endpoint() is None:
        return results  # still waiting: they stay "not scored (no judge)"
    tasks = dict(results.tasks)
    for name, pending in results.not_scored.items():
        scores = score_from_log(run_dir, name, pending.scorer, results.envelope.seed, results.envelope.bootstrap_iters)
        scorer = SCORERS.get(pending.scorer["name"])(**pending.scorer.get("args", {}))
        fields = pending.model_dump(exclude={"reason", "n_responses"})
        fields["scorer"] = {**fields["scorer"], "judge": scorer.describe()}
        tasks[name] = TaskResult(**fields, **scores.result_fields())
    groups = dict(results.groups)
    groups.update({name: aggregate_group(name, members, tasks) for name, members in results.pending_groups.items()})
    return results.model_copy(update={"tasks": tasks, "groups": groups, "not_scored": {}, "pending_groups": {}})
