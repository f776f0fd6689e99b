"""The installed package: built-in tasks ship in the wheel and sdist and are found from any folder; a
missing built-in folder is an error; ``ls`` ends quietly when its reader closes the pipe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from modgap_eval import paths
from modgap_eval.cli import main
from modgap_eval.errors import ConfigError
from modgap_eval.tasks.loader import discover

REPO = paths.REPO_ROOT
SKIP_IN_COPY = shutil.ignore_patterns(
    ".git", "results", "build", "dist", "*.egg-info", "__pycache__", ".venv*", ".pytest_cache", "*.pyc"
)


def cli(*args: str, cwd: Path, env_path: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": env_path}
    return subprocess.run(
        [sys.executable, "-m", "modgap_eval.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def task_names(listing: str) -> list[str]:
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def test_a_missing_builtin_tasks_folder_is_an_error_not_an_empty_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(paths, "BUILTIN_TASKS_DIR", tmp_path / "gone")
    with pytest.raises(ConfigError, match="built-in tasks folder not found"):
        discover()
    assert discover(builtin=False).tasks == {}  # only the built-in folder is required
    assert main(["ls", "tasks"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reinstall modgap-eval" in err


def test_the_checkout_finds_its_top_level_tasks_folder():
    assert paths.BUILTIN_TASKS_DIR == REPO / "tasks"  # no modgap_eval/_builtin_tasks copy in a checkout
    assert {"examples", "offline_default"} <= set(discover().groups)


def test_ls_ends_quietly_when_the_reader_closes_the_pipe():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # The reader is gone before ls writes a byte (it is still importing): every write meets a closed pipe.
    proc = subprocess.Popen(
        [sys.executable, "-m", "modgap_eval.cli", "ls", "tasks"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""
    # The README's reader: head -1 takes the first line, the listing ends without a traceback.
    piped = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m modgap_eval.cli ls tasks | head -1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0 and piped.stderr == "" and len(piped.stdout.splitlines()) == 1


@pytest.mark.slow
def test_wheel_and_sdist_carry_every_task_file_and_ls_works_from_another_folder(tmp_path):
    """Offline stand-in for scripts/wheel_check.sh (CI runs that one in a clean venv with the network)."""
    build = pytest.importorskip("build", reason="needs 'build': pip install 'modgap-eval[dev]'")
    del build
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=SKIP_IN_COPY)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(src)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    task_files = sorted(
        p.relative_to(REPO / "tasks").as_posix()
        for p in (REPO / "tasks").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert len(task_files) > 50 and any(f.endswith(".flac") for f in task_files)
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    assert [f for f in task_files if f"modgap_eval/_builtin_tasks/{f}" not in in_wheel] == []
    in_sdist = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    assert [f for f in task_files if f"tasks/{f}" not in in_sdist] == []
    # package data the code reads at import (VoiceBench's reading tables)
    assert "modgap_eval/scoring/voicebench_tables.json" in in_wheel
    assert "modgap_eval/scoring/voicebench_tables.json" in in_sdist

    site = tmp_path / "site"  # the wheel's files, installed without dependencies (this env has them)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = cli("ls", "tasks", cwd=elsewhere, env_path=str(site))
    checkout = cli("ls", "tasks", cwd=REPO, env_path=str(REPO))
    assert installed.returncode == 0 and installed.stderr == ""
    assert task_names(installed.stdout) == task_names(checkout.stdout) and len(task_names(checkout.stdout)) > 20
    assert str(site / "modgap_eval" / "_builtin_tasks") in installed.stdout  # not the checkout's tasks/
    run = cli(
        "--model",
        "dummy",
        "--tasks",
        "examples",
        "--no_progress",
        "--representations",
        "off",
        "--output_path",
        str(elsewhere / "results"),
        cwd=elsewhere,
        env_path=str(site),
    )
    assert run.returncode == 0, run.stderr
    assert (
        "example_arithmetic_mc" in run.stdout
        and len(list((elsewhere / "results" / "dummy").glob("*/results.json"))) == 1
    )


def test_a_model_whose_extra_is_missing_names_the_install(tmp_path, monkeypatch):
    from modgap_eval.errors import RegistryError
    from modgap_eval.registry import Registry, extra_hint

    # A module that fails as a model adapter does on a core-only install: its torch import is missing.
    (tmp_path / "needs_torch_adapter.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry[object] = Registry("model")
    registry.add("heavy", "needs_torch_adapter:Model")
    with pytest.raises(RegistryError, match=r"No module named 'torch' \(pip install 'modgap-eval\[models\]'\)"):
        registry.get("heavy")
    assert extra_hint(ModuleNotFoundError("x", name="pyarrow.parquet")) == " (pip install 'modgap-eval[data]')"
    assert extra_hint(ModuleNotFoundError("x", name="some_private_thing")) == ""
