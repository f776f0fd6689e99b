"""The paper's decomposition (Fig. 2) and path trends across checkpoints (Fig. 8)."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))  # the runs analysed here have representations

from modgap_eval.analysis.decomposition import decompose, path_trend
from modgap_eval.cli import main
from modgap_eval.results import read_results

from .runs import real_dummy_run, variant


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("decompose")
    base = read_results(real_dummy_run(root))
    base_run = variant(base, root, "base-llm", {"arith": {"text": 80.0}, "arith_open": {"text": 60.0}})
    ckpts = [
        variant(
            base,
            root,
            f"lslm-ckpt{k}",
            {
                "arith": {
                    "text": 70.0 + k,
                    "speech": 40.0 + 5 * k,
                    "monotonicity_cos": 0.5 + 0.1 * k,
                    "consistency": 0.3 + 0.1 * k,
                },
                "arith_open": {"text": 50.0, "speech": 30.0, "monotonicity_cos": 0.7, "consistency": 0.5},
            },
        )
        for k in range(3)
    ]
    return base_run, ckpts


def test_decomposition_by_hand(runs):
    base_run, ckpts = runs
    rows = {r.task: r for r in decompose(read_results(base_run), read_results(ckpts[0]))}
    arith = rows["arith"]
    assert (arith.total_drop, arith.erosion, arith.modality_gap) == (40.0, 10.0, 30.0)
    assert rows["arith_open"].total_drop == 30.0 and rows["arith_open"].erosion == 10.0
    macro = rows["overall_macro"]
    assert (macro.base_text, macro.lslm_text, macro.lslm_speech) == (70.0, 60.0, 35.0)
    assert macro.total_drop == pytest.approx(macro.erosion + macro.modality_gap)
    assert list(rows)[-2:] == ["overall_macro", "overall_micro"]


def test_micro_row_weighs_each_task_by_its_n(runs):
    base_run, ckpts = runs
    base, lslm = read_results(base_run), read_results(ckpts[0])
    # arith: base text 80, LSLM text 70, speech 40; arith_open: 60, 50, 30. The base ran 1 + 1 samples,
    # the LSLM 3 of arith and 1 of arith_open.
    base.tasks["arith"].text.n = base.tasks["arith_open"].text.n = 1
    for side in (lslm.tasks["arith"].text, lslm.tasks["arith"].speech):
        side.n = 3
    for side in (lslm.tasks["arith_open"].text, lslm.tasks["arith_open"].speech):
        side.n = 1
    rows = {r.task: r for r in decompose(base, lslm)}
    micro = rows["overall_micro"]
    assert (micro.base_text, micro.lslm_text, micro.lslm_speech) == (70.0, (3 * 70 + 50) / 4, (3 * 40 + 30) / 4)
    assert (micro.total_drop, micro.erosion, micro.modality_gap) == (32.5, 5.0, 27.5)
    assert rows["overall_macro"].lslm_text == 60.0  # the macro row ignores n


def test_path_trend_means_over_tasks(runs):
    _, ckpts = runs
    trend = path_trend([(str(p), read_results(p)) for p in ckpts])
    assert [r.monotonicity_cos for r in trend] == pytest.approx([(0.5 + 0.1 * k + 0.7) / 2 for k in range(3)])
    assert [r.consistency for r in trend] == pytest.approx([(0.3 + 0.1 * k + 0.5) / 2 for k in range(3)])
    only = path_trend([(str(ckpts[2]), read_results(ckpts[2]))], scope="arith")
    assert only[0].monotonicity_cos == pytest.approx(0.7)


def test_decompose_command(runs, tmp_path, capsys):
    base_run, ckpts = runs
    out = tmp_path / "plots"
    assert main(["decompose", "--base", str(base_run), *map(str, ckpts), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "erosion" in printed and "\noverall_macro " in printed and "\noverall_micro " in printed
    figures = sorted(p.name for p in out.glob("*.png"))
    assert len(figures) == 4 and "path_trend.png" in figures
    data = json.loads(sorted(out.glob("decomposition_0_*.json"))[0].read_text())
    assert data["rows"][0] == {
        "task": "arith",
        "base_text": 80.0,
        "lslm_text": 70.0,
        "lslm_speech": 40.0,
        "total_drop": 40.0,
        "erosion": 10.0,
        "modality_gap": 30.0,
    }
    assert main(["decompose", "--base", str(base_run), str(ckpts[0]), "--task", "missing"]) == 2
