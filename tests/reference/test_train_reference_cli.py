"""``modgap-eval train-reference``: registered, documented, and bad arguments fail cleanly."""

from __future__ import annotations

import pytest

from modgap_eval.cli import build_command_parser, main


def test_command_is_registered_with_its_stages():
    parser, names = build_command_parser()
    assert "train-reference" in names
    args = parser.parse_args(["train-reference", "--stage", "train", "--steps", "5", "--device", "cuda"])
    assert (args.stage, args.steps, args.device) == ("train", 5, "cuda")


def test_bad_checkpoint_steps_is_a_one_line_error(capsys):
    assert main(["train-reference", "--stage", "text", "--checkpoint_steps", "10,x"]) == 2
    assert "--checkpoint_steps" in capsys.readouterr().err


def test_unknown_stage_is_refused():
    with pytest.raises(SystemExit):
        main(["train-reference", "--stage", "nonsense"])
