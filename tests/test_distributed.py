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


def test_two_process_gather_over_gloo(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent("""
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
    """))
    out = tmp_path / "merged.json"
    run_two_processes([str(script), str(out)])
    merged = json.loads(out.read_text())
    assert sorted(merged) == [f"s{i}" for i in range(7)]
    assert {k: v["rank"] for k, v in merged.items()} == {f"s{i}": i % 2 for i in range(7)}
