"""The done-when checks for every speech-LM family built tiny: batching, log-likelihoods, spans.

Each family's tiny model is saved by ``tests/models/tiny.py`` and loaded through the registered
adapter. References are computed independently, the model-card way, with the family's processor
and HF model; for a family with a speech LoRA the speech reference is the base model with the LoRA
merged into its weights by hand (from the adapter files), the text reference the base model.
Families whose processor needs a package that does not import here (torchvision / torchaudio built
for another torch, or peft missing) are skipped, naming it.
"""

from __future__ import annotations

import base64
import copy
import importlib
import io
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import soundfile
import torch

from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.models.hf_granite_speech import GRANITE_SPEECH_SYSTEM
from modgap_eval.models.hf_qwen25_omni import QWEN25_OMNI_SYSTEM
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

PROBES = {
    "torchvision": ("torchvision.ops", "nms"),
    "torchaudio": ("torchaudio.transforms", "MelSpectrogram"),
    "peft": ("peft", "LoraConfig"),
    "timm": ("timm", "create_model"),
}
"""Per optional package, one thing the families use from it (importing the top package is not enough:
a torchvision built for another torch imports, then fails on its C++ ops)."""


def missing(packages: tuple[str, ...]) -> str | None:
    """Why the first unusable package of ``packages`` cannot be used here, or None."""
    for package in packages:
        module, attribute = PROBES[package]
        try:
            getattr(importlib.import_module(module), attribute)
        except Exception as exc:  # ImportError, or e.g. RuntimeError/OSError from a mismatched build
            return f"needs {package} ({module}.{attribute}), which does not load here: {type(exc).__name__}: {exc}"[
                :300
            ]
    return None


@dataclass(frozen=True)
class Family:
    build: Callable[[Path], Path]
    hf_class: str
    needs: tuple[str, ...] = ()
    """Packages its processor (or LoRA) needs beyond the base install."""
    lora: str | None = None
    """Folder of the speech LoRA inside the checkpoint ("." for the checkpoint folder itself)."""
    thinker: bool = False
    """The checkpoint is a full Qwen Omni (2.5 or 3): the reference is its ``.thinker``, as on the model card."""


# Qwen2-Audio has its own, deeper file (test_hf_qwen2_audio.py).
FAMILIES = {
    "audioflamingo3": Family(tiny.build_tiny_audioflamingo3, "AudioFlamingo3ForConditionalGeneration"),
    "voxtral": Family(tiny.build_tiny_voxtral, "VoxtralForConditionalGeneration"),
    "gemma3n": Family(tiny.build_tiny_gemma3n, "Gemma3nForConditionalGeneration", needs=("timm",)),
    "qwen2.5-omni": Family(
        tiny.build_tiny_qwen25_omni, "Qwen2_5OmniForConditionalGeneration", needs=("torchvision",), thinker=True
    ),
    "qwen3-omni": Family(
        tiny.build_tiny_qwen3_omni, "Qwen3OmniMoeForConditionalGeneration", needs=("torchvision",), thinker=True
    ),
    "granite-speech": Family(
        tiny.build_tiny_granite_speech, "GraniteSpeechForConditionalGeneration", needs=("torchaudio", "peft"), lora="."
    ),
    "phi4-multimodal": Family(
        tiny.build_tiny_phi4_multimodal, "Phi4MultimodalForCausalLM", needs=("torchvision", "peft"), lora="speech-lora"
    ),
}
PREFIX, SUFFIX = "Listen: ", " Answer briefly."


def family_params() -> list:
    out = []
    for name in sorted(FAMILIES):
        reason = missing(FAMILIES[name].needs)
        out.append(pytest.param(name, id=name, marks=[pytest.mark.skip(reason=f"{name}: {reason}")] if reason else []))
    return out


@dataclass
class Loaded:
    """The adapter under test and the by-hand references: processor, HF model for text and for speech."""

    name: str
    model: Any
    processor: Any
    hf_text: Any
    hf_speech: Any
    lora: Path | None

    def hf(self, prompt: Prompt) -> Any:
        return self.hf_speech if prompt.modality is Modality.SPEECH else self.hf_text


