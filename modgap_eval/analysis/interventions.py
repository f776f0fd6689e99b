"""Interventions on critical tokens (METHOD.md §6): rewrite selected speech states from their text partners.

``rewrite`` is the pure per-position rule the HF adapters apply inside forward hooks. The rest of the
module chooses the critical tokens from a sample's alignment path, builds ``types.Intervention``
objects and runs the with/without comparison on the same items.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from modgap_eval.analysis.alignment import alignment_path, path_scores
from modgap_eval.analysis.schema import InterventionSummary
from modgap_eval.analysis.similarity import token_matrices
from modgap_eval.analysis.stage import check_states, pair_states
from modgap_eval.errors import CapabilityError, ConfigError, DataError
from modgap_eval.models.base import Capability
from modgap_eval.scoring.base import SampleScore
from modgap_eval.types import (
    GenerateRequest,
    HiddenStates,
    Intervention,
    InterventionMode,
    LoglikelihoodRequest,
    Output,
    Prompt,
    PromptPair,
    Sample,
)


def rewrite(speech: torch.Tensor, text: torch.Tensor, mode: InterventionMode) -> torch.Tensor:
    """Rewrite speech states ``[k, d]`` from their text partners ``[k, d]`` (METHOD.md §6).

    - ``ANGLE``: ĥ = ||h^s|| · h^t / ||h^t|| (text direction, speech norm).
    - ``LENGTH``: ĥ = ||h^t|| · h^s / ||h^s|| (speech direction, text norm).

    Computed in float32, returned in ``speech.dtype`` (hooks may run in bf16). Zero vectors have no
    direction: where the vector whose direction is taken is zero, the speech state is returned as is
    (angle with a zero text partner) or stays zero (length with a zero speech state); never NaN.
    With identical speech and text states both modes return the input (up to rounding).
    """
    if speech.shape != text.shape or speech.dim() != 2:
        raise ValueError(
            f"rewrite needs speech and text of equal shape [k, d]; got {tuple(speech.shape)} and {tuple(text.shape)}"
        )
    mode = InterventionMode(mode)
    s = speech.to(torch.float32)
    t = text.to(device=s.device, dtype=torch.float32)
    s_norm = torch.linalg.vector_norm(s, dim=-1, keepdim=True)
    t_norm = torch.linalg.vector_norm(t, dim=-1, keepdim=True)
    if mode is InterventionMode.ANGLE:
        direction_norm, direction, scale = t_norm, t, s_norm
    else:
        direction_norm, direction, scale = s_norm, s, t_norm
    has_direction = direction_norm > 0
    unit = direction / torch.where(has_direction, direction_norm, torch.ones_like(direction_norm))
    out = torch.where(has_direction, scale * unit, s)
    return out.to(speech.dtype)


# --- which positions: critical tokens on the alignment path -------------------------------------

SELECTION_RULE = (
    "cosine alignment path of the token cosine matrix averaged over the intervened layers; "
    "several tokens on one frame: the highest-scoring pair wins"
)


@dataclass(frozen=True)
class CriticalSelection:
    """``bottom-K`` (the K path pairs with the lowest cosine score) or ``all`` path pairs (METHOD.md §6)."""

    k: int | None
    """None selects every pair."""

    @staticmethod
    def parse(text: str) -> CriticalSelection:
        text = text.strip().lower()
        if text == "all":
            return CriticalSelection(None)
        head, _, count = text.partition("-")
        if head == "bottom" and count.isdigit() and int(count) > 0:
            return CriticalSelection(int(count))
        raise ConfigError(f"--critical: {text!r} is not 'bottom-K' (K ≥ 1) or 'all'")

    def describe(self) -> str:
        return "all" if self.k is None else f"bottom-{self.k}"


def parse_layers(text: str, num_layers: int) -> tuple[int, ...]:
    """``0`` (decoder input = adapter output), one block index ``1..L``, or ``all`` (blocks 1..L). METHOD.md §6."""
    text = text.strip().lower()
    if text == "all":
        return tuple(range(1, num_layers + 1))
    if text.isdigit() and 0 <= int(text) <= num_layers:
        return (int(text),)
    raise ConfigError(f"--intervention_layers: {text!r} is not 0, a block index 1..{num_layers}, or 'all'")


@dataclass(frozen=True)
class CriticalPairs:
    """Selected (speech frame, text token) pairs on the cosine path, ordered by frame."""

    positions: tuple[int, ...]
    tokens: tuple[int, ...]
    scores: tuple[float, ...]


def select_critical(cosine: torch.Tensor, selection: CriticalSelection) -> CriticalPairs:
    """Critical pairs from a token cosine matrix ``[T_s, T_t]`` (METHOD.md §6).

    Path ``i*_j = argmax_i A[i, j]`` with score ``A[i*_j, j]``. When several tokens land on one frame the
    highest-scoring pair wins (ties: the first token) *(ours)*. ``bottom-K`` then keeps the K lowest
    scores (ties: the first token); ``all`` keeps every remaining pair.
    """
    path = alignment_path(cosine, higher_is_better=True)
    scores = path_scores(cosine, path)
    best: dict[int, int] = {}
    for token, (frame, score) in enumerate(zip(path.tolist(), scores.tolist())):
        if math.isnan(score):
            continue  # NaN: the token or every frame is a zero state, so it has no cosine and no partner
        if frame not in best or score > scores[best[frame]].item():
            best[frame] = token
    tokens = sorted(best.values())
    if selection.k is not None:
        tokens = sorted(tokens, key=lambda j: (scores[j].item(), j))[: selection.k]
    pairs = sorted((int(path[j]), j, float(scores[j])) for j in tokens)
    return CriticalPairs(
        positions=tuple(p for p, _, _ in pairs),
        tokens=tuple(j for _, j, _ in pairs),
        scores=tuple(s for _, _, s in pairs),
    )


@dataclass(frozen=True)
class InterventionOptions:
    """Recorded options of an intervention run (METHOD.md §6)."""

    mode: InterventionMode = InterventionMode.ANGLE
    critical: str = "bottom-3"
    layers: str = "0"
    """``0``, one block index, or ``all`` (ours: the paper does not say which layer)."""
    batch_size: int = 8


def build_intervention(
    speech: HiddenStates,
    text: HiddenStates,
    mode: InterventionMode,
    selection: CriticalSelection,
    layers: Sequence[int],
) -> Intervention:
    """The ``Intervention`` for one sample: critical positions chosen on the cosine path of the token
    cosine matrix averaged over ``layers``; partners are the text states at those layers (METHOD.md §6)."""
    layer_index = torch.tensor(list(layers), dtype=torch.long)
    s = speech.states.index_select(0, layer_index).to(torch.float32)
    t = text.states.index_select(0, layer_index).to(torch.float32)
    pairs = select_critical(token_matrices(s, t)[0].mean(dim=0), selection)
    partners = t[:, list(pairs.tokens), :].contiguous()
    return Intervention(mode=InterventionMode(mode), layers=tuple(layers), positions=pairs.positions, partners=partners)


MakeRequest = Callable[[Sample, Prompt, "Intervention | None"], "GenerateRequest | LoglikelihoodRequest"]
"""``make_request(sample, speech_prompt, intervention)``: the task's usual request (None: no intervention)."""
Score = Callable[[Sample, Output], SampleScore]
"""``score(sample, output)``: the scorer's ``SampleScore``."""


