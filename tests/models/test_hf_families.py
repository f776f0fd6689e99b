"""The done-when checks for every speech-LM family built tiny: batching, log-likelihoods, spans.

Each family's tiny model is saved by ``tests/models/tiny.py`` and loaded through the registered
adapter. References are computed independently with the family's processor and HF model.
"""

from __future__ import annotations

import base64
import io

import pytest
import soundfile
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
from tests.models import tiny

# Qwen2-Audio has its own, deeper file (test_hf_qwen2_audio.py).
FAMILIES = {
    "audioflamingo3": (tiny.build_tiny_audioflamingo3, "AudioFlamingo3ForConditionalGeneration"),
    "voxtral": (tiny.build_tiny_voxtral, "VoxtralForConditionalGeneration"),
}
PREFIX, SUFFIX = "Listen: ", " Answer briefly."


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request, tmp_path_factory):
    import transformers

    build, class_name = FAMILIES[request.param]
    folder = build(tmp_path_factory.mktemp(request.param))
    model = MODELS.get(request.param).from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=8))
    hf = getattr(transformers, class_name).from_pretrained(folder).eval()
    processor = transformers.AutoProcessor.from_pretrained(folder)
    return model, hf, processor


def prompts() -> list[Prompt]:
    out = []
    for i, (seconds, content) in enumerate([(1.0, "What is the capital of France?"), (2.4, "yes"), (0.6, "How many legs")]):
        out.append(Prompt(Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(tiny.tone(seconds, 170 + 60 * i, seed=i), 16_000)))
        out.append(Prompt(Modality.TEXT, PREFIX, SUFFIX, text=content))
    return out


def reference(processor, prompt: Prompt, continuation: str = "") -> tuple[dict, list[int]]:
    """Inputs built by hand the model-card way: chat template, then the processor (or tokenizer)."""
    if type(processor).__name__ == "VoxtralProcessor":
        inputs = voxtral_reference(processor, prompt)
    else:
        inputs = template_reference(processor, prompt)
    cont = processor.tokenizer(continuation, add_special_tokens=False)["input_ids"] if continuation else []
    if cont:
        inputs["input_ids"] = torch.cat([inputs["input_ids"], torch.tensor([cont])], dim=1)
        inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    return inputs, cont


def voxtral_reference(processor, prompt: Prompt) -> dict:
    """Voxtral's model card: mistral-common tokenizes the chat and expands the audio (a float WAV, base64)."""
    if prompt.modality is Modality.SPEECH:
        wav = io.BytesIO()
        soundfile.write(wav, prompt.audio.samples, prompt.audio.sample_rate, format="WAV", subtype="FLOAT")
        audio = {"type": "audio", "base64": base64.b64encode(wav.getvalue()).decode()}
        content = [{"type": "text", "text": PREFIX}, audio, {"type": "text", "text": SUFFIX}]
    else:
        content = PREFIX + prompt.text + SUFFIX
    return dict(processor.apply_chat_template([{"role": "user", "content": content}], tokenize=True, return_dict=True))


def template_reference(processor, prompt: Prompt) -> dict:
    slot = {"type": "audio"} if prompt.modality is Modality.SPEECH else {"type": "text", "text": prompt.text}
    content = [{"type": "text", "text": PREFIX}, slot, {"type": "text", "text": SUFFIX}]
    chat = processor.apply_chat_template([{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True)
    if prompt.modality is Modality.SPEECH:
        inputs = dict(processor(text=[chat], audio=[prompt.audio.samples], return_tensors="pt"))
    else:
        inputs = dict(processor.tokenizer([chat], return_tensors="pt", add_special_tokens=False))
    inputs.pop("num_audio_tokens", None)
    return inputs


def test_batched_generate_equals_one_at_a_time_and_hf(family):
    model, hf, processor = family
    requests = [GenerateRequest(p, max_new_tokens=6) for p in prompts()]
    batched = [g.text for g in model.generate(requests)]
    assert batched == [model.generate([r])[0].text for r in requests]
    for request, text in list(zip(requests, batched))[:2]:
        inputs, _ = reference(processor, request.prompt)
        out = hf.generate(**inputs, max_new_tokens=6, do_sample=False)
        assert text == processor.tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


def test_loglikelihood_equals_sum_from_logits(family):
    model, hf, processor = family
    continuations = ("B", " the red planet")
    results = model.loglikelihood([LoglikelihoodRequest(p, continuations) for p in prompts()])
    for prompt, result in list(zip(prompts(), results))[:2]:  # one speech, one text (references are slow)
        for continuation, value, count in zip(continuations, result.logprobs, result.token_counts):
            inputs, cont = reference(processor, prompt, continuation)
            with torch.no_grad():
                logprobs = torch.log_softmax(hf(**inputs).logits[0].float(), dim=-1)
            n = inputs["input_ids"].shape[1]
            assert count == len(cont)
            assert value == pytest.approx(sum(float(logprobs[n - len(cont) - 1 + k, t]) for k, t in enumerate(cont)), abs=1e-3)


def test_hidden_state_spans(family):
    model, hf, processor = family
    for prompt, hs in zip(prompts(), model.hidden_states([HiddenStatesRequest(p) for p in prompts()])):
        inputs, _ = reference(processor, prompt)
        ids = inputs["input_ids"][0]
        if prompt.modality is Modality.SPEECH:
            positions = (ids == hf.config.audio_token_id).nonzero().flatten()
            assert hs.length == len(positions) > 0
        else:
            spelled = processor.tokenizer.decode(processor.tokenizer.convert_tokens_to_ids(list(hs.tokens)))
            assert spelled.strip() == prompt.text
            first = ids.tolist().index(processor.tokenizer.convert_tokens_to_ids(hs.tokens[0]))
            positions = torch.arange(first, first + hs.length)
        with torch.no_grad():
            ref = hf(**inputs, output_hidden_states=True).hidden_states
        assert hs.states.shape[0] == len(ref) and hs.states.dtype == torch.float32
        for layer in range(len(ref) - 1):
            assert torch.allclose(hs.states[layer], ref[layer][0, positions], atol=1e-4)


def test_interventions_apply_in_prefill(family):
    model, hf, processor = family
    prompt = prompts()[0]
    states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    positions = (0, 5, hs_len := states.shape[1] - 1)
    identity = Intervention(InterventionMode.ANGLE, (0, 1), positions, states[[0, 1]][:, list(positions)])
    flipped = Intervention(InterventionMode.ANGLE, (0,), positions, -states[[0]][:, list(positions)])
    plain = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",))])[0].logprobs[0]
    same = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",), identity)])[0].logprobs[0]
    moved = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",), flipped)])[0].logprobs[0]
    assert same == pytest.approx(plain, abs=1e-4) and abs(moved - plain) > 1e-4 and hs_len > 5


@pytest.mark.parametrize("name", ["qwen2-audio", "qwen2.5-omni", "voxtral", "granite-speech", "phi4-multimodal", "audioflamingo3"])
def test_registered_speech_families_resolve(name):
    import transformers

    from modgap_eval.models.base import Capability

    cls = MODELS.get(name)
    assert hasattr(transformers, cls.model_class) and cls.default_pretrained
    assert {Capability.GENERATE, Capability.LOGLIKELIHOOD, Capability.HIDDEN_STATES, Capability.INTERVENTION} <= cls.capabilities
