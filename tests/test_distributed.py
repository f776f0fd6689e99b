"""Rank detection, sharding, merging, and a real 2-process gloo gather through torchrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from modgap_eval.distributed import DistInfo, detect, device_for, gather, merge, shard
from modgap_eval.errors import ConfigError


def test_detect_reads_launcher_environment():
    assert detect({}) == DistInfo(0, 1, 0)
    assert detect({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == DistInfo(3, 4, 1)
    with pytest.raises(ConfigError):
        detect({"RANK": "4", "WORLD_SIZE": "4"})
    with pytest.raises(ConfigError):
        detect({"WORLD_SIZE": "two"})


def test_shards_partition_the_items_and_devices_split():
    items = [f"s{i}" for i in range(11)]
    shards = [shard(items, DistInfo(r, 3, r)) for r in range(3)]
    assert sorted(sum(shards, [])) == sorted(items) and [len(s) for s in shards] == [4, 4, 3]
    assert device_for("cuda", DistInfo(1, 2, 1)) == "cuda:1" and device_for("cpu", DistInfo(1, 2, 1)) == "cpu"
    assert device_for("cuda", DistInfo()) == "cuda"


def test_merge_and_single_process_gather():
    assert merge([{"a": 1}, {"b": 2}]) == {"a": 1, "b": 2}
    with pytest.raises(RuntimeError, match="two ranks"):
        merge([{"a": 1}, {"a": 2}])
    assert gather({"x": 1}, DistInfo()) == [{"x": 1}]


def run_two_processes(args: list[str], timeout: float = 300) -> None:
    """``torchrun --standalone --nproc_per_node 2 *args``; the whole process group dies on timeout."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, output.decode(errors="replace")[-3000:]


@pytest.mark.slow  # ~10 s of process start-up; the 2-process run test below covers it too
def test_two_process_gather_over_gloo(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent("""
        import json, sys
        from modgap_eval.distributed import detect, shard, gather_merged, finish
        info = detect()
        items = [f"s{i}" for i in range(7)]
        mine = {s: {"rank": info.rank, "len": len(s)} for s in shard(items, info)}
        merged = gather_merged(mine, info)
        if info.is_main:
            open(sys.argv[1], "w").write(json.dumps(merged))
        else:
            assert merged is None
        finish(info)
    """)
    )
    out = tmp_path / "merged.json"
    run_two_processes([str(script), str(out)])
    merged = json.loads(out.read_text())
    assert sorted(merged) == [f"s{i}" for i in range(7)]
    assert {k: v["rank"] for k, v in merged.items()} == {f"s{i}": i % 2 for i in range(7)}


WORKER = """
import json, sys
from pathlib import Path
from modgap_eval.config import RunConfig
from modgap_eval.runner import evaluate

folder, task_dir, out, dump = sys.argv[1:5]
outcome = evaluate(RunConfig(model="qwen2-audio", model_args={"pretrained": folder}, tasks=["arith_all"],
                             include_path=[Path(task_dir)], output_path=Path(out), progress=False,
                             bootstrap_iters=200, log_samples=True, batch_size=2, use_cache=False))
if outcome is not None:
    tasks = {name: {"text": t.text.model_dump(), "speech": t.speech.model_dump(), "gap": t.gap.model_dump(),
                    "representations": t.representations.model_dump() if t.representations else None}
             for name, t in outcome.results.tasks.items()}
    logs = {p.name: [json.loads(line) for line in p.read_text().splitlines()]
            for p in sorted(outcome.run_dir.glob("samples_*.jsonl"))}
    Path(dump).write_text(json.dumps({"tasks": tasks, "logs": logs}, sort_keys=True))
"""


def assert_same(a, b, path="") -> None:
    """Equal structures; floats equal to 1e-4 (batch composition moves the last float32 bits)."""
    if isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=1e-4, rel=1e-4), path
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


@pytest.mark.slow
def test_two_process_run_gives_the_same_numbers_as_one(task_dir, tmp_path):
    from tests.models.tiny import build_tiny_qwen2_audio

    folder = build_tiny_qwen2_audio(tmp_path / "model")
    script = tmp_path / "run_eval.py"
    script.write_text(WORKER)
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    subprocess.run(
        [sys.executable, str(script), str(folder), str(task_dir), str(tmp_path / "out1"), str(one)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    run_two_processes([str(script), str(folder), str(task_dir), str(tmp_path / "out2"), str(two)], timeout=600)
    single, double = json.loads(one.read_text()), json.loads(two.read_text())
    assert set(single["tasks"]) == {"arith", "arith_open"}
    assert single["tasks"]["arith"]["representations"] is not None
    assert_same(single["tasks"], double["tasks"])
    for name, records in single["logs"].items():
        by_id = {r["id"]: r for r in double["logs"][name]}
        assert sorted(by_id) == sorted(r["id"] for r in records)
        for record in records:
            assert_same(record, by_id[record["id"]], f"{name}:{record['id']}")
