"""The Python API for notebooks: ``evaluate(model=..., tasks=..., **options)`` without the CLI.

    import modgap_eval
    results = modgap_eval.evaluate(model="dummy", tasks=["examples"], limit=4)
    results.tasks["example_arithmetic_mc"].gap.gap

``model`` is a registered name (``model_args`` as a dict) or an adapter object already built;
``tasks`` are names (tasks or groups), paths of task YAMLs or folders, or ``LoadedTask`` objects.
Every other keyword is a ``RunConfig`` field (``limit``, ``batch_size``, ``output_path``...). The run
is written to ``output_path`` as from the command line; the results are returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modgap_eval.models.base import Model
    from modgap_eval.results import RunResults
    from modgap_eval.tasks.loader import LoadedTask


def evaluate(
    model: str | Model, tasks: str | Path | LoadedTask | Sequence[str | Path | LoadedTask] = "all", **options: Any
) -> RunResults:
    """Evaluate ``model`` on ``tasks``; returns the run's results (``RunResults``)."""
    from modgap_eval.config import RunConfig
    from modgap_eval.errors import ConfigError
    from modgap_eval.runner import evaluate as run
    from modgap_eval.tasks.loader import LoadedTask, parse_yaml_file

    items = [tasks] if isinstance(tasks, (str, Path, LoadedTask)) else list(tasks)
    names: list[str] = []
    objects: list[LoadedTask] = []
    include = list(options.pop("include_path", []))
    for item in items:
        if isinstance(item, LoadedTask):
            objects.append(item)
            names.append(item.name)
        elif isinstance(item, Path) or (isinstance(item, str) and (item.endswith((".yaml", ".yml")) or "/" in item)):
            path = Path(item)
            if not path.exists():
                raise ConfigError(f"tasks: {path} does not exist")
            include.append(path)
            found = [parse_yaml_file(p) for p in ([path] if path.is_file() else sorted(path.rglob("*.y*ml")))]
            names += [f.name for f in found]  # tasks and groups alike
        else:
            names.append(str(item))
    built = None if isinstance(model, str) else model
    name = model if isinstance(model, str) else model.info().name
    config = RunConfig(
        model=name, tasks=names or ["all"], include_path=include, command=["modgap_eval.evaluate"], **options
    )
    outcome = run(config, model=built, tasks=objects)
    assert outcome is not None, "the Python API runs in one process (rank 0)"
    return outcome.results
