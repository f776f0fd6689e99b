"""The runner's representation stage: hidden states in, a task's ``RepresentationSummary`` out.

Samples are processed in derangement blocks (``analysis.baseline``): each block's speech and text
states are fetched together, every member is compared with its own text (matched) and with its block
partner's text (mismatched, METHOD.md §4b), and the states are dropped at once. Only per-sample,
per-layer numbers are kept (O(samples × layers) floats), and they are aggregated in the caller's
sample order in float64, so the result does not depend on the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from modgap_eval.analysis.alignment import alignment_path, compare_states, state_problem
from modgap_eval.analysis.baseline import DERANGEMENT_SCHEME, Block, derangement_blocks
from modgap_eval.analysis.schema import RepresentationSummary, TokenSimilarityExample
from modgap_eval.analysis.similarity import mean_pool, token_matrices
from modgap_eval.analysis.summary import Figures, summarise
from modgap_eval.errors import ConfigError, DataError
from modgap_eval.types import HiddenStates, HiddenStatesRequest, PromptPair, Sample

DEFAULT_LAYER_CONVENTION = "as returned by the adapter's hidden_states (METHOD.md §2)"
MIN_SAMPLES = 2
"""The mismatched baseline needs another sample of the same task (METHOD.md §4b)."""
CENTERING_REFERENCE = "per layer, the mean over the task's samples and both modalities of the mean-pooled states"


@dataclass(frozen=True)
class RepresentationOptions:
    """Recorded options of the representation stage."""

    centering: bool = False
    """Subtract each layer's mean state before cosine (METHOD.md §4b, optional). Costs a second pass."""
    derangement_seed: int = 0
    """Seed of the mismatched-pair derangement (METHOD.md §4b)."""
    batch_size: int = 8
    """Samples per ``hidden_states`` call (whole derangement blocks; a block of 3 may exceed it by 1)."""
    examples: int = 1
    """How many samples (the first, in the given order) keep a token similarity matrix for Fig. 6."""
    example_layers: tuple[int, ...] | None = None
    """Layers of those matrices; None: the middle and the last block."""
    layer_convention: str | None = None
    """What the states are (METHOD.md §2); None: the model's ``info().details`` entry
    ``layer_convention`` or ``hidden_states``."""


@dataclass(frozen=True)
class TaskRepresentation:
    summary: RepresentationSummary
    per_sample: Mapping[str, Mapping[str, float]]
    """Sample id -> T_s, T_t, and Sim, APS and path summaries, matched and ``*_mismatched`` (sample log)."""
    examples: tuple[TokenSimilarityExample, ...] = field(default=())
    """Token similarity matrices kept for heatmaps (write with ``analysis.examples.write_examples``)."""


Fetch = Callable[[Sequence[int]], "tuple[dict[int, HiddenStates], dict[int, HiddenStates]]"]
"""Positions of samples -> their (speech, text) HiddenStates, by position."""


def analyse_task(
    model,
    samples: Sequence[Sample],
    make_prompts: Callable[[Sample], PromptPair],
    options: RepresentationOptions,
    progress: bool = False,
) -> TaskRepresentation:
    """Layer curves, Sim, APS, monotonicity and consistency of one task, each with its mismatched
    baseline (METHOD.md §3, §4, §4b). ``make_prompts`` may raise DataError; it propagates."""

    def fetch(members: Sequence[int]):
        speech, text = pair_states(model, [make_prompts(samples[k]) for k in members])
        return dict(zip(members, speech)), dict(zip(members, text))

    return _analyse([s.id for s in samples], fetch, options, _layer_convention(model, options), progress)


def analyse_states(
    speech: Sequence[torch.Tensor],
    text: Sequence[torch.Tensor],
    ids: Sequence[str] | None = None,
    options: RepresentationOptions = RepresentationOptions(),
) -> TaskRepresentation:
    """The same analysis on states already in memory: ``speech[k]`` ``[L+1, T_s, d]`` and ``text[k]``
    ``[L+1, T_t, d]`` of sample k (content spans only). For notebooks and the ``evaluate`` module."""
    if len(speech) != len(text):
        raise DataError(f"got {len(speech)} speech and {len(text)} text state tensors; they must pair up")
    ids = [str(k) for k in range(len(speech))] if ids is None else [str(i) for i in ids]

    def fetch(members: Sequence[int]):
        return {k: HiddenStates(states=speech[k]) for k in members}, {k: HiddenStates(states=text[k]) for k in members}

    return _analyse(ids, fetch, options, options.layer_convention or "given by the caller", progress=False)


def _analyse(
    ids: Sequence[str], fetch: Fetch, options: RepresentationOptions, convention: str, progress: bool
) -> TaskRepresentation:
    if len(ids) < MIN_SAMPLES:
        raise DataError(
            f"representation analysis needs at least 2 samples for its mismatched baseline (METHOD.md §4b); "
            f"got {len(ids)} (use more samples or turn representations off)"
        )
    try:
        blocks = derangement_blocks(ids, options.derangement_seed)
    except ValueError as exc:
        raise DataError(f"representation analysis: {exc}") from exc
    batches = _batches(blocks, options.batch_size)

    def checked(members: Sequence[int]):
        speech, text = fetch(members)
        for k in members:
            check_states(ids[k], speech[k], text[k])
        return speech, text

    center = _centering_means(checked, batches, len(ids)) if options.centering else None
    compared, examples = _compare_all(ids, checked, batches, center, options, progress)
    rows = [compared[k] for k in range(len(ids))]  # the caller's order, whatever the batches were
    summary = RepresentationSummary(
        n_samples=len(ids),
        num_layers=len(rows[0].matched.layer_cos) - 1,
        layer_convention=convention,
        centering=options.centering,
        derangement_seed=options.derangement_seed,
        derangement=DERANGEMENT_SCHEME,
        centering_reference=CENTERING_REFERENCE if options.centering else "",
        **summarise([r.matched for r in rows], [r.mismatched for r in rows]),
    )
    per_sample = {
        sample_id: {**r.lengths, **r.matched.as_record(), **r.mismatched.as_record("_mismatched")}
        for sample_id, r in zip(ids, rows)
    }
    examples.sort(key=lambda e: (ids.index(e.sample_id), e.layer))  # a few examples: the first samples'
    return TaskRepresentation(summary=summary, per_sample=per_sample, examples=tuple(examples))


