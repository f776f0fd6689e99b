"""Results files for analysis-command tests: one real dummy run, and variants with chosen numbers."""

from __future__ import annotations

from pathlib import Path

from modgap_eval.cli import main
from modgap_eval.results import RunResults, read_results, write_results
from tests.conftest import make_task_dir


def real_dummy_run(root: Path) -> Path:
    """A run of the dummy model on two small tasks (with representations and sample logs); its run dir."""
    make_task_dir(root / "tasks", task="arith")
    make_task_dir(root / "tasks", output_type="generate", scorer="exact_match", task="arith_open")
    rc = main(
        [
            "--model",
            "dummy",
            "--tasks",
            "arith,arith_open",
            "--include_path",
            str(root / "tasks"),
            "--output_path",
            str(root / "out"),
            "--no_progress",
            "--log_samples",
            "--bootstrap_iters",
            "20",
        ]
    )
    assert rc == 0
    (run_dir,) = [p.parent for p in (root / "out").rglob("results.json")]
    return run_dir


def variant(base: RunResults, root: Path, name: str, numbers: dict[str, dict[str, float]]) -> Path:
    """Copy of ``base`` named ``name`` with, per task, chosen ``gap``, ``text``, ``speech``, ``aps_cos``,
    ``sim_cos``, ``monotonicity_cos``, ``consistency`` (matched and excess set alike); written to root/name."""
    results = base.model_copy(deep=True)
    results.model.name = name
    for task_name, values in numbers.items():
        task = results.tasks[task_name]
        if "gap" in values:
            task.gap.gap = values["gap"]
        if "text" in values:
            task.text.score = values["text"]
        if "speech" in values:
            task.speech.score = values["speech"]
        rep = task.representations
        for metric in ("aps_cos", "sim_cos", "aps_euc", "sim_euc"):
            if metric in values:
                getattr(rep, metric).matched = values[metric]
                getattr(rep, metric).excess = values[metric] - getattr(rep, metric).mismatched
        for field in ("monotonicity_cos", "monotonicity_euc", "consistency"):
            if field in values:
                setattr(rep, field, values[field])
    write_results(RunResults.model_validate(results.model_dump()), root / name)
    return root / name


def load(path: Path) -> RunResults:
    return read_results(path)
