"""Qwen2-Audio adapter on a tiny random model: batching, log-likelihoods, content spans, interventions."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.types import (
    GenerateRequest,
    HiddenStatesRequest,
    Intervention,
    InterventionMode,
    LoglikelihoodRequest,
    Modality,
    Prompt,
    Waveform,
)
from tests.models.tiny import build_tiny_qwen2_audio, tone

PREFIX, SUFFIX = "Listen: ", " Answer with one word."
TEXTS = ["What is the capital of France?", "How many legs does a spider have?", "yes"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_qwen2_audio(tmp_path_factory.mktemp("qwen2_audio"))


@pytest.fixture(scope="module")
def model(folder):
    return MODELS.get("qwen2-audio").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=8))


def speech(seconds: float, seed: int = 0) -> Prompt:
    return Prompt(Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(tone(seconds, hz=200 + 50 * seed, seed=seed), 16_000))


def text(content: str) -> Prompt:
    return Prompt(Modality.TEXT, PREFIX, SUFFIX, text=content)


def prompts() -> list[Prompt]:
    return [speech(1.0, 0), text(TEXTS[0]), speech(2.2, 1), text(TEXTS[1]), speech(0.4, 2), text(TEXTS[2])]


def reference_inputs(folder, prompt: Prompt, continuation: str = ""):
    """The model's inputs built the way its model card does it (processor + chat template), by hand."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(folder)
    if prompt.modality is Modality.SPEECH:
        content = [{"type": "text", "text": PREFIX}, {"type": "audio"}, {"type": "text", "text": SUFFIX}]
    else:
        content = [{"type": "text", "text": PREFIX + prompt.text + SUFFIX}]
    chat = processor.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )
    if prompt.modality is Modality.SPEECH:
        inputs = processor(text=[chat], audio=[prompt.audio.samples], sampling_rate=16_000, return_tensors="pt")
    else:
        inputs = processor.tokenizer([chat], return_tensors="pt")
    inputs = {k: v for k, v in inputs.items() if k != "num_audio_tokens"}
    cont = processor.tokenizer(continuation, add_special_tokens=False)["input_ids"] if continuation else []
    if cont:
        inputs["input_ids"] = torch.cat([inputs["input_ids"], torch.tensor([cont])], dim=1)
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    return inputs, cont


def test_batched_generate_equals_one_at_a_time(folder, model):
    requests = [GenerateRequest(p, max_new_tokens=6 + i % 3) for i, p in enumerate(prompts())]
    batched = model.generate(requests)
    single = [model.generate([r])[0] for r in requests]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(g.text for g in batched)
    longer = model.generate([GenerateRequest(r.prompt, max_new_tokens=10) for r in requests[:2]])
    assert all(g.text != long.text and long.text.startswith(g.text) for g, long in zip(batched, longer))


def test_generate_matches_hf_generate_by_hand(folder, model):
    from transformers import Qwen2AudioForConditionalGeneration

    hf = Qwen2AudioForConditionalGeneration.from_pretrained(folder).eval()
    for prompt in (speech(1.3, 3), text(TEXTS[0])):
        inputs, _ = reference_inputs(folder, prompt)
        out = hf.generate(**inputs, max_new_tokens=5, do_sample=False)
        expected = model.tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        assert model.generate([GenerateRequest(prompt, max_new_tokens=5)])[0].text == expected


def test_loglikelihood_equals_sum_of_token_logprobs(folder, model):
    from transformers import Qwen2AudioForConditionalGeneration

    hf = Qwen2AudioForConditionalGeneration.from_pretrained(folder).eval()
    continuations = ("Paris", " the answer is yes")
    ours = model.loglikelihood([LoglikelihoodRequest(p, continuations) for p in prompts()])
    letters = ("A", "B")  # single-token options take the one-prefill fast path
    assert all(len(model.tokenize_continuation(c)) == 1 for c in letters)
    ours_letters = model.loglikelihood([LoglikelihoodRequest(p, letters) for p in prompts()])
    checks = [(p, r, continuations) for p, r in list(zip(prompts(), ours))[:2]]
    checks += [(p, r, letters) for p, r in list(zip(prompts(), ours_letters))[:2]]
    for prompt, result, continuations in checks:  # one speech, one text (references are slow)
        for continuation, value, count in zip(continuations, result.logprobs, result.token_counts):
            inputs, cont = reference_inputs(folder, prompt, continuation)
            with torch.no_grad():
                logits = hf(**inputs).logits[0]
            logprobs = torch.log_softmax(logits, dim=-1)
            n = inputs["input_ids"].shape[1]
            expected = sum(float(logprobs[n - len(cont) - 1 + k, t]) for k, t in enumerate(cont))
            assert count == len(cont)
            assert value == pytest.approx(expected, abs=1e-3)


