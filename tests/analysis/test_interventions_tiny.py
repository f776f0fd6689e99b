"""Interventions through a real (tiny, random) Qwen2-Audio: they change only what follows the selected positions."""

from __future__ import annotations

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.analysis.interventions import (
    CriticalSelection,
    InterventionOptions,
    build_intervention,
    run_interventions,
)
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.scoring.base import SampleScore
from modgap_eval.types import (
    Audio,
    HiddenStatesRequest,
    InterventionMode,
    LoglikelihoodRequest,
    Modality,
    Prompt,
    PromptPair,
    Sample,
    Waveform,
)
from tests.models.tiny import build_tiny_qwen2_audio, tone

pytestmark = pytest.mark.slow  # builds and runs a transformers model (~30 s on 2 cores)

PREFIX, SUFFIX = "Listen: ", " Answer with one word."


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_qwen2_audio(tmp_path_factory.mktemp("qwen2_audio"))


@pytest.fixture(scope="module")
def model(folder):
    return MODELS.get("qwen2-audio").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=4))


def pair(text: str, seconds: float, seed: int) -> PromptPair:
    return PromptPair(
        text=Prompt(Modality.TEXT, PREFIX, SUFFIX, text=text),
        speech=Prompt(
            Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(tone(seconds, hz=180 + 40 * seed, seed=seed), 16_000)
        ),
    )


def residual_stream(model, request):
    """The output of the last decoder block and the input ids of the prefill (the first forward) of one
    loglikelihood call; a multi-token continuation's tail runs after it on the KV cache."""
    seen = {}

    def grab_ids(module, args, kwargs):
        seen.setdefault("ids", kwargs["input_ids"][0].clone())

    def grab_states(module, args, output):
        seen.setdefault("states", (output[0] if isinstance(output, tuple) else output)[0].detach().clone())

    handles = [
        model.model.register_forward_pre_hook(grab_ids, with_kwargs=True),
        model.taps.blocks[-1].register_forward_hook(grab_states),
    ]
    try:
        model.loglikelihood([request])
    finally:
        for handle in handles:
            handle.remove()
    return seen["ids"], seen["states"]


@pytest.mark.parametrize(
    "mode, layers", [(InterventionMode.ANGLE, (1,)), (InterventionMode.LENGTH, (0,)), (InterventionMode.ANGLE, (1, 2))]
)
def test_intervention_changes_only_what_follows_the_selected_positions(model, mode, layers):
    prompts = pair("What is the capital of France?", 1.2, 0)
    speech, text = model.hidden_states([HiddenStatesRequest(prompts.speech), HiddenStatesRequest(prompts.text)])
    intervention = build_intervention(speech, text, mode, CriticalSelection(2), layers)
    assert len(intervention.positions) == 2
    ids, plain = residual_stream(model, LoglikelihoodRequest(prompts.speech, (" yes",)))
    ids2, edited = residual_stream(model, LoglikelihoodRequest(prompts.speech, (" yes",), intervention=intervention))
    assert torch.equal(ids, ids2)
    audio = (ids == model.model.config.audio_token_id).nonzero().flatten()
    assert len(audio) == speech.length
    first = int(audio[0]) + min(intervention.positions)
    changed = (edited - plain).abs().amax(dim=-1) > 1e-4
    assert not changed[:first].any()  # causal: nothing before the first rewritten position moves
    assert all(changed[int(audio[0]) + p] for p in intervention.positions)  # the rewritten positions do
    assert changed[first:].float().mean() > 0.5  # and (through attention) most of what follows


def test_run_interventions_on_the_tiny_model(model):
    samples = [
        Sample(id=f"s{k}", text=t, audio=Audio(data=b"-"), choices=("yes", "no"), answer_index=k % 2)
        for k, t in enumerate(["Is Paris in France?", "Do spiders have eight legs?", "Is the sky green?"])
    ]
    prompts = {s.id: pair(s.text, 0.8 + 0.3 * k, k) for k, s in enumerate(samples)}

    def request(sample, prompt, intervention):
        return LoglikelihoodRequest(prompt, (" yes", " no"), intervention=intervention)

    def score(sample, output):
        best = max(range(len(output.logprobs)), key=lambda i: output.logprobs[i])
        return SampleScore(1.0 if best == sample.answer_index else 0.0)

    options = InterventionOptions(mode=InterventionMode.ANGLE, critical="all", layers="all", batch_size=2)
    summary = run_interventions(model, samples, lambda s: prompts[s.id], request, score, options)
    plain = [score(s, model.loglikelihood([request(s, prompts[s.id].speech, None)])[0]).value for s in samples]
    assert summary.n == 3 and summary.layers == [1, 2] and summary.critical == "all"
    assert summary.speech_without == pytest.approx(100.0 * sum(plain) / 3)
    assert summary.delta == pytest.approx(summary.speech_with - summary.speech_without)
    assert summary.mean_positions >= 1


def test_cli_run_reports_speech_with_and_without(folder, task_dir, tmp_path):
    from modgap_eval.cli import main
    from modgap_eval.results import read_results

    rc = main(
        [
            "--model",
            "qwen2-audio",
            "--model_args",
            f"pretrained={folder}",
            "--tasks",
            "arith",
            "--include_path",
            str(task_dir),
            "--output_path",
            str(tmp_path),
            "--no_progress",
            "--batch_size",
            "3",
            "--intervention",
            "length",
            "--critical",
            "all",
            "--intervention_layers",
            "0",
            "--bootstrap_iters",
            "20",
        ]
    )
    assert rc == 0
    task = read_results(next(tmp_path.rglob("results.json"))).tasks["arith"]
    (summary,) = task.interventions
    assert (summary.mode, summary.critical, summary.layers, summary.n) == ("length", "all", [0], 6)
    assert summary.speech_without == pytest.approx(task.speech.score)  # the same items, scored without
    assert task.representations is not None and "hooks" in task.representations.layer_convention
