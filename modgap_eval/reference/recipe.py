"""The reference LSLM recipe end to end: text → speech → cached encoder frames → CTC adapter → checkpoints.

Stages (each resumable, all under ``cache_dir("reference", <run>)``):

1. ``text``: BIG-bench sentences minus the evaluated tasks and near duplicates of any evaluation
   item (``corpus``), chosen for vocabulary coverage; a disjoint held-out set for WER.
2. ``speech``: TTS in several voices, Whisper tiny.en encoder frames cached once per clip (``data``).
3. ``train``: the adapter learns CTC onto SmolLM2's embedding rows (``train``); checkpoints are
   written as paper-lslm folders whose encoder and LM are referenced by name (offline sources).
4. ``ship`` copies them into the package; ``evaluate`` checks each on multiple-choice tasks (``evaluate``).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modgap_eval.errors import DataError
from modgap_eval.paths import BUILTIN_TASKS_DIR, cache_dir

if TYPE_CHECKING:
    import torch

    from modgap_eval.reference import corpus
    from modgap_eval.reference.ctc import Example
    from modgap_eval.reference.train import TrainConfig

ENCODER = "openai/whisper-tiny.en"
LM = "HuggingFaceTB/SmolLM2-135M-Instruct"
SHIPPED_DIR = Path(__file__).resolve().parent / "checkpoints"


@dataclass(frozen=True)
class RecipeOptions:
    """The recipe's settings; the defaults are those of the shipped checkpoints (``checkpoints/recipe.json``)."""

    run: str = "v1"
    clips: int = 20_000
    heldout: int = 200
    seed: int = 0
    adapter_hidden: int = 1024
    stack: int = 5
    workers: int = 2
    steps: int = 6000
    batch_size: int = 32
    lr: float = 2e-3
    negatives: int = 3000
    checkpoint_steps: tuple[int, ...] = (25, 100, 250, 500, 1000, 2500)
    eval_every: int = 500
    device: str = "cpu"
    max_shards: int | None = None
    """Train on the first N speech shards only (data still being made, or a time budget)."""
    progress: bool = True


def run_dir(options: RecipeOptions) -> Path:
    return cache_dir("reference", options.run)


def make_texts(options: RecipeOptions) -> tuple[list[str], list[str], dict]:
    """(training texts, held-out texts, facts) — cached as JSON in the run folder."""
    from modgap_eval.reference import corpus

    path = run_dir(options) / "texts.json"
    if path.is_file():
        data = json.loads(path.read_text())
        return data["train"], data["heldout"], data["facts"]
    tasks = corpus.evaluated_bigbench_tasks(BUILTIN_TASKS_DIR)
    evaluation = corpus.evaluation_texts(tasks)
    index = corpus.ExclusionIndex.build(evaluation)
    total = options.clips + options.heldout
    pool, excluded = usable_pool(index, tasks)
    texts = corpus.select_for_coverage(pool, total, options.seed)
    if len(texts) < total:
        raise DataError(f"only {len(texts)} usable training sentences; asked for {total}")
    rng = random.Random(options.seed + 1)
    heldout_index = set(rng.sample(range(len(texts)), options.heldout))
    train = [t for i, t in enumerate(texts) if i not in heldout_index]
    heldout = [t for i, t in enumerate(texts) if i in heldout_index]
    vocabulary = {w for t in train for w in corpus.words(t)}
    facts = {
        "source": "BIG-bench 1.0.0 task inputs (sdist), sentences 5-22 words",
        "excluded_tasks": tasks,
        "evaluation_texts_indexed": len(index.texts),
        "near_duplicates_removed": excluded,
        "candidate_sentences": len(pool),
        "train_sentences": len(train),
        "heldout_sentences": len(heldout),
        "distinct_words": len(vocabulary),
        "train_words": sum(len(corpus.words(t)) for t in train),
        "texts_sha256": hashlib.sha256(json.dumps([train, heldout]).encode()).hexdigest(),
    }
    path.write_text(json.dumps({"train": train, "heldout": heldout, "facts": facts}))
    return train, heldout, facts


def usable_pool(index: corpus.ExclusionIndex, tasks: list[str]) -> tuple[list[str], int]:
    """The BIG-bench candidate sentences ``index`` does not exclude, and how many near duplicates were removed.

    The slow scan of the sdist is cached for all runs; the exclusion test is applied again on every use,
    so a cached pool never outlives a stricter rule.
    """
    from modgap_eval.reference import corpus
    from modgap_eval.tasks import bigbench

    pool_path = cache_dir("reference") / "pool.json"
    saved = json.loads(pool_path.read_text()) if pool_path.is_file() else None
    if saved is not None and saved["tasks"] == tasks:
        pool, excluded = saved["pool"], saved["excluded"]
    else:
        pool, excluded = corpus.candidate_pool(index, bigbench.sdist_path(), tasks)
        pool_path.write_text(json.dumps({"tasks": tasks, "pool": pool, "excluded": excluded}))
    kept = [s for s in pool if not index.excludes(s)]
    return kept, excluded + len(pool) - len(kept)


def make_speech(options: RecipeOptions, train: list[str], heldout: list[str]) -> tuple[list[Path], list[Path]]:
    from modgap_eval.models.offline import resolve_pretrained
    from modgap_eval.reference import data

    encoder = str(resolve_pretrained(ENCODER))
    held = data.build_shards(
        data.assign_voices(heldout, options.seed + 2),
        run_dir(options) / "heldout",
        encoder,
        options.stack,
        options.workers,
        options.progress,
    )
    jobs = data.assign_voices(train, options.seed + 3)
    if options.max_shards is not None:
        jobs = jobs[: options.max_shards * data.SHARD_SIZE]
    shards = data.build_shards(
        jobs, run_dir(options) / "train", encoder, options.stack, options.workers, options.progress
    )
    return shards, held


