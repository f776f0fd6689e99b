"""Train the reference LSLM's adapter: CTC from frozen Whisper frames onto the frozen LM's embedding rows.

The adapter (×5 stacking, Linear-ReLU-Linear) maps encoder frames into the LM's width and is trained
with CTC on the sentence's LM tokens (the objective, its sampled negatives and the held-out WER are
``ctc``'s). Seeded, resumable from ``state.pt``, checkpoints at set steps, a JSONL log of loss,
learning rate and held-out greedy WER.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from modgap_eval.errors import ConfigError
from modgap_eval.models.paper_lslm import PaperLSLMConfig, SpeechAdapter, save_checkpoint
from modgap_eval.reference.ctc import Example, adapter_vocab, ctc_step, evaluate_wer


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 600
    batch_size: int = 32
    lr: float = 1.5e-3
    warmup: int = 30
    weight_decay: float = 0.01
    negatives: int = 3000
    """Non-target tokens sampled per batch (0 scores the whole vocabulary)."""
    checkpoint_steps: tuple[int, ...] = (25, 50, 100, 200, 400)
    eval_every: int = 100
    seed: int = 0
    device: str = "cpu"


@dataclass
class TrainState:
    settings: dict
    """What the run shares with any run that resumes it (``resume_settings``)."""
    step: int = 0
    log: list[dict] = field(default_factory=list)


def batches(examples: Sequence[Example], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (less padding), in a seeded random order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].frames), rng.random()))
    groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(groups)
    return groups


def resume_settings(model_config: PaperLSLMConfig, config: TrainConfig) -> dict:
    """What a saved state must share with the run that resumes it (the schedule and the adapter's shape)."""
    shape = model_config.model_dump(exclude={"notes"})
    return {
        "train": {k: list(v) if isinstance(v, tuple) else v for k, v in config.__dict__.items() if k != "device"},
        "adapter": shape,
    }


def check_resumable(state_path: Path, saved: dict | None, wanted: dict) -> None:
    """A state saved under other settings would silently continue a different schedule: refuse it."""
    if saved is None or saved == wanted:
        return
    changed = sorted(
        f"{part}.{key}: saved {saved.get(part, {}).get(key)!r}, asked {wanted[part].get(key)!r}"
        for part in wanted
        for key in wanted[part].keys() | saved.get(part, {}).keys()
        if saved.get(part, {}).get(key) != wanted[part].get(key)
    )
    raise ConfigError(
        f"{state_path}: cannot resume a training saved with other settings ({'; '.join(changed)}); "
        f"use the saved settings, another --run, or move {state_path.name} away to start afresh"
    )


def learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train(
    model_config: PaperLSLMConfig,
    vocab_ids: torch.Tensor,
    embeddings: torch.Tensor,
    examples: Sequence[Example],
    held_out: Sequence[Example],
    tokenizer: Any,
    config: TrainConfig,
    work_dir: Path,
    checkpoint_dir: Path,
    notes: dict,
    progress: bool = True,
    stop_after: int | None = None,
) -> list[dict]:
    """Run (or resume) training; write checkpoints ``step-N`` and ``final`` to ``checkpoint_dir``.

    ``stop_after`` ends this session after that many steps (state saved; run again to resume).
    """
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    work_dir.mkdir(parents=True, exist_ok=True)
    adapter, optimizer = _build(model_config, vocab_ids, config)
    embeddings = embeddings.to(config.device)
    state = _resume(work_dir / "state.pt", resume_settings(model_config, config), adapter, optimizer)
    plan = _schedule(examples, config)
    position = {int(t): i for i, t in enumerate(vocab_ids.tolist())}
    bar = tqdm(total=config.steps, initial=state.step, desc="train adapter (CTC)", unit="step", disable=not progress)
    started = time.time()
    window: list[float] = []
    session_end = config.steps if stop_after is None else min(config.steps, state.step + stop_after)
    while state.step < session_end:
        batch = [examples[i] for i in plan[state.step]]
        window.append(_optimise(adapter, optimizer, embeddings, batch, config, state.step, position))
        state.step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{sum(window[-20:]) / len(window[-20:]):.3f}")
        is_checkpoint = state.step in config.checkpoint_steps or state.step == config.steps
        if is_checkpoint or state.step % config.eval_every == 0 or state.step == session_end:
            wer, hyps = evaluate_wer(adapter, embeddings, held_out, tokenizer, config.device)
            entry = _log_entry(state.step, window, config, wer, hyps, started)
            window = []
            _log(state, entry, work_dir / "train_log.jsonl", bar.write)
            if is_checkpoint:
                _checkpoint(checkpoint_dir, model_config, adapter, config, notes, state.step, wer)
            _save_state(work_dir / "state.pt", adapter, optimizer, state)
    bar.close()
    return state.log


def _build(
    model_config: PaperLSLMConfig, ids: torch.Tensor, config: TrainConfig
) -> tuple[SpeechAdapter, torch.optim.Optimizer]:
    """A fresh adapter on ``config.device`` in train mode, and its AdamW over the trainable parameters."""
    adapter = SpeechAdapter(model_config)
    adapter_vocab(adapter).copy_(ids)
    adapter.to(config.device).train()
    optimizer = torch.optim.AdamW(
        [p for p in adapter.parameters() if p.requires_grad], lr=config.lr, weight_decay=config.weight_decay
    )
    return adapter, optimizer


def _resume(state_path: Path, settings: dict, adapter: SpeechAdapter, optimizer: torch.optim.Optimizer) -> TrainState:
    """Load a saved state into the adapter and optimizer (refusing other settings), or start at step 0."""
    if not state_path.is_file():
        return TrainState(settings)
    saved = torch.load(state_path, weights_only=False)
    check_resumable(state_path, saved.get("settings"), settings)
    adapter.load_state_dict(saved["adapter"])
    optimizer.load_state_dict(saved["optimizer"])
    return TrainState(settings, saved["step"], saved["log"])


def _save_state(state_path: Path, adapter: SpeechAdapter, optimizer: torch.optim.Optimizer, state: TrainState) -> None:
    """What a resumed run needs: weights, optimiser moments, step and log, and the settings it must share."""
    saved = {"adapter": adapter.state_dict(), "optimizer": optimizer.state_dict(), "step": state.step}
    torch.save(saved | {"log": state.log, "settings": state.settings}, state_path)


def _schedule(examples: Sequence[Example], config: TrainConfig) -> list[list[int]]:
    """The whole schedule of batches, fixed by the seed: a resumed run takes the same batches."""
    rng = random.Random(config.seed)
    plan: list[list[int]] = []
    while len(plan) < config.steps:
        plan.extend(batches(examples, config.batch_size, rng))
    return plan


def _optimise(
    adapter: SpeechAdapter,
    optimizer: torch.optim.Optimizer,
    embeddings: torch.Tensor,
    batch: Sequence[Example],
    config: TrainConfig,
    step: int,
    position: dict[int, int],
) -> float:
    """One optimiser step at ``step``'s learning rate; returns the batch's loss."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, config)
    # one generator per step: a resumed run draws exactly the negatives an uninterrupted one would
    sampler = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    loss = ctc_step(adapter, embeddings, batch, config.negatives, sampler, config.device, position)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(adapter.parameters(), 1.0)
    optimizer.step()
    return float(loss.detach())


def _log_entry(
    step: int, window: list[float], config: TrainConfig, wer: float, hyps: list[str], started: float
) -> dict:
    """The log line after ``step``: mean loss since the last line, the step's learning rate, held-out WER."""
    return {
        "step": step,
        "loss": sum(window) / len(window),
        "lr": learning_rate(step - 1, config),
        "heldout_wer": wer,
        "elapsed_s": round(time.time() - started, 1),
        "example": hyps[:2],
    }


def _log(state: TrainState, entry: dict, log_path: Path, write: Callable[[str], None]) -> None:
    """Keep ``entry`` in the state, append it to the JSONL log and ``write`` its short line."""
    state.log.append(entry)
    with log_path.open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    write(f"step {entry['step']}: loss {entry['loss']:.3f} held-out WER {entry['heldout_wer']:.3f}")


def _checkpoint(
    checkpoint_dir: Path,
    model_config: PaperLSLMConfig,
    adapter: SpeechAdapter,
    config: TrainConfig,
    notes: dict,
    step: int,
    wer: float | None,
) -> None:
    """Save the adapter (float16) as ``step-N`` or ``final``, with the run's notes, step, WER and settings."""
    name = "final" if step == config.steps else f"step-{step}"
    train_config = config.__dict__ | {"checkpoint_steps": list(config.checkpoint_steps)}
    entry = {**notes, "step": step, "heldout_wer": wer, "train_config": train_config}
    save_checkpoint(
        checkpoint_dir / name, model_config.model_copy(update={"notes": entry}), adapter, dtype=torch.float16
    )
