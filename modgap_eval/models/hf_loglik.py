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

from modgap_eval.models.hf_common import Padded, Row, pad_rows
from modgap_eval.types import Loglikelihood, Prompt


@dataclass(frozen=True)
class Scored:
    """One prompt to score: the prompt, the intervention and its continuations' token ids."""

    prompt: Prompt
    intervention: Any
    continuations: tuple[tuple[int, ...], ...]


def forward_arguments(model: Any) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


def cache_keyword(model: Any) -> str:
    """The KV cache's name in forward's arguments and outputs (renamed in transformers 5.2x)."""
    return "cache" if "cache" in forward_arguments(model) else "past_key_values"


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
    if "logits_to_keep" in forward_arguments(engine.model):
        inputs["logits_to_keep"] = 1  # only the last position's vocabulary projection is needed
    with engine.taps.active(edits=engine.gather_edits(items, padded), keep_inputs=engine.keep_for(prompts, padded)):
        out = engine.model(**inputs, use_cache=True)
    engine.remember(prompts, engine.taps)
    # Left padding: every row's last prompt token sits at the last position.
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
    scores = [[float(first[i, ids[0]]) for ids in it.continuations] for i, it in enumerate(items)]
    tails = [(i, k) for i, it in enumerate(items) for k, ids in enumerate(it.continuations) if len(ids) > 1]
    if tails:
        cache = out[cache_keyword(engine.model)]
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
    # Right-padded: a row's real tokens come first, right after its prompt's cached positions.
    tails = pad_rows([Row(c[:-1], range(0)) for c in continuations], engine.pad_id, "right", str(device))
    prompt_mask = padded.attention_mask[index]
    positions = prompt_mask.sum(-1, keepdim=True) + torch.arange(tails.input_ids.shape[1], device=device)[None]
    logits = engine.model(
        input_ids=tails.input_ids,
        attention_mask=torch.cat([prompt_mask, tails.attention_mask], -1),
        position_ids=positions,
        use_cache=True,
        **{cache_keyword(engine.model): cache},
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
