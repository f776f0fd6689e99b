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


def test_plain_command_reproduces_the_shipped_recipe():
    """`modgap-eval train-reference` with no options trains exactly what ships (its recipe.json)."""
    import json
    from dataclasses import asdict

    from modgap_eval.commands.train_reference import recipe_options
    from modgap_eval.reference.recipe import SHIPPED_DIR

    shipped = json.loads((SHIPPED_DIR / "recipe.json").read_text())["options"]
    parser, _ = build_command_parser()
    options = asdict(recipe_options(parser.parse_args(["train-reference"])))
    options = {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    assert {k: v for k, v in options.items() if k != "progress"} == {
        k: v for k, v in shipped.items() if k != "progress"
    }
