"""Log-likelihoods of continuations for the HF engine: one shared prefill per prompt, or full rows.

Continuations are tokenized on their own and appended after the generation prompt; their
log-probabilities are summed in natural log. ``shared_prefill`` runs a prompt once for all its
continuations: the prefill's last position scores every first token, and the remaining tokens of
all continuations run as one batch on the prompt's gathered KV cache. ``full_rows`` runs one full
row per (prompt, continuation), for families that derive their own positions (``own_positions``),
whose position state cannot follow a gathered cache. Both give the same numbers (tested).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from modgap_eval.models.hf_common import Padded
from modgap_eval.types import Loglikelihood, Prompt


@dataclass(frozen=True)
class Scored:
    """One prompt to score: the prompt, the intervention and its continuations' token ids."""

    prompt: Prompt
    intervention: Any
    continuations: tuple[tuple[int, ...], ...]


def forward_arguments(model: Any) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


@torch.inference_mode()
def shared_prefill(engine: Any, items: Sequence[Scored]) -> list[Loglikelihood]:
    """One prefill per prompt scores every continuation's first token; the rest continue from its KV cache.

    The prompt is the expensive part (speech especially): it runs once however many options a
    question has, and all continuations' remaining tokens run as one batch on the gathered cache.
    """
    prompts = [it.prompt for it in items]
    engine.prepare_for(prompts)
    encoded = engine.encode(prompts)
    padded = engine.pad(encoded.rows)
    inputs = engine.forward_inputs(padded, encoded)
    arguments = forward_arguments(engine.model)
    if "logits_to_keep" in arguments:
        inputs["logits_to_keep"] = 1  # only the last position's vocabulary projection is needed
    with engine.taps.active(edits=engine.gather_edits(items, padded), keep_inputs=engine.keep_for(prompts, padded)):
        out = engine.model(**inputs, use_cache=True)
    engine.remember(prompts, engine.taps)
    # Left padding: every row's last prompt token sits at the last position.
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
    scores = [[float(first[i, ids[0]]) for ids in it.continuations] for i, it in enumerate(items)]
    tails = [(i, k) for i, it in enumerate(items) for k, ids in enumerate(it.continuations) if len(ids) > 1]
    if tails:
        cache = out["cache" if "cache" in arguments else "past_key_values"]  # renamed in transformers 5.2x
        rest = continue_from_cache(
            engine, cache, padded, [i for i, _ in tails], [items[i].continuations[k] for i, k in tails]
        )
        for (i, k), value in zip(tails, rest):
            scores[i][k] += value
    return [Loglikelihood(tuple(s), tuple(len(ids) for ids in it.continuations)) for s, it in zip(scores, items)]


def continue_from_cache(
    engine: Any, cache: Any, padded: Padded, rows: list[int], continuations: list[tuple[int, ...]]
) -> list[float]:
    """Summed log-probs of tokens 2..n of each continuation, fed after prompt row ``rows[j]``'s cache."""
    device = padded.input_ids.device
    index = torch.tensor(rows, dtype=torch.long, device=device)
    cache.reorder_cache(index)  # gathers (and repeats) batch rows: one cache row per continuation
    width = max(len(ids) - 1 for ids in continuations)
    ids = torch.full((len(rows), width), engine.pad_id, dtype=torch.long)
    tail_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, continuation in enumerate(continuations):  # right-padded: a row's real tokens come first
        ids[j, : len(continuation) - 1] = torch.tensor(continuation[:-1])
        tail_mask[j, : len(continuation) - 1] = 1
    prompt_mask = padded.attention_mask[index]
    positions = prompt_mask.sum(-1, keepdim=True) + torch.arange(width, device=device)[None]
    name = "cache" if "cache" in forward_arguments(engine.model) else "past_key_values"
    logits = engine.model(
        input_ids=ids.to(device),
        attention_mask=torch.cat([prompt_mask, tail_mask.to(device)], -1),
        position_ids=positions,
        use_cache=True,
        **{name: cache},
    ).logits
    logp = torch.log_softmax(logits.float(), dim=-1)
    return [
        float(logp[j, torch.arange(len(c) - 1), torch.tensor(c[1:], device=device)].sum())
        for j, c in enumerate(continuations)
    ]


@torch.inference_mode()
def full_rows(engine: Any, items: Sequence[Scored]) -> list[Loglikelihood]:
    """One full row per (prompt, continuation), for models that derive their own positions (M-RoPE)."""
    flat = [(it, ids) for it in items for ids in it.continuations]
    engine.prepare_for([it.prompt for it in items])
    encoded = engine.encode([it.prompt for it, _ in flat], [ids for _, ids in flat])
    padded = engine.pad(encoded.rows)
    prompts = [it.prompt for it, _ in flat]
    with engine.taps.active(
        edits=engine.gather_edits([it for it, _ in flat], padded), keep_inputs=engine.keep_for(prompts, padded)
    ):
        logits = engine.model(**engine.forward_inputs(padded, encoded)).logits
    engine.remember(prompts, engine.taps)
    width = padded.input_ids.shape[1]
    sums = []
    for i, (_, ids) in enumerate(flat):
        n = len(ids)
        # Left padding: every row ends at ``width``; token t is predicted at position t - 1.
        step = torch.log_softmax(logits[i, width - n - 1 : width - 1].float(), dim=-1)
        sums.append(float(step.gather(-1, padded.input_ids[i, width - n :].unsqueeze(-1)).sum()))
    out, k = [], 0
    for it in items:
        out.append(Loglikelihood(tuple(sums[k : k + len(it.continuations)]), tuple(len(c) for c in it.continuations)))
        k += len(it.continuations)
    return out
