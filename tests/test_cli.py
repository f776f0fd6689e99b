"""The command line: one-line errors with exit code 2, listing, validation, a full run."""

from __future__ import annotations

from modgap_eval.cli import main


def test_run_prints_summary_and_results_path(task_dir, tmp_path, capsys):
    code = main(
        [
            "--model",
            "dummy",
            "--tasks",
            "arith",
            "--include_path",
            str(task_dir),
            "--output_path",
            str(tmp_path / "o"),
            "--no_progress",
            "--bootstrap_iters",
            "50",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "arith" in out and "results: " in out and out.strip().endswith("results.json")


def test_user_errors_are_one_line_exit_2(task_dir, tmp_path, capsys):
    assert main(["--model", "dumy", "--tasks", "arith", "--include_path", str(task_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'dummy'" in err
    assert (
        main(
            [
                "--model",
                "dummy",
                "--model_args",
                "layerz=3",
                "--tasks",
                "arith",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'layerz'; did you mean 'layers'" in err
    assert (
        main(
            [
                "--model",
                "dummy",
                "--model_args",
                "layers=2,layers=3",
                "--tasks",
                "arith",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "'layers' is given twice" in capsys.readouterr().err
    assert (
        main(
            [
                "--model",
                "dummy",
                "--device",
                "tpu9",
                "--tasks",
                "arith",
                "--include_path",
                str(task_dir),
                "--output_path",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--device 'tpu9'" in err
    assert main(["--model", "dummy", "--batch_size", "zero"]) == 2
    assert "batch_size" in capsys.readouterr().err


def test_ls_and_validate(task_dir, capsys):
    assert main(["ls", "tasks", "--include_path", str(task_dir)]) == 0
    assert "arith_open" in capsys.readouterr().out
    assert main(["ls", "models"]) == 0
    assert "dummy" in capsys.readouterr().out.split()
    assert main(["validate", str(task_dir)]) == 0
    assert "ok: 2 task(s), 1 group(s)" in capsys.readouterr().out
    (task_dir / "broken.yaml").write_text("task: x\nversion: 1\n")
    assert main(["validate", str(task_dir)]) == 2
    assert "broken.yaml" in capsys.readouterr().err


def test_the_recorded_command_is_the_argv_main_was_given(task_dir, tmp_path, monkeypatch):
    from modgap_eval.results import read_results

    monkeypatch.setattr("sys.argv", ["pytest", "--something-else"])
    argv = [
        "--model",
        "dummy",
        "--tasks",
        "arith",
        "--include_path",
        str(task_dir),
        "--output_path",
        str(tmp_path / "o"),
        "--no_progress",
        "--bootstrap_iters",
        "20",
        "--representations",
        "off",
    ]
    assert main(argv) == 0
    (results,) = (tmp_path / "o").glob("dummy/*/results.json")
    assert read_results(results).envelope.command == ["modgap-eval", *argv]