def test_hidden_state_spans_and_values(folder, model):
    from transformers import Qwen2AudioForConditionalGeneration

    hf = Qwen2AudioForConditionalGeneration.from_pretrained(folder).eval()
    states = model.hidden_states([HiddenStatesRequest(p) for p in prompts()])
    for prompt, hs in zip(prompts(), states):
        inputs, _ = reference_inputs(folder, prompt)
        ids = inputs["input_ids"][0]
        assert hs.states.dtype == torch.float32 and hs.num_layers == 2 and hs.states.shape[2] == 64
        if prompt.modality is Modality.SPEECH:
            audio = (ids == hf.config.audio_token_id).nonzero().flatten()
            assert hs.length == len(audio) == round(25 * prompt.audio.seconds) and hs.tokens == ()
        else:
            assert model.tokenizer.convert_tokens_to_string(list(hs.tokens)).strip() == prompt.text
            first = ids.tolist().index(model.tokenizer.convert_tokens_to_ids(hs.tokens[0]))
            audio = torch.arange(first, first + hs.length)
        with torch.no_grad():
            ref = hf(**inputs, output_hidden_states=True).hidden_states
        for layer in range(hs.num_layers):  # HF's layers 0..L-1 are pre-norm; its last has the norm applied
            assert torch.allclose(hs.states[layer], ref[layer][0, audio], atol=1e-4)
        final_norm = hf.model.language_model.norm
        assert torch.allclose(final_norm(hs.states[-1]), ref[-1][0, audio], atol=1e-4)
        assert not torch.allclose(hs.states[-1], ref[-1][0, audio], atol=1e-2)


def test_angle_intervention_at_layer_0_matches_hand_edited_embeddings(folder, model):
    from transformers import Qwen2AudioForConditionalGeneration

    hf = Qwen2AudioForConditionalGeneration.from_pretrained(folder).eval()
    prompt = speech(1.0, 4)
    speech_states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    positions = (2, 7, 11)
    partners = torch.randn(1, len(positions), 64, generator=torch.Generator().manual_seed(0))
    intervention = Intervention(InterventionMode.ANGLE, (0,), positions, partners)
    continuation = " yes"
    plain = model.loglikelihood([LoglikelihoodRequest(prompt, (continuation,))])[0].logprobs[0]
    edited = model.loglikelihood([LoglikelihoodRequest(prompt, (continuation,), intervention=intervention)])[
        0
    ].logprobs[0]
    # Same edit by hand: merged embeddings (text embeddings + layer-0 audio states), rows rewritten.
    inputs, cont = reference_inputs(folder, prompt, continuation)
    ids = inputs["input_ids"][0]
    audio = (ids == hf.config.audio_token_id).nonzero().flatten()
    with torch.no_grad():
        embeds = hf.get_input_embeddings()(ids).clone()
        embeds[audio] = speech_states[0]
        for k, p in enumerate(positions):
            s, t = embeds[audio[p]], partners[0, k]
            embeds[audio[p]] = s.norm() * t / t.norm()
        logits = hf(inputs_embeds=embeds[None], attention_mask=inputs["attention_mask"]).logits[0]
    logprobs = torch.log_softmax(logits, dim=-1)
    n = len(ids)
    expected = sum(float(logprobs[n - len(cont) - 1 + k, t]) for k, t in enumerate(cont))
    assert edited == pytest.approx(expected, abs=1e-3)
    assert abs(edited - plain) > 1e-3


def test_identity_intervention_changes_nothing_and_batches(model):
    prompt = speech(1.0, 5)
    states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    positions = (0, 3, 24)
    for mode in InterventionMode:
        same = Intervention(mode, (1, 2), positions, states[[1, 2]][:, list(positions)])
        plain = model.generate([GenerateRequest(prompt, max_new_tokens=5)])[0].text
        batch = model.generate([GenerateRequest(text(TEXTS[0]), 5), GenerateRequest(prompt, 5, intervention=same)])
        assert batch[1].text == plain