@dataclass(frozen=True)
class _Compared:
    """One sample against its own text (matched) and its block partner's text (mismatched)."""

    matched: Figures
    mismatched: Figures
    lengths: dict[str, float]


def _compare_all(
    ids: Sequence[str],
    fetch: Fetch,
    batches: Sequence[Sequence[Block]],
    center: torch.Tensor | None,
    options: RepresentationOptions,
    progress: bool,
) -> tuple[dict[int, _Compared], list[TokenSimilarityExample]]:
    """Every sample's comparisons by position, and the examples of the first ``options.examples``."""
    from tqdm.auto import tqdm

    compared: dict[int, _Compared] = {}
    examples: list[TokenSimilarityExample] = []
    with tqdm(total=len(ids), desc="representations", unit="sample", disable=not progress) as bar:
        for batch in batches:
            members = [m for block in batch for m in block.members]
            speech, text = fetch(members)
            for block in batch:
                for s, t in block.partners():
                    compared[s] = _Compared(
                        Figures.of(compare_states(speech[s].states, text[s].states, center)),
                        Figures.of(compare_states(speech[s].states, text[t].states, center)),
                        {"speech_frames": float(speech[s].length), "text_tokens": float(text[s].length)},
                    )
                    if s < options.examples:
                        examples.extend(_examples(ids[s], speech[s], text[s], center, options.example_layers))
            del speech, text  # nothing of size [L, T, d] outlives its batch
            bar.update(len(members))
    return compared, examples


def _batches(blocks: Sequence[Block], batch_size: int) -> list[list[Block]]:
    """Whole blocks per batch, at most ``batch_size`` samples unless one block alone is larger."""
    batches: list[list[Block]] = [[]]
    for block in blocks:
        if batches[-1] and sum(len(b.members) for b in batches[-1]) + len(block.members) > max(1, batch_size):
            batches.append([])
        batches[-1].append(block)
    return batches


def pair_states(model, pairs: Sequence[PromptPair]) -> tuple[list[HiddenStates], list[HiddenStates]]:
    """The speech and the text hidden states of each prompt pair (one ``hidden_states`` call each)."""
    speech = model.hidden_states([HiddenStatesRequest(pair.speech) for pair in pairs])
    text = model.hidden_states([HiddenStatesRequest(pair.text) for pair in pairs])
    if len(speech) != len(pairs) or len(text) != len(pairs):
        raise RuntimeError(f"{type(model).__name__}.hidden_states returned the wrong number of outputs")
    return speech, text


def check_states(sample_id: str, speech: HiddenStates, text: HiddenStates) -> None:
    """A DataError naming the sample unless its states can be compared (shapes, content, finite values)."""
    s, t = speech.states, text.states
    problem = state_problem(s, t)
    if problem is None and not (torch.isfinite(s).all() and torch.isfinite(t).all()):
        problem = "non-finite values (inf/NaN) in the states; try a wider --dtype such as float32"
    if problem:
        raise DataError(f"sample {sample_id!r}: hidden states: {problem}")


def _centering_means(fetch: Fetch, batches, count: int) -> torch.Tensor:
    """Per-layer mean over samples and both modalities of the mean-pooled states (METHOD.md §4b, ours)."""
    total = torch.zeros((), dtype=torch.float64)
    for batch in batches:
        members = [m for block in batch for m in block.members]
        speech, text = fetch(members)
        for k in members:  # fixed order within a fixed block order: independent of batch size
            total = total + (mean_pool(speech[k].states) + mean_pool(text[k].states))  # float64
        del speech, text
    return total / (2 * count)


def _examples(sample_id, speech: HiddenStates, text: HiddenStates, center, layers) -> list[TokenSimilarityExample]:
    num_layers = speech.num_layers
    chosen = sorted(set(layers)) if layers is not None else sorted({max(1, num_layers // 2), num_layers})
    out = []
    for layer in chosen:
        if not 0 <= layer <= num_layers:
            raise ConfigError(f"example layer {layer} is outside 0..{num_layers}")
        s, t = speech.states[layer], text.states[layer]
        if center is not None:
            s, t = s - center[layer], t - center[layer]
        a_cos, a_euc = token_matrices(s, t)
        out.append(
            TokenSimilarityExample(
                sample_id=sample_id,
                layer=layer,
                text_tokens=list(text.tokens) or [str(j) for j in range(t.shape[0])],
                cosine=[[None if math.isnan(v) else round(v, 5) for v in row] for row in a_cos.tolist()],
                path_cos=alignment_path(a_cos, True).tolist(),
                path_euc=alignment_path(a_euc, False).tolist(),
            )
        )
    return out


def _layer_convention(model, options: RepresentationOptions) -> str:
    if options.layer_convention:
        return options.layer_convention
    try:
        details = model.info().details
    except NotImplementedError:
        details = {}
    return str(details.get("layer_convention") or details.get("hidden_states") or DEFAULT_LAYER_CONVENTION)
