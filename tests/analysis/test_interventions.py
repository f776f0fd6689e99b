"""Interventions (METHOD.md §6): the rewrite rule, critical-token selection and the with/without run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))

import torch

from modgap_eval.analysis.interventions import (
    CriticalSelection,
    InterventionOptions,
    build_intervention,
    parse_layers,
    rewrite,
    run_interventions,
    select_critical,
)
from modgap_eval.errors import CapabilityError, ConfigError
from modgap_eval.models.base import Capability
from modgap_eval.models.dummy import DummyModel
from modgap_eval.scoring.base import SampleScore
from modgap_eval.types import GenerateRequest, Generation, HiddenStates, InterventionMode, Modality

from .test_stage import make_prompts, make_samples

ANGLE, LENGTH = InterventionMode.ANGLE, InterventionMode.LENGTH


def apply_intervention(speech_states, intervention, layer_slot):
    """Speech content states ``[T_s, d]`` of one layer with the intervention's positions rewritten
    (what the adapters' hooks do in place; ``layer_slot`` indexes ``intervention.layers``)."""
    out = speech_states.clone()
    if intervention.positions:
        index = torch.tensor(intervention.positions, dtype=torch.long)
        out[index] = rewrite(out[index], intervention.partners[layer_slot], intervention.mode)
    return out


def test_rewrite_by_hand():
    speech, text = torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 2.0]])
    assert rewrite(speech, text, ANGLE)[0].tolist() == pytest.approx([0.0, 5.0])
    assert rewrite(speech, text, LENGTH)[0].tolist() == pytest.approx([1.2, 1.6])


@pytest.mark.parametrize("mode", [ANGLE, LENGTH])
def test_identical_states_make_both_modes_no_ops(mode):
    states = torch.randn(7, 16, generator=torch.Generator().manual_seed(0)) * 40
    assert torch.allclose(rewrite(states, states.clone(), mode), states, rtol=1e-6, atol=1e-5)
    same = HiddenStates(states=torch.randn(4, 6, 16, generator=torch.Generator().manual_seed(1)))
    for critical in ("all", "bottom-2"):
        intervention = build_intervention(same, same, mode, CriticalSelection.parse(critical), (0, 2, 3))
        assert intervention.positions  # something was selected, and rewriting it changes nothing
        for slot, layer in enumerate(intervention.layers):
            assert torch.allclose(
                apply_intervention(same.states[layer], intervention, slot), same.states[layer], atol=1e-5
            )


@pytest.mark.parametrize("seed", range(5))
def test_rewrite_matches_a_loop_reference(seed):
    g = torch.Generator().manual_seed(seed)
    speech, text = torch.randn(5, 8, generator=g) * 3, torch.randn(5, 8, generator=g)
    speech[0] = 0.0
    text[1] = 0.0
    for mode, got in ((ANGLE, rewrite(speech, text, ANGLE)), (LENGTH, rewrite(speech, text, LENGTH))):
        for k in range(5):
            s, t = speech[k].tolist(), text[k].tolist()
            ns, nt = math.sqrt(sum(x * x for x in s)), math.sqrt(sum(x * x for x in t))
            if mode is ANGLE:
                want = [ns * x / nt for x in t] if nt > 0 else s
            else:
                want = [nt * x / ns for x in s] if ns > 0 else s
            assert got[k].tolist() == pytest.approx(want, abs=1e-5)
        assert torch.isfinite(got).all()


def test_rewrite_keeps_dtype_and_checks_shapes():
    speech = torch.randn(3, 4).to(torch.bfloat16)
    assert rewrite(speech, torch.randn(3, 4), "angle").dtype == torch.bfloat16
    with pytest.raises(ValueError):
        rewrite(torch.randn(3, 4), torch.randn(2, 4), ANGLE)


def test_critical_selection_by_hand():
    # columns (tokens) 0..3; path: t0->f0 (0.9), t1->f2 (0.2), t2->f2 (0.5), t3->f1 (0.4)
    cosine = torch.tensor(
        [
            [0.9, 0.1, 0.0, 0.3],
            [0.1, 0.0, 0.4, 0.4],
            [0.0, 0.2, 0.5, 0.1],
        ]
    )
    every = select_critical(cosine, CriticalSelection.parse("all"))
    # tokens 1 and 2 share frame 2: the higher-scoring pair (token 2, 0.5) wins
    assert every.positions == (0, 1, 2) and every.tokens == (0, 3, 2)
    assert every.scores == pytest.approx((0.9, 0.4, 0.5))
    bottom = select_critical(cosine, CriticalSelection.parse("bottom-2"))
    assert bottom.positions == (1, 2) and bottom.tokens == (3, 2)
    assert select_critical(cosine, CriticalSelection(10)) == every