def merge_lora(model: Any, folder: Path) -> Any:
    """A copy of ``model`` with the LoRA in ``folder`` merged by hand: W += alpha / r * B @ A."""
    from safetensors.torch import load_file

    config = json.loads((folder / "adapter_config.json").read_text())
    weights = load_file(folder / "adapter_model.safetensors")
    merged = copy.deepcopy(model)
    modules = dict(merged.named_modules())
    pairs = [(k.removeprefix("base_model.model.").split(".lora_A.")[0], k) for k in weights if ".lora_A." in k]
    assert pairs and len(pairs) * 2 == len(weights)
    with torch.no_grad():
        for name, key in pairs:
            modules[name].weight += (
                config["lora_alpha"] / config["r"] * weights[key.replace("lora_A", "lora_B")] @ weights[key]
            )
    return merged


def load_reference(family: Family, folder: Path) -> Any:
    import transformers

    cls = getattr(transformers, family.hf_class)
    # transformers 5.2x refuses released peft (< 0.22) when it finds adapter files: load the base weights
    # (the LoRA is merged by hand below); the subfolder points its adapter search where there is none.
    model = cls.from_pretrained(folder, adapter_kwargs={"subfolder": "no-adapter-here"}).eval()
    return model.thinker if family.thinker else model


@pytest.fixture(scope="module", params=family_params())
def family(request, tmp_path_factory) -> Loaded:
    import transformers

    spec = FAMILIES[request.param]
    folder = spec.build(tmp_path_factory.mktemp(request.param.replace(".", "_")))
    model = MODELS.get(request.param).from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=8))
    hf = load_reference(spec, folder)
    lora = folder / spec.lora if spec.lora else None
    processor = transformers.AutoProcessor.from_pretrained(folder)
    return Loaded(request.param, model, processor, hf, merge_lora(hf, lora) if lora else hf, lora)


def spoken(samples: int, seed: int = 0) -> Prompt:
    """A spoken prompt whose clip is exactly ``samples`` samples at 16 kHz (for span-length steps)."""
    clip = tiny.tone((samples + 0.5) / 16_000, 230, seed=seed)
    return Prompt(Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(clip, 16_000))


def states_close(ours: torch.Tensor, ref: torch.Tensor) -> bool:
    """Equal up to float noise, which scales with the layer's magnitude (hundreds in the peaked tiny models)."""
    return float((ours - ref).abs().max()) <= 1e-4 + 1e-5 * float(ref.abs().max())


def prompts() -> list[Prompt]:
    out = []
    for i, (seconds, content) in enumerate(
        [(1.0, "What is the capital of France?"), (2.4, "yes"), (0.6, "How many legs")]
    ):
        out.append(
            Prompt(Modality.SPEECH, PREFIX, SUFFIX, audio=Waveform(tiny.tone(seconds, 170 + 60 * i, seed=i), 16_000))
        )
        out.append(Prompt(Modality.TEXT, PREFIX, SUFFIX, text=content))
    return out


def reference(family: Loaded, prompt: Prompt, continuation: str = "") -> tuple[dict, list[int]]:
    """Inputs built by hand the model-card way: chat template, then the processor (or tokenizer)."""
    processor = family.processor
    if family.name == "voxtral":
        inputs = voxtral_reference(processor, prompt)
    elif family.name == "granite-speech":
        inputs = granite_reference(processor, prompt)
    elif family.name == "phi4-multimodal":
        inputs = phi4_reference(processor, prompt)
    else:
        system = QWEN25_OMNI_SYSTEM if family.name == "qwen2.5-omni" else None
        typed = MODELS.get(family.name).family.chat_template == "processor"
        inputs = template_reference(processor, prompt, system, typed)
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


def granite_reference(processor, prompt: Prompt) -> dict:
    """Granite-Speech's model card: the tokenizer's template with ``<|audio|>`` in the user text, the
    card's system prompt, then the processor on the rendered prompt and the waveform tensor."""
    body = "<|audio|>" if prompt.modality is Modality.SPEECH else prompt.text
    chat = [{"role": "system", "content": GRANITE_SPEECH_SYSTEM}, {"role": "user", "content": PREFIX + body + SUFFIX}]
    text = processor.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    if prompt.modality is Modality.SPEECH:
        return dict(processor(text, torch.from_numpy(prompt.audio.samples)[None], return_tensors="pt"))
    return dict(processor.tokenizer([text], return_tensors="pt", add_special_tokens=False))