def test_intervention_on_text_prompt_is_refused(model):
    from modgap_eval.errors import DataError

    bad = Intervention(InterventionMode.ANGLE, (0,), (0,), torch.zeros(1, 1, 64))
    with pytest.raises(DataError, match="speech"):
        model.generate([GenerateRequest(text(TEXTS[0]), 3, intervention=bad)])


def test_wrong_sample_rate_and_unknown_args_are_clear_errors(folder, model):
    from modgap_eval.errors import ConfigError, DataError

    wrong = Prompt(Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(tone(1.0, sample_rate=8_000), 8_000))
    with pytest.raises(DataError, match="16000 Hz"):
        model.hidden_states([HiddenStatesRequest(wrong)])
    with pytest.raises(ConfigError, match="unknown key"):
        MODELS.get("qwen2-audio").from_args({"pretrained": str(folder), "temprature": "1"}, RuntimeOptions())


def test_info_records_source_and_conventions(folder, model):
    info = model.info()
    assert info.name == "qwen2-audio" and info.source and info.revision.startswith("local-")
    assert info.details["decoder_layers"] == 2 and "before the final norm" in info.details["hidden_states"]
    assert info.parameters == sum(p.numel() for p in model.model.parameters())


def test_cached_audio_embeddings_give_the_same_hidden_states(folder):
    fresh = MODELS.get("qwen2-audio").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=4))
    clips = [speech(1.2, 6), speech(0.7, 7), speech(2.0, 8)]
    cold = fresh.hidden_states([HiddenStatesRequest(p) for p in clips[:1]])  # fills the cache for clip 0 only
    assert len(fresh.audio_memo.entries) == 1
    fresh.generate([GenerateRequest(p, 2) for p in clips])  # the prefill fills it for all three
    assert len(fresh.audio_memo.entries) == 3
    calls = []
    fresh.speech_batch = lambda *a, **k: calls.append(1)  # the cached path must not need the processor
    warm = fresh.hidden_states([HiddenStatesRequest(p) for p in clips])
    assert not calls
    uncached = MODELS.get("qwen2-audio").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=4))
    reference = uncached.hidden_states([HiddenStatesRequest(p) for p in clips])
    assert torch.allclose(warm[0].states, cold[0].states, atol=1e-4)
    for w, r in zip(warm, reference):
        assert w.states.shape == r.states.shape and torch.allclose(w.states, r.states, atol=1e-4)


def test_intervention_edits_the_prefill_only_and_changes_generation(model):
    prompt = speech(1.0, 9)
    states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    positions = tuple(range(states.shape[1]))
    # Angle at layer 0 towards random directions (a pure rescale would hardly matter: RMSNorm undoes it).
    partners = torch.randn(1, len(positions), 64, generator=torch.Generator().manual_seed(1))
    flipped = Intervention(InterventionMode.ANGLE, (0,), positions, partners)
    plain = model.generate([GenerateRequest(prompt, max_new_tokens=6)])[0].text
    edited = model.generate([GenerateRequest(prompt, max_new_tokens=6, intervention=flipped)])[0].text
    assert edited != plain  # every decode step after the prefill has one position: an edit there would raise
    again = model.generate([GenerateRequest(prompt, max_new_tokens=6)])[0].text
    assert again == plain  # hooks are gone after the call


@pytest.mark.skipif(
    importlib.util.find_spec("torchvision") is not None, reason="needs an environment without torchvision"
)
def test_a_processor_needing_a_missing_package_is_one_dependency_error(folder, tmp_path):
    """Omni's processor config names a video processor that needs torchvision: transformers raises ImportError
    deep inside AutoProcessor; the user gets one line naming the model and the missing library."""
    from modgap_eval.errors import DependencyError

    checkpoint = tmp_path / "omni-like"
    shutil.copytree(folder, checkpoint)
    (checkpoint / "processor_config.json").write_text(
        json.dumps(
            {
                "processor_class": "Qwen3OmniMoeProcessor",
                "image_processor": {"image_processor_type": "Qwen2VLImageProcessor"},
                "video_processor": {"video_processor_type": "Qwen2VLVideoProcessor"},
            }
        )
    )
    with pytest.raises(DependencyError) as caught:
        MODELS.get("qwen2-audio").from_args({"pretrained": str(checkpoint)}, RuntimeOptions())
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("model 'qwen2-audio': Qwen2VLVideoProcessor requires the Torchvision library")
