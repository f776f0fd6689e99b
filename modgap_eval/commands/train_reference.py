"""``modgap-eval train-reference``: build the reference LSLM (text → speech → CTC adapter → checkpoints)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modgap_eval.reference.recipe import RecipeOptions

STAGES = ("text", "speech", "train", "ship", "evaluate", "all")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-reference",
        help="train (and evaluate) the reference LSLM's adapter "
        "(Whisper tiny.en encoder -> adapter -> SmolLM2) offline",
        description="Every stage is cached and resumable under $MODGAP_CACHE/reference/<run>. "
        "See modgap_eval/reference/checkpoints/MODEL_CARD.md for the recipe.",
    )
    from modgap_eval.reference.recipe import RecipeOptions  # light: no torch at import

    defaults, add = RecipeOptions(), parser.add_argument  # the recipe's defaults: the shipped checkpoints'
    add("--stage", choices=STAGES, default="all", help="run one stage, or all in order")
    add("--run", default=defaults.run, help=f"name of the run folder (default {defaults.run})")
    add("--clips", type=int, default=defaults.clips, help="training sentences to synthesise")
    add("--heldout", type=int, default=defaults.heldout, help="held-out sentences for WER")
    add("--max_shards", type=int, help="use only the first N shards of 500 clips")
    add("--adapter_hidden", type=int, default=defaults.adapter_hidden, help="width of the adapter's hidden layer")
    add("--steps", type=int, default=defaults.steps)
    add("--batch_size", type=int, default=defaults.batch_size)
    add("--lr", type=float, default=defaults.lr)
    add("--negatives", type=int, default=defaults.negatives, help="sampled non-target tokens per batch (0 = all)")
    add(
        "--checkpoint_steps",
        default=",".join(map(str, defaults.checkpoint_steps)),
        help="comma-separated steps to save",
    )
    add("--eval_every", type=int, default=defaults.eval_every)
    add("--workers", type=int, default=defaults.workers, help="TTS worker processes")
    add("--device", default=defaults.device, help="cpu or cuda")
    add("--seed", type=int, default=defaults.seed)
    add("--ship_to", help="folder for the ship stage (default: the package's checkpoints)")
    add("--eval_group", default="offline_default", help="task group for the evaluate stage")
    add("--eval_limit", type=int, help="items per task for the evaluate stage")
    add("--eval_output", help="JSON file for the evaluate stage's report")
    add("--no_progress", action="store_true")
    parser.set_defaults(func=run)


def recipe_options(args: argparse.Namespace) -> RecipeOptions:
    from dataclasses import fields

    from modgap_eval.errors import ConfigError
    from modgap_eval.reference import recipe

    try:
        steps = tuple(int(s) for s in args.checkpoint_steps.split(",") if s.strip())
    except ValueError as exc:
        raise ConfigError(
            f"--checkpoint_steps {args.checkpoint_steps!r} is not a comma-separated list of integers"
        ) from exc
    # every option named like a recipe field passes through by name; the others are converted here
    same_name = {f.name: getattr(args, f.name) for f in fields(recipe.RecipeOptions) if hasattr(args, f.name)}
    return recipe.RecipeOptions(**{**same_name, "checkpoint_steps": steps}, progress=not args.no_progress)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from modgap_eval.reference import recipe

    options = recipe_options(args)
    stages = STAGES[:-2] if args.stage == "all" else (args.stage,)
    for stage in stages:
        if stage == "text":
            _, _, facts = recipe.make_texts(options)
            print(f"texts: {facts}")
        elif stage == "speech":
            train_texts, heldout, _ = recipe.make_texts(options)
            shards, held = recipe.make_speech(options, train_texts, heldout)
            print(f"speech: {len(shards)} training shards, {len(held)} held-out shards in {recipe.run_dir(options)}")
        elif stage == "train":
            _, _, facts = recipe.make_texts(options)
            log = recipe.train_stage(options, facts)
            if log:
                print(f"trained to step {log[-1]['step']}: held-out WER {log[-1]['heldout_wer']:.3f}")
        elif stage == "ship":
            target = Path(args.ship_to) if args.ship_to else recipe.SHIPPED_DIR
            for folder in recipe.ship(options, target):
                print(f"shipped {folder}")
        elif stage == "evaluate":
            import json

            from modgap_eval.reference.model import shipped_checkpoints

            folders = [recipe.SHIPPED_DIR / name for name in shipped_checkpoints()]
            report = recipe.evaluate_stage(folders, args.eval_group, args.eval_limit, not args.no_progress)
            output = Path(args.eval_output) if args.eval_output else recipe.run_dir(options) / "evaluation.json"
            output.write_text(json.dumps(report, indent=2) + "\n")
            print(f"evaluation written to {output}")
    return 0