def test_partners_are_the_text_states_at_each_layer():
    g = torch.Generator().manual_seed(3)
    speech, text = HiddenStates(torch.randn(3, 5, 4, generator=g)), HiddenStates(torch.randn(3, 2, 4, generator=g))
    intervention = build_intervention(speech, text, LENGTH, CriticalSelection(None), (1, 2))
    assert intervention.partners.shape == (2, len(intervention.positions), 4)
    mean_cos = torch.stack([speech.states[depth] / speech.states[depth].norm(dim=-1, keepdim=True) for depth in (1, 2)])
    mean_cos = (
        mean_cos
        @ torch.stack(
            [text.states[depth] / text.states[depth].norm(dim=-1, keepdim=True) for depth in (1, 2)]
        ).transpose(1, 2)
    ).mean(0)
    chosen = select_critical(mean_cos, CriticalSelection(None))
    assert intervention.positions == chosen.positions
    for slot, layer in enumerate((1, 2)):
        assert torch.equal(intervention.partners[slot], text.states[layer][list(chosen.tokens)])


def test_option_parsing():
    assert parse_layers("all", 4) == (1, 2, 3, 4)
    assert parse_layers("0", 4) == (0,) and parse_layers("3", 4) == (3,)
    for bad in ("5", "-1", "x"):
        with pytest.raises(ConfigError):
            parse_layers(bad, 4)
    assert CriticalSelection.parse("bottom-3").k == 3 and CriticalSelection.parse("all").k is None
    for bad in ("bottom-0", "top-3", "bottom"):
        with pytest.raises(ConfigError):
            CriticalSelection.parse(bad)


class InterveningDummy(DummyModel):
    """The dummy, plus: a speech answer changes to 'edited' when an intervention rewrites position 0."""

    capabilities = DummyModel.capabilities | {Capability.INTERVENTION}

    def __init__(self):
        super().__init__(layers=3, width=12)
        self.seen = []

    def generate(self, requests):
        out = super().generate(requests)
        self.seen.extend(r.intervention for r in requests)
        return [
            Generation("edited") if r.intervention is not None and 0 in r.intervention.positions else o
            for r, o in zip(requests, out)
        ]


def _request(sample, prompt, intervention):
    assert prompt.modality is Modality.SPEECH
    return GenerateRequest(prompt=prompt, max_new_tokens=4, intervention=intervention)


def _score(sample, output):
    return SampleScore(1.0 if output.text == "edited" else 0.0)


def test_run_interventions_compares_the_same_items():
    model = InterveningDummy()
    samples = make_samples(5)
    options = InterventionOptions(mode=ANGLE, critical="all", layers="all", batch_size=2)
    summary = run_interventions(model, samples, make_prompts, _request, _score, options)
    assert summary.n == 5 and summary.layers == [1, 2, 3] and summary.critical == "all" and summary.mode == "angle"
    applied = [i for i in model.seen if i is not None]
    assert len(applied) == 5 and len(model.seen) == 10  # with and without, same items
    expected_with = 100.0 * np.mean([0 in i.positions for i in applied])
    assert summary.speech_with == pytest.approx(expected_with)
    assert summary.speech_without == 0.0 and summary.delta == pytest.approx(expected_with)
    assert summary.mean_positions == pytest.approx(np.mean([len(i.positions) for i in applied]))
    # reuse the main run's speech scores instead of a second plain pass
    model2 = InterveningDummy()
    reused = run_interventions(
        model2,
        samples,
        make_prompts,
        _request,
        _score,
        options,
        speech_without={s.id: SampleScore(1.0) for s in samples},
    )
    assert reused.speech_without == 100.0 and all(i is not None for i in model2.seen)


def test_run_interventions_needs_the_capability():
    with pytest.raises(CapabilityError, match="intervention"):
        run_interventions(DummyModel(), make_samples(2), make_prompts, _request, _score, InterventionOptions())
