"""``modgap-eval plot`` and the figure functions: PNGs with the data drawn beside them."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.analysis.examples import read_examples, write_examples
from modgap_eval.analysis.stage import RepresentationOptions, analyse_task
from modgap_eval.cli import main
from modgap_eval.models.dummy import DummyModel
from modgap_eval.results import read_results

from .runs import real_dummy_run, variant
from .test_stage import make_prompts, make_samples

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    run_dir = real_dummy_run(root)
    base = read_results(run_dir)
    others = [
        variant(base, root, f"ckpt{k}", {"arith": {"aps_cos": 0.2 + 0.1 * k, "gap": 30.0 - 5 * k}}) for k in range(3)
    ]
    return run_dir, others


def test_examples_round_trip(tmp_path):
    result = analyse_task(
        DummyModel(layers=2, width=8), make_samples(3), make_prompts, RepresentationOptions(examples=2)
    )
    assert len(result.examples) == 4  # 2 samples x (middle, last) layers
    write_examples(tmp_path, "toy", result.examples)
    assert read_examples(tmp_path)["toy"].examples == list(result.examples)
    assert write_examples(tmp_path, "none", ()) is None


def test_plot_one_run_with_heatmap(runs, tmp_path):
    run_dir, _ = runs
    result = analyse_task(
        DummyModel(), make_samples(3), make_prompts, RepresentationOptions(examples=1, example_layers=(4,))
    )
    write_examples(run_dir, "arith", result.examples)
    out = tmp_path / "plots"
    assert main(["plot", str(run_dir), "--out", str(out)]) == 0
    curves = json.loads((out / "layers_arith.json").read_text())
    summary = read_results(run_dir).tasks["arith"].representations
    assert curves["series"][0]["layer_cos"]["mismatched"]["mean"] == summary.layer_cos.mismatched.mean
    assert (out / "layers_arith.png").read_bytes().startswith(PNG_MAGIC)
    heatmap = out / "heatmap_dummy_arith_q0_layer4.png"
    assert (out / "heatmap_dummy_arith_open_q0_layer4.png").exists()  # the runner's own examples of the other task
    assert heatmap.read_bytes().startswith(PNG_MAGIC)
    data = json.loads(heatmap.with_suffix(".json").read_text())
    assert data["path_cos"] == result.examples[0].path_cos and data["layer"] == 4


def test_plot_several_runs_draws_scatters(runs, tmp_path):
    _, others = runs
    out = tmp_path / "plots"
    assert main(["plot", *map(str, others), "--out", str(out), "--baseline", "matched"]) == 0
    data = json.loads((out / "gap_vs_aps_cos_matched_arith.json").read_text())
    assert [(p["x"], p["y"]) for p in data["points"]] == [
        pytest.approx((0.2 + 0.1 * k, 30.0 - 5 * k)) for k in range(3)
    ]
    assert data["fit"]["slope"] == pytest.approx(-50.0) and data["fit"]["r_squared"] == pytest.approx(1.0)
    assert (out / "gap_vs_aps_cos_matched_arith.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "gap_vs_sim_euc_matched_overall_macro.png").exists()


def test_plot_needs_representations(runs, tmp_path):
    run_dir, _ = runs
    results = read_results(run_dir).model_copy(deep=True)
    for task in results.tasks.values():
        task.representations = None
    from modgap_eval.results import write_results

    write_results(results, tmp_path / "bare")
    assert main(["plot", str(tmp_path / "bare")]) == 2
