"""The recipe's stages on small stand-ins: texts from a fake BIG-bench sdist, training on fake shards, evaluation.

Each stage runs as the command runs it; only what would need the network, the real sdist or real
weights is replaced (the sdist by a tiny archive, the LM by a tiny random one, the task index by a
tiny task folder).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import asdict
from pathlib import Path

import pytest

from modgap_eval.errors import DataError
from modgap_eval.reference import corpus, recipe
from modgap_eval.tasks import bigbench

EVALUATION = [
    "Which planet in the solar system has the largest number of moons today?",
    "Is it true that water boils at a lower temperature on a high mountain?",
]
COPY = "Which planet in the solar system has the biggest number of moons today?"
"""A near duplicate of the first evaluation item (one word changed): must never be trained on."""
LATER = "The old baker sold fresh bread to every family in the quiet village."
"""A clean sentence that a stricter exclusion rule added later refuses."""
NOUNS = "river school house garden teacher city market forest doctor window bridge kitchen".split()


def clean_sentences(n: int) -> list[str]:
    return [
        f"The {NOUNS[i % 12]} near the {NOUNS[(i * 5 + 1) % 12]} was {('quiet', 'busy', 'old')[i % 3]} in {1900 + i}."
        for i in range(n)
    ]


def write_sdist(path: Path, tasks: dict[str, list[str]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, inputs in tasks.items():
            data = json.dumps({"examples": [{"input": text} for text in inputs]}).encode()
            info = tarfile.TarInfo(f"bigbench-1.0.0/bigbench/benchmark_tasks/{name}/task.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_make_texts_excludes_evaluation_items_and_keeps_its_pool_honest(tmp_path, monkeypatch):
    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    evaluation = list(EVALUATION)
    monkeypatch.setattr(corpus, "evaluation_texts", lambda tasks: evaluation)
    clean = clean_sentences(40)
    archive = write_sdist(
        tmp_path / "bb.tar.gz",
        {"alpha": [*clean[:30], COPY, LATER], "beta": clean[30:], "physics": ["The evaluated task is skipped here."]},
    )
    monkeypatch.setattr(bigbench, "sdist_path", lambda: archive)
    train, heldout, facts = recipe.make_texts(recipe.RecipeOptions(run="a", clips=30, heldout=6))
    assert len(train) == 30 and len(heldout) == 6 and not set(train) & set(heldout)
    assert set(train) | set(heldout) <= {*clean, LATER}
    assert facts["near_duplicates_removed"] == 1 and facts["candidate_sentences"] == 41
    assert facts["evaluation_texts_indexed"] == 2 and "physics" in facts["excluded_tasks"]
    assert facts["texts_sha256"] == hashlib.sha256(json.dumps([train, heldout]).encode()).hexdigest()
    assert recipe.make_texts(recipe.RecipeOptions(run="a", clips=30, heldout=6)) == (train, heldout, facts)

    # Another run reads the cached pool (the sdist is gone) but applies the exclusion test again.
    archive.unlink()
    evaluation.append("The old baker sold fresh bread to each family in the quiet village.")
    train, heldout, facts = recipe.make_texts(recipe.RecipeOptions(run="b", clips=30, heldout=6))
    assert facts["near_duplicates_removed"] == 2 and facts["candidate_sentences"] == 40
    assert LATER not in train + heldout
    with pytest.raises(DataError, match="only 40 usable training sentences; asked for 46"):
        recipe.make_texts(recipe.RecipeOptions(run="c", clips=40, heldout=6))


def test_train_stage_trains_on_the_shards_made_so_far(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from transformers import AutoTokenizer

    from modgap_eval.models import offline
    from modgap_eval.models.paper_lslm import load_checkpoint
    from modgap_eval.reference.ctc import token_targets
    from tests.models.tiny import build_tiny_causal_lm

    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    lm = build_tiny_causal_lm(tmp_path / "lm")
    monkeypatch.setattr(offline, "resolve_pretrained", lambda name: lm)
    options = recipe.RecipeOptions(
        run="t",
        steps=4,
        batch_size=3,
        negatives=5,
        checkpoint_steps=(2,),
        eval_every=2,
        max_shards=1,
        adapter_hidden=16,
        progress=False,
    )
    with pytest.raises(DataError, match="run the speech stage first"):
        recipe.train_stage(options, {})
    generator = torch.Generator().manual_seed(0)
    texts = [f"{w} {v} the {x}." for w, v, x in zip(NOUNS, NOUNS[3:], NOUNS[5:])]
    lengths = [200] * (len(texts) - 1) + [5]  # the last clip is too short for its tokens: dropped
    shard = {"frames": [torch.randn(n, 32, generator=generator).half() for n in lengths], "texts": texts}
    for folder in ("train", "heldout"):
        (recipe.run_dir(options) / folder).mkdir(parents=True)
        torch.save(shard, recipe.run_dir(options) / folder / "shard-00000.pt")
    torch.save({"frames": [], "texts": []}, recipe.run_dir(options) / "train" / "shard-00001.pt")  # max_shards=1

    log = recipe.train_stage(options, {"texts_sha256": "x"})
    assert [entry["step"] for entry in log] == [2, 4]
    tokenizer = AutoTokenizer.from_pretrained(lm)
    vocab = sorted({t for text in texts[:-1] for t in token_targets(tokenizer, text)})
    config, weights = load_checkpoint(recipe.run_dir(options) / "checkpoints" / "final")
    assert (config.encoder, config.lm, config.encoder_dim, config.lm_dim) == (recipe.ENCODER, recipe.LM, 32, 64)
    assert config.ctc_vocab_size == len(vocab) and weights["vocab_ids"].tolist() == vocab
    assert config.notes["train_clips"] == len(texts) - 1 and config.notes["train_shards"] == 1
    assert config.notes["step"] == 4 and config.notes["train_config"]["negatives"] == 5
    assert load_checkpoint(recipe.run_dir(options) / "checkpoints" / "step-2")[0].notes["step"] == 2
    saved = json.loads((recipe.run_dir(options) / "recipe.json").read_text())
    assert saved["notes"]["data"] == {"texts_sha256": "x"} and saved["options"]["steps"] == 4
    assert saved["options"] == json.loads(json.dumps(asdict(options)))


def test_evaluate_stage_scores_text_once_and_each_checkpoints_speech(tmp_path, task_dir, monkeypatch):
    pytest.importorskip("torch")
    from modgap_eval.models.base import RuntimeOptions
    from modgap_eval.models.paper_lslm import PaperLSLM
    from modgap_eval.reference import evaluate
    from modgap_eval.tasks import loader
    from modgap_eval.types import Modality
    from tests.models.test_paper_lslm import build_checkpoint

    discover = loader.discover
    monkeypatch.setattr(loader, "discover", lambda: discover([task_dir], builtin=False))
    folders = []
    for seed, name in ((2, "step-1"), (3, "final")):
        folder, _ = build_checkpoint(tmp_path / "models", "ctc-embeddings", seed=seed)
        folders.append(folder.rename(folder.parent / name))
    report = recipe.evaluate_stage(folders, "arith_all", limit=3, progress=False)

    items = evaluate.multiple_choice_items("arith_all", 3, False)
    assert report["items"] == len(items) == 3 and {task.name for task, _, _ in items} == {"arith"}
    for folder in folders:
        model = PaperLSLM.from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=2))
        alone = evaluate.summarise(evaluate.evaluate(model, items, [Modality.TEXT, Modality.SPEECH], False))
        entry = report["checkpoints"][folder.name]
        assert entry["speech_acc_micro"] == alone["speech_acc_micro"]
        assert entry["question_wer"] == alone["question_wer"]
        assert entry["gap_micro"] == report["text"]["text_acc_micro"] - alone["speech_acc_micro"]
        assert report["text"]["text_acc_micro"] == alone["text_acc_micro"]  # the LM alone: every checkpoint's
        assert "text_acc_micro" not in entry and entry["step"] is None
        model.close()
