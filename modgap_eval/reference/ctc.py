"""The adapter's CTC objective: training examples, the sampled-softmax loss of a batch, greedy decoding, WER.

The adapter's output is scored against the LM's input-embedding rows of its CTC vocabulary plus a
learned blank (``paper_lslm.SpeechAdapter.ctc_logits``). To keep a training step cheap on a CPU, a
batch scores its own targets plus a uniform sample of the other tokens, with the sampled-softmax
correction log(N/k) on the sampled logits; decoding and held-out WER score the whole vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from modgap_eval.models.paper_lslm import SpeechAdapter
from modgap_eval.wer import word_error_rate


@dataclass
class Example:
    frames: torch.Tensor
    """Encoder frames ``[T, d_enc]`` (float16 in memory)."""
    targets: list[int]
    text: str


def token_targets(tokenizer: Any, text: str) -> list[int]:
    """The LM tokens a spoken sentence should become (with the leading space of mid-prompt text)."""
    return tokenizer(" " + text.strip(), add_special_tokens=False)["input_ids"]


def adapter_vocab(adapter: SpeechAdapter) -> torch.Tensor:
    """The adapter's CTC vocabulary (LM token ids); a registered buffer, which torch types as Tensor | Module."""
    ids = adapter.vocab_ids
    assert isinstance(ids, torch.Tensor)
    return ids


def greedy_decode(logits: torch.Tensor, vocab_ids: torch.Tensor) -> list[int]:
    """CTC greedy path: best class per frame, repeats merged, blanks (0) dropped → LM token ids."""
    best = logits.argmax(-1).tolist()
    out, previous = [], 0
    for cls in best:
        if cls != previous and cls != 0:
            out.append(int(vocab_ids[cls - 1]))
        previous = cls
    return out


def transcribe(adapter: SpeechAdapter, frames: torch.Tensor, embeddings: torch.Tensor, tokenizer: Any) -> str:
    """The greedy CTC transcript of one clip's encoder frames (what the LM is given, as text)."""
    logits = adapter.ctc_logits(adapter(frames), embeddings)
    return tokenizer.decode(greedy_decode(logits, adapter_vocab(adapter)))


@torch.no_grad()
def evaluate_wer(
    adapter: SpeechAdapter, embeddings: torch.Tensor, examples: Sequence[Example], tokenizer: Any, device: str
) -> tuple[float, list[str]]:
    """Held-out WER of the greedy transcripts over the whole vocabulary, and the transcripts."""
    adapter.eval()
    hypotheses = [transcribe(adapter, ex.frames.to(device, torch.float32), embeddings, tokenizer) for ex in examples]
    adapter.train()
    return word_error_rate([ex.text for ex in examples], hypotheses), hypotheses


def sampled_columns(
    vocab_size: int, wanted: list[int], negatives: int, rng: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(vocabulary columns to score, logit correction per column): the targets, plus ``negatives`` others.

    With ``negatives`` 0, or a vocabulary too small to sample from, every column, uncorrected.
    """
    if not negatives or vocab_size <= len(wanted) + negatives:
        return torch.arange(vocab_size), torch.zeros(vocab_size)
    mask = torch.ones(vocab_size, dtype=torch.bool)
    mask[wanted] = False
    pool = mask.nonzero().squeeze(1)
    sampled = pool[torch.randperm(len(pool), generator=rng)[:negatives]]
    correction = torch.full((len(sampled),), math.log(len(pool) / len(sampled)))
    return torch.cat([torch.tensor(wanted), sampled]), torch.cat([torch.zeros(len(wanted)), correction])


def ctc_step(
    adapter: SpeechAdapter,
    embeddings: torch.Tensor,
    batch: Sequence[Example],
    negatives: int,
    rng: torch.Generator,
    device: str,
    position: dict[int, int],
) -> torch.Tensor:
    """Mean CTC loss (per target token) of one batch over its targets plus sampled negative tokens.

    ``position`` maps an LM token id to its index in ``adapter.vocab_ids``.
    """
    vocab = adapter_vocab(adapter).cpu()
    wanted = sorted({position[t] for ex in batch for t in ex.targets})
    columns, correction = sampled_columns(len(vocab), wanted, negatives, rng)
    column_of = {int(c): k for k, c in enumerate(columns.tolist())}
    rows = embeddings[vocab[columns].to(embeddings.device)]
    lengths = [len(ex.frames) // adapter.stack for ex in batch]
    frames = torch.zeros(len(batch), max(lengths) * adapter.stack, batch[0].frames.shape[1])
    for i, ex in enumerate(batch):
        frames[i, : len(ex.frames)] = ex.frames.float()
    out = adapter(frames.to(device))
    logits = torch.cat(
        [(out @ adapter.blank + adapter.blank_bias).unsqueeze(-1), out @ rows.T + correction.to(device)], dim=-1
    )
    log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)
    targets = torch.tensor([1 + column_of[position[t]] for ex in batch for t in ex.targets], dtype=torch.long)
    target_lengths = torch.tensor([len(ex.targets) for ex in batch], dtype=torch.long)
    return torch.nn.functional.ctc_loss(
        log_probs, targets, torch.tensor(lengths), target_lengths, blank=0, reduction="mean", zero_infinity=True
    )