def run_interventions(
    model,
    samples: Sequence[Sample],
    make_prompts: Callable[[Sample], PromptPair],
    make_request: MakeRequest,
    score: Score,
    options: InterventionOptions,
    aggregate: Callable[[Sequence[SampleScore]], float] | None = None,
    speech_without: Mapping[str, SampleScore] | None = None,
    progress: bool = False,
) -> InterventionSummary:
    """Speech accuracy with vs without the intervention on the same items (METHOD.md §6).

    ``aggregate`` turns a list of scores into the task score in percent (default: mean of ``.value`` ×
    100). ``speech_without`` (sample id -> SampleScore) reuses the main run's speech scores; when None
    the plain speech pass is run here.
    """
    from tqdm.auto import tqdm

    _check_ready(model, samples)
    selection = CriticalSelection.parse(options.critical)
    mode = InterventionMode(options.mode)
    aggregate = aggregate or _mean_percent
    with_scores: list[SampleScore] = []
    without_scores: list[SampleScore] = []
    interventions: list[Intervention] = []
    step = max(1, options.batch_size)
    with tqdm(total=len(samples), desc="interventions", unit="sample", disable=not progress) as bar:
        for start in range(0, len(samples), step):
            batch = samples[start : start + step]
            pairs = [make_prompts(sample) for sample in batch]
            made = _build_interventions(model, batch, pairs, mode, selection, options.layers)
            interventions.extend(made)
            requests = [make_request(sample, p.speech, i) for sample, p, i in zip(batch, pairs, made)]
            with_scores.extend(score(sample, out) for sample, out in zip(batch, _execute(model, requests)))
            without_scores.extend(_scores_without(model, batch, pairs, make_request, score, speech_without))
            bar.update(len(batch))
    speech_with, speech_plain = aggregate(with_scores), aggregate(without_scores)
    return InterventionSummary(
        mode=mode.value,
        critical=selection.describe(),
        layers=list(interventions[0].layers),
        n=len(samples),
        speech_without=speech_plain,
        speech_with=speech_with,
        delta=speech_with - speech_plain,
        selection=SELECTION_RULE,
        mean_positions=sum(len(i.positions) for i in interventions) / len(interventions),
        n_changed=sum(a.value != b.value for a, b in zip(with_scores, without_scores)),
    )


