"""The CTC adapter trainer on a synthetic task it can solve: learns, checkpoints, resumes exactly."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))

from modgap_eval.models.paper_lslm import PaperLSLMConfig, load_checkpoint  # noqa: E402
from modgap_eval.reference.ctc import Example, greedy_decode  # noqa: E402
from modgap_eval.reference.train import TrainConfig, train  # noqa: E402
from modgap_eval.wer import word_error_rate  # noqa: E402


class CharTokenizer:
    """Token id k <-> letter chr(97 + k): enough for decode() in the held-out WER."""

    def decode(self, ids):
        return " ".join(chr(97 + i) for i in ids)


def synthetic(n: int, seed: int, patterns: torch.Tensor) -> list[Example]:
    """Each target token is 10 encoder frames (2 stacked positions) of its own pattern, then 5 silent frames."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        tokens = torch.randint(0, len(patterns), (int(torch.randint(2, 5, (1,), generator=g)),), generator=g).tolist()
        frames = []
        for t in tokens:
            frames += [patterns[t].expand(10, -1), torch.zeros(5, patterns.shape[1])]
        frames = torch.cat(frames) + 0.05 * torch.randn(
            len(frames) * 0 + sum(f.shape[0] for f in frames), patterns.shape[1], generator=g
        )
        out.append(Example(frames.half(), [10 + t for t in tokens], " ".join(chr(97 + 10 + t) for t in tokens)))
    return out


def synthetic_setup():
    """(patterns, LM embeddings, adapter config, CTC vocabulary) of the synthetic task."""
    g = torch.Generator().manual_seed(0)
    patterns = torch.randn(6, 8, generator=g)
    embeddings = torch.randn(20, 16, generator=g)
    config = PaperLSLMConfig(
        encoder="enc",
        lm="lm",
        encoder_dim=8,
        lm_dim=16,
        stack=5,
        adapter_hidden=32,
        lm_input="ctc-embeddings",
        ctc_vocab_size=8,
    )
    vocab = torch.arange(10, 18)  # the 6 used tokens and 2 never seen
    return patterns, embeddings, config, vocab


@pytest.fixture(scope="module")
def setup():
    return synthetic_setup()


def run(setup, tmp_path, steps, stop_after=None, negatives=3, device="cpu"):
    patterns, embeddings, config, vocab = setup
    cfg = TrainConfig(
        steps=steps,
        batch_size=8,
        lr=1e-2,
        warmup=5,
        negatives=negatives,
        checkpoint_steps=(10,),
        eval_every=20,
        seed=3,
        device=device,
    )
    return train(
        config,
        vocab,
        embeddings,
        synthetic(64, 1, patterns),
        synthetic(16, 2, patterns),
        CharTokenizer(),
        cfg,
        tmp_path,
        tmp_path / "ckpt",
        {"test": True},
        progress=False,
        stop_after=stop_after,
    )


def test_learns_the_synthetic_task_and_checkpoints(setup, tmp_path):
    log = run(setup, tmp_path, steps=60)
    assert log[0]["step"] == 10 and log[-1]["step"] == 60
    assert log[-1]["heldout_wer"] < 0.1 < log[0]["heldout_wer"] or log[-1]["heldout_wer"] < 0.05
    assert log[-1]["loss"] < log[0]["loss"]
    for name in ("step-10", "final"):
        config, weights = load_checkpoint(tmp_path / "ckpt" / name)
        assert config.notes["test"] is True
        assert weights["proj_in.weight"].dtype == torch.float16
    assert json.loads((tmp_path / "train_log.jsonl").read_text().splitlines()[-1])["step"] == 60


def test_resumed_run_equals_uninterrupted(setup, tmp_path):
    run(setup, tmp_path / "a", steps=24)
    run(setup, tmp_path / "b", steps=24, stop_after=11)
    run(setup, tmp_path / "b", steps=24)
    _, a = load_checkpoint(tmp_path / "a" / "ckpt" / "final")
    _, b = load_checkpoint(tmp_path / "b" / "ckpt" / "final")
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_greedy_decode_and_wer():
    logits = torch.tensor([[0, 5, 0], [0, 5, 0], [5, 0, 0], [0, 5, 0], [0, 0, 5]], dtype=torch.float)
    assert greedy_decode(logits, torch.tensor([100, 200])) == [100, 100, 200]
    assert word_error_rate(["The cat, sat."], ["the cat sat"]) == 0.0
    assert word_error_rate(["a b c d"], ["a x c"]) == pytest.approx(0.5)


def test_ship_replaces_the_shipped_set_and_drops_stale_checkpoints(tmp_path, monkeypatch):
    from modgap_eval.reference import recipe

    monkeypatch.setenv("MODGAP_CACHE", str(tmp_path / "cache"))
    options = recipe.RecipeOptions(run="t")
    for name in ("step-10", "final"):
        folder = recipe.run_dir(options) / "checkpoints" / name
        folder.mkdir(parents=True)
        (folder / "lslm_config.json").write_text("{}")
    (recipe.run_dir(options) / "train_log.jsonl").write_text("{}\n")
    target = tmp_path / "shipped"
    for name in ("step-99", "final"):  # an earlier training's set
        (target / name).mkdir(parents=True)
        (target / name / "lslm_config.json").write_text("old")
    (target / "MODEL_CARD.md").write_text("card")
    copied = recipe.ship(options, target)
    assert sorted(p.name for p in copied) == ["final", "step-10"]
    assert sorted(p.name for p in target.iterdir()) == ["MODEL_CARD.md", "final", "step-10", "train_log.jsonl"]
    assert (target / "final" / "lslm_config.json").read_text() == "{}"


def test_resume_with_other_settings_is_refused_by_name(setup, tmp_path):
    from modgap_eval.errors import ConfigError

    run(setup, tmp_path, steps=24, stop_after=11)
    with pytest.raises(ConfigError, match=r"state\.pt: cannot resume .*train\.steps: saved 24, asked 30"):
        run(setup, tmp_path, steps=30)
    assert json.loads((tmp_path / "train_log.jsonl").read_text().splitlines()[-1])["step"] == 11
