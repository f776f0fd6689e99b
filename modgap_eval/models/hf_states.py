"""Hidden states for the HF engine: each prompt's content-span states, from a pass of their own.

States are never kept from a scoring prefill, so a resumed run's figures equal an uninterrupted
run's. Causal attention means nothing after the content changes its states, so the pass stops at
the content's end, and runs the decoder without the LM head. A family with
``reuse_audio_embeddings`` keeps a clip's audio embeddings (block 1's input over its span) from any
earlier pass; a later pass over the clip then runs the text decoder alone, without the processor
and the audio encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from modgap_eval.models.hf_common import Row
from modgap_eval.models.memo import audio_key
from modgap_eval.types import HiddenStates, HiddenStatesRequest, Modality


@torch.inference_mode()
def states_batch(engine: Any, requests: Sequence[HiddenStatesRequest]) -> list[HiddenStates]:
    prompts = [r.prompt for r in requests]
    if prompts[0].modality is Modality.SPEECH and engine.audio_memo.enabled:
        kept = [engine.audio_memo.get(audio_key(p.spoken())) for p in prompts]
        cached = [c for c in kept if c is not None]
        rows = engine.part.cached_rows(prompts, cached) if len(cached) == len(kept) else None
        if rows is not None:
            return states_from_embeddings(engine, engine.filled_only(rows, prompts, {}), cached)
    engine.prepare_for(prompts)
    encoded = engine.encode(prompts)
    # The pass runs the whole content span (the model needs every placeholder); states are the rows' ``states``.
    rows = [replace(r, ids=r.ids[: r.content.stop], target=0) for r in encoded.rows]
    padded = engine.pad(rows)
    spans = [padded.states(i) for i in range(len(rows))]
    with engine.taps.active(capture=spans, keep_inputs=engine.keep_for(prompts, padded)) as taps:
        getattr(engine.model, "model", engine.model)(**engine.forward_inputs(padded, encoded))
    engine.remember(prompts, taps)
    return [HiddenStates(taps.stacked(i), tokens=rows[i].labels) for i in range(len(rows))]


def states_from_embeddings(engine: Any, rows: list[Row], cached: Sequence[torch.Tensor]) -> list[HiddenStates]:
    """The text decoder alone, the clips' kept audio embeddings written over their spans."""
    padded = engine.pad(rows)
    embeds = engine.model.get_input_embeddings()(padded.input_ids)
    for i in range(len(rows)):
        span = padded.content(i)
        embeds[i, span.start : span.stop] = cached[i].to(embeds.device, embeds.dtype)
    with engine.taps.active(capture=[padded.states(i) for i in range(len(rows))]) as taps:
        engine.model.get_decoder()(
            inputs_embeds=embeds, attention_mask=padded.attention_mask, position_ids=padded.position_ids
        )
    return [HiddenStates(taps.stacked(i)) for i in range(len(rows))]