def lm_embeddings(folder: Path) -> torch.Tensor:
    """The LM's input-embedding matrix read straight from its weights file (no model built)."""
    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), "pt") as handle:
            for key in handle.keys():
                if key.endswith("embed_tokens.weight"):
                    return handle.get_tensor(key).float()
    raise DataError(f"{folder}: no embed_tokens.weight in the LM's safetensors files")


def train_stage(options: RecipeOptions, facts: dict, output: Path | None = None) -> list[dict]:
    """Train on the run's speech shards so far; checkpoints go to ``output`` (default: the run's ``checkpoints``)."""
    import torch
    from transformers import AutoTokenizer

    from modgap_eval.models.offline import resolve_pretrained
    from modgap_eval.models.paper_lslm import PaperLSLMConfig
    from modgap_eval.reference.train import train

    lm_folder = resolve_pretrained(LM)
    tokenizer = AutoTokenizer.from_pretrained(lm_folder)
    examples, held_out, shards = training_examples(options, tokenizer)
    vocab = sorted({t for ex in examples for t in ex.targets})
    embeddings = lm_embeddings(lm_folder)
    model_config = PaperLSLMConfig(
        encoder=ENCODER,
        lm=LM,
        encoder_dim=int(examples[0].frames.shape[1]),
        lm_dim=int(embeddings.shape[1]),
        stack=options.stack,
        adapter_hidden=options.adapter_hidden,
        lm_input="ctc-embeddings",
        ctc_vocab_size=len(vocab),
        encoder_window="clip",
    )
    work = run_dir(options)
    notes = {
        "recipe": "modgap_eval.reference (CTC onto the LM embedding matrix)",
        "run": options.run,
        "train_clips": len(examples),
        "train_shards": shards,
        "heldout_clips": len(held_out),
        "ctc_vocab_size": len(vocab),
        "data": facts,
    }
    (work / "recipe.json").write_text(json.dumps({"options": asdict(options), "notes": notes}, indent=2, default=str))
    return train(
        model_config,
        torch.tensor(vocab),
        embeddings,
        examples,
        held_out,
        tokenizer,
        train_config(options),
        work,
        output or work / "checkpoints",
        notes,
        options.progress,
    )


def training_examples(options: RecipeOptions, tokenizer: Any) -> tuple[list[Example], list[Example], int]:
    """The run's training and held-out examples, and how many training shards they came from."""
    from modgap_eval.reference.data import available_shards, load_examples

    shards = available_shards(run_dir(options) / "train", options.max_shards)
    held = available_shards(run_dir(options) / "heldout", None)
    if not shards or not held:
        raise DataError(f"no speech shards in {run_dir(options)}: run the speech stage first")
    return load_examples(shards, tokenizer), load_examples(held, tokenizer), len(shards)


def train_config(options: RecipeOptions) -> TrainConfig:
    """The trainer's settings that the recipe names (the same names); warm-up and weight decay keep their defaults."""
    from modgap_eval.reference.train import TrainConfig

    shared = {f.name for f in fields(TrainConfig)} & {f.name for f in fields(RecipeOptions)}
    return TrainConfig(**{name: getattr(options, name) for name in sorted(shared)})


def ship(options: RecipeOptions, target: Path = SHIPPED_DIR) -> list[Path]:
    """Copy the run's checkpoints and its training log into ``target`` (the package's shipped set)."""
    from modgap_eval.models.paper_lslm import CONFIG_FILE

    source = run_dir(options) / "checkpoints"
    if not source.is_dir():
        raise DataError(f"no checkpoints in {source}: run the train stage first")
    fresh = {p.name for p in source.iterdir() if p.is_dir()}
    if target.is_dir():  # a checkpoint of an earlier training must not pass for one of this run
        for stale in target.iterdir():
            if (stale / CONFIG_FILE).is_file() and stale.name not in fresh:
                shutil.rmtree(stale)
    copied = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        shutil.copytree(folder, target / folder.name, dirs_exist_ok=True)
        copied.append(target / folder.name)
    for name in ("train_log.jsonl", "recipe.json"):
        if (run_dir(options) / name).is_file():
            shutil.copy(run_dir(options) / name, target / name)
    return copied


def evaluate_stage(
    checkpoints: list[Path], group: str = "offline_default", limit: int | None = None, progress: bool = True
) -> dict:
    """Text accuracy once (the LM alone), then speech accuracy and question WER per checkpoint."""
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.models.paper_lslm import PaperLSLM
    from modgap_eval.reference import evaluate
    from modgap_eval.types import Modality

    items = evaluate.multiple_choice_items(group, limit, progress)
    report: dict = {"group": group, "items": len(items), "checkpoints": {}}
    front_end = None
    for i, folder in enumerate(checkpoints):
        model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=8))
        front_end = front_end or evaluate.CachedFrontEnd(model.part.front_end)
        model.part.front_end = front_end
        modalities = [Modality.TEXT, Modality.SPEECH] if i == 0 else [Modality.SPEECH]
        summary = evaluate.summarise(evaluate.evaluate(model, items, modalities, progress))
        if i == 0:
            report["text"] = evaluate.text_report(summary)
        notes = model.part.checkpoint.config.notes
        report["checkpoints"][folder.name] = evaluate.speech_report(summary, report["text"], notes)
        model.close()
        if progress:
            print(
                f"{folder.name}: speech {summary['speech_acc_micro']:.1f}%"
                f" (text {report['text']['text_acc_micro']:.1f}%,"
                f" chance {summary['chance_acc_micro']:.1f}%, p={summary['speech_above_chance_p']:.3g}),"
                f" question WER {summary['question_wer']}",
                flush=True,
            )
    return report
