"""End to end: a dummy-model run reports exactly the similarities the dummy's construction implies."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.cli import main
from modgap_eval.results import read_results
from tests.conftest import ARITH

from . import loop_reference as ref
from .test_baseline import mismatched_partner
from .test_stage import constructed_states, mean


def run_dummy(task_dir, out, *extra):
    rc = main(
        [
            "--model",
            "dummy",
            "--model_args",
            "layers=3,width=10",
            "--tasks",
            "arith",
            "--include_path",
            str(task_dir),
            "--output_path",
            str(out),
            "--no_progress",
            "--log_samples",
            "--bootstrap_iters",
            "20",
            "--seed",
            "77",
            *extra,
        ]
    )
    assert rc == 0
    (run_dir,) = [p.parent for p in out.rglob("results.json")]
    return run_dir


def test_dummy_run_matches_its_construction(task_dir, tmp_path):
    run_dir = run_dummy(task_dir, tmp_path / "out")
    results = read_results(run_dir)
    summary = results.tasks["arith"].representations
    records = [json.loads(line) for line in (run_dir / "samples_arith.jsonl").read_text().splitlines()]
    texts = {r["id"]: r["text"] for r in records}
    seconds = {f"q{i}": row[-1] for i, row in enumerate(ARITH)}
    ids = sorted(texts)

    def speech(sample_id):
        frames = max(1, math.floor(seconds[sample_id] * 10))
        return constructed_states([f"frame:{i}" for i in range(frames)], 3, 10)

    def text(sample_id):
        import re

        return constructed_states(re.findall(r"\w+", texts[sample_id].lower()), 3, 10)

    partner = mismatched_partner(ids, 77)
    matched = {i: ref.compare(speech(i), text(i)) for i in ids}
    mismatched = {i: ref.compare(speech(i), text(partner[i])) for i in ids}
    assert summary.n_samples == 6 and summary.derangement_seed == 77
    for name, key, lower in (
        ("sim_cos", "sim_cos", False),
        ("sim_euc", "sim_euc", True),
        ("aps_cos", "APS_cos", False),
        ("aps_euc", "APS_euc", True),
    ):
        m = mean([matched[i][key] for i in ids])
        x = mean([mismatched[i][key] for i in ids])
        got = getattr(summary, name)
        assert (got.matched, got.mismatched) == (pytest.approx(m, abs=1e-5), pytest.approx(x, abs=1e-5)), name
        assert got.excess == pytest.approx(x - m if lower else m - x, abs=1e-5)
    assert summary.layer_cos.mismatched.mean == pytest.approx(
        np.mean([mismatched[i]["layer_cos"] for i in ids], axis=0).tolist(), abs=1e-5
    )
    assert summary.consistency == pytest.approx(mean([matched[i]["Consistency"] for i in ids]), abs=1e-6)
    for record in records:
        assert record["representation"]["aps_cos"] == pytest.approx(matched[record["id"]]["APS_cos"], abs=1e-5)
        assert record["representation"]["sim_euc_mismatched"] == pytest.approx(
            mismatched[record["id"]]["sim_euc"], abs=1e-5
        )


def test_run_writes_heatmap_examples(task_dir, tmp_path):
    from modgap_eval.analysis.examples import read_examples

    run_dir = run_dummy(task_dir, tmp_path / "out")
    (example, last) = read_examples(run_dir)["arith"].examples
    assert (example.sample_id, example.layer, last.layer) == ("q0", 1, 3)  # first sample; middle and last block
    assert len(example.cosine[0]) == len(example.text_tokens)
