"""The Python API: ``modgap_eval.evaluate`` with names, paths, task objects and model objects."""

from __future__ import annotations

import subprocess
import sys

import pytest

import modgap_eval


def test_evaluate_by_name_by_path_and_by_object_agree(task_dir, tmp_path):
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.models.dummy import DummyModel
    from modgap_eval.tasks.loader import parse_yaml_file

    options = dict(bootstrap_iters=100, progress=False, representations="off")
    by_name = modgap_eval.evaluate(
        model="dummy", tasks=["arith"], include_path=[task_dir], output_path=tmp_path / "a", **options
    )
    by_path = modgap_eval.evaluate(model="dummy", tasks=task_dir / "arith.yaml", output_path=tmp_path / "b", **options)
    task = parse_yaml_file(task_dir / "arith.yaml")
    by_object = modgap_eval.evaluate(
        model=DummyModel.from_args({}, RuntimeOptions()), tasks=[task], output_path=tmp_path / "c", **options
    )
    assert isinstance(by_name, modgap_eval.RunResults)
    assert list(by_name.tasks) == list(by_path.tasks) == list(by_object.tasks) == ["arith"]
    assert by_name.tasks["arith"] == by_path.tasks["arith"] == by_object.tasks["arith"]
    assert by_name.tasks["arith"].text.score == 100.0  # the dummy's text side always computes the answer
    assert by_object.model.name == "dummy" and by_object.envelope.command == ["modgap_eval.evaluate"]


def test_a_folder_of_tasks_runs_its_tasks_and_groups(task_dir, tmp_path):
    results = modgap_eval.evaluate(
        model="dummy",
        tasks=str(task_dir),
        output_path=tmp_path / "o",
        bootstrap_iters=20,
        progress=False,
        representations="off",
    )
    assert sorted(results.tasks) == ["arith", "arith_open"] and list(results.groups) == ["arith_all"]


def test_bad_options_are_one_line_errors(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(modgap_eval.ModgapError, match="does not exist"):
        modgap_eval.evaluate(model="dummy", tasks=tmp_path / "nowhere.yaml")
    with pytest.raises(ValidationError):
        modgap_eval.evaluate(model="dummy", tasks="arith", no_such_option=1)


def test_import_is_light_and_exports_the_base_types():
    code = (
        "import sys, modgap_eval as m; m.Model, m.Scorer, m.SampleScore, m.evaluate; "
        "print(sorted(x for x in ('torch', 'transformers', 'numpy', 'scipy') if x in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    from modgap_eval.models.base import Model
    from modgap_eval.scoring.base import SampleScore, Scorer

    assert (modgap_eval.Model, modgap_eval.Scorer, modgap_eval.SampleScore) == (Model, Scorer, SampleScore)