def _check_ready(model, samples: Sequence[Sample]) -> None:
    capabilities: frozenset[Capability] = getattr(model, "capabilities", frozenset())
    missing = [c.value for c in (Capability.INTERVENTION, Capability.HIDDEN_STATES) if c not in capabilities]
    if missing:
        raise CapabilityError(f"model {type(model).__name__} lacks: {', '.join(missing)} (needed by --intervention)")
    if not samples:
        raise DataError("intervention run: no samples")


def _build_interventions(
    model,
    batch: Sequence[Sample],
    pairs: Sequence[PromptPair],
    mode: InterventionMode,
    selection: CriticalSelection,
    layers: str,
) -> list[Intervention]:
    """One ``Intervention`` per sample, from its speech and text states (dropped before returning)."""
    out = []
    for sample, s, t in zip(batch, *pair_states(model, pairs)):
        check_states(sample.id, s, t)
        out.append(build_intervention(s, t, mode, selection, parse_layers(layers, s.num_layers)))
    return out


def _scores_without(
    model,
    batch: Sequence[Sample],
    pairs: Sequence[PromptPair],
    make_request: MakeRequest,
    score: Score,
    speech_without: Mapping[str, SampleScore] | None,
) -> list[SampleScore]:
    """The batch's speech scores without the intervention: the main run's, or a plain pass run here."""
    if speech_without is None:
        plain = [make_request(sample, p.speech, None) for sample, p in zip(batch, pairs)]
        return [score(sample, out) for sample, out in zip(batch, _execute(model, plain))]
    for sample in batch:
        if sample.id not in speech_without:
            raise DataError(f"intervention run: no speech score without intervention for sample {sample.id!r}")
    return [speech_without[sample.id] for sample in batch]


def _mean_percent(scores: Sequence[SampleScore]) -> float:
    return 100.0 * sum(s.value for s in scores) / len(scores)


def _execute(model, requests):
    if all(isinstance(r, GenerateRequest) for r in requests):
        return model.generate(requests)
    if all(isinstance(r, LoglikelihoodRequest) for r in requests):
        return model.loglikelihood(requests)
    raise TypeError("make_request must return GenerateRequest or LoglikelihoodRequest objects of one kind")