def phi4_reference(processor, prompt: Prompt) -> dict:
    """Phi-4-multimodal's model card prompt, ``<|user|>...<|audio|>...<|end|><|assistant|>``, through the
    processor (whose saved chat template transformers drops on load)."""
    body = "<|audio|>" if prompt.modality is Modality.SPEECH else prompt.text
    text = f"<|user|>{PREFIX}{body}{SUFFIX}<|end|><|assistant|>"
    if prompt.modality is Modality.SPEECH:
        return dict(processor(text=text, audio=[prompt.audio.samples], sampling_rate=16_000, return_tensors="pt"))
    return dict(processor.tokenizer([text], return_tensors="pt", add_special_tokens=False))


def template_reference(processor, prompt: Prompt, system: str | None = None, typed: bool = True) -> dict:
    """The processor's chat template over typed items, or (``typed=False``) one string with the
    processor's audio token written in place."""
    slot = {"type": "audio"} if prompt.modality is Modality.SPEECH else {"type": "text", "text": prompt.text}
    messages = [{"role": "system", "content": [{"type": "text", "text": system}]}] if system else []
    content = [{"type": "text", "text": PREFIX}, slot, {"type": "text", "text": SUFFIX}]
    if not typed:
        content = PREFIX + (processor.audio_token if prompt.modality is Modality.SPEECH else prompt.text) + SUFFIX
    messages.append({"role": "user", "content": content})
    chat = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if prompt.modality is Modality.SPEECH:
        inputs = dict(processor(text=[chat], audio=[prompt.audio.samples], sampling_rate=16_000, return_tensors="pt"))
    else:
        inputs = dict(processor.tokenizer([chat], return_tensors="pt", add_special_tokens=False))
    inputs.pop("num_audio_tokens", None)
    return inputs


def audio_token_id(hf) -> int:
    config = hf.config
    return (
        config.audio_token_id
        if getattr(config, "audio_token_id", None) is not None
        else config.audio_config.audio_token_id
    )


def test_batched_generate_equals_one_at_a_time_and_hf(family):
    model = family.model
    requests = [GenerateRequest(p, max_new_tokens=6) for p in prompts()]
    batched = [g.text for g in model.generate(requests)]
    assert batched == [model.generate([r])[0].text for r in requests]
    for request, text in list(zip(requests, batched))[:2]:
        inputs, _ = reference(family, request.prompt)
        out = family.hf(request.prompt).generate(**inputs, max_new_tokens=6, do_sample=False)
        tokenizer = family.processor.tokenizer
        assert text == tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def reference_logprob(hf, inputs: dict, cont: list[int]) -> float:
    with torch.no_grad():
        logprobs = torch.log_softmax(hf(**inputs).logits[0].float(), dim=-1)
    n = inputs["input_ids"].shape[1]
    return sum(float(logprobs[n - len(cont) - 1 + k, t]) for k, t in enumerate(cont))


def test_loglikelihood_equals_sum_from_logits(family):
    continuations = ("B", " the red planet")
    requests = [LoglikelihoodRequest(p, continuations) for p in prompts()]
    results = family.model.loglikelihood(requests)
    # The shortest clip, padded most in its batch, scores the same alone.
    assert results[4].logprobs == pytest.approx(family.model.loglikelihood(requests[4:5])[0].logprobs, abs=1e-4)
    for prompt, result in list(zip(prompts(), results))[:2]:  # one speech, one text (references are slow)
        for continuation, value, count in zip(continuations, result.logprobs, result.token_counts):
            inputs, cont = reference(family, prompt, continuation)
            assert count == len(cont)
            assert value == pytest.approx(reference_logprob(family.hf(prompt), inputs, cont), abs=1e-3)


def test_hidden_state_spans(family):
    tokenizer = family.processor.tokenizer
    for prompt, hs in zip(prompts(), family.model.hidden_states([HiddenStatesRequest(p) for p in prompts()])):
        hf = family.hf(prompt)
        inputs, _ = reference(family, prompt)
        ids = inputs["input_ids"][0]
        if prompt.modality is Modality.SPEECH:
            positions = (ids == audio_token_id(hf)).nonzero().flatten()
            if family.model.loaded.filled_span is not None:  # the encoder-filled start (test_hf_gemma3n.py)
                assert 0 < hs.length < len(positions)
                positions = positions[: hs.length]
            assert hs.length == len(positions) > 0
        else:
            spelled = tokenizer.decode(tokenizer.convert_tokens_to_ids(list(hs.tokens)))
            assert spelled.strip() == prompt.text
            first = ids.tolist().index(tokenizer.convert_tokens_to_ids(hs.tokens[0]))
            positions = torch.arange(first, first + hs.length)
        with torch.no_grad():
            ref = hf(**inputs, output_hidden_states=True).hidden_states
        if (stream := family.model.family.residual_stream) is not None:  # AltUp's [streams, batch, T, d]
            index = operator.attrgetter(stream)(hf.config)
            ref = [h[index] for h in ref]
            assert family.model.info().details["residual_stream"].startswith(f"stream {index} ")
        assert hs.states.shape[0] == len(ref) and hs.states.dtype == torch.float32
        for layer in range(len(ref) - 1):
            assert states_close(hs.states[layer], ref[layer][0, positions])


def test_interventions_apply_in_prefill(family):
    model = family.model
    prompt = prompts()[0]
    states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    positions = (0, 5, hs_len := states.shape[1] - 1)
    identity = Intervention(InterventionMode.ANGLE, (0, 1), positions, states[[0, 1]][:, list(positions)])
    flipped = Intervention(InterventionMode.ANGLE, (0,), positions, -states[[0]][:, list(positions)])
    plain = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",))])[0].logprobs[0]
    same = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",), identity)])[0].logprobs[0]
    moved = model.loglikelihood([LoglikelihoodRequest(prompt, ("A",), flipped)])[0].logprobs[0]
    assert same == pytest.approx(plain, abs=1e-4) and abs(moved - plain) > 1e-4 and hs_len > 5


@pytest.mark.parametrize("family", [p for p in family_params() if FAMILIES[p.values[0]].lora], indirect=True)
def test_speech_lora_on_for_speech_off_for_text(family):
    """Speech scores are the LoRA-merged model's, text scores the base model's, in one mixed call,
    and the other choice would differ (the LoRA matters for both)."""
    speech, text = prompts()[0], prompts()[1]
    requests = [LoglikelihoodRequest(p, (" the red planet",)) for p in (text, speech, text)]
    scores = [r.logprobs[0] for r in family.model.loglikelihood(requests)]
    # Same text prompt before and after the speech batch: LoRA off both times (on, it moves scores by > 1e-2);
    # the two rows may differ by float noise of their batch position (4e-6 for Phi-4 with torch 2.11).
    assert scores[0] == pytest.approx(scores[2], abs=1e-4)
    for prompt, score in ((text, scores[0]), (speech, scores[1])):
        inputs, cont = reference(family, prompt, " the red planet")
        own = reference_logprob(family.hf(prompt), inputs, cont)
        other = family.hf_text if prompt.modality is Modality.SPEECH else family.hf_speech
        assert score == pytest.approx(own, abs=1e-3)
        assert abs(score - reference_logprob(other, inputs, cont)) > 1e-2


@pytest.mark.parametrize(
    "name",
    [
        "qwen2-audio",
        "qwen2.5-omni",
        "qwen3-omni",
        "voxtral",
        "granite-speech",
        "phi4-multimodal",
        "audioflamingo3",
        "gemma3n",
    ],
)
def test_registered_speech_families_resolve(name):
    import transformers

    from modgap_eval.models.base import Capability

    cls = MODELS.get(name)
    assert hasattr(transformers, cls.family.model_class) and cls.family.default_pretrained
    assert {
        Capability.GENERATE,
        Capability.LOGLIKELIHOOD,
        Capability.HIDDEN_STATES,
        Capability.INTERVENTION,
    } <= cls.capabilities
