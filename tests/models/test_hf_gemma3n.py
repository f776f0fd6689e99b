"""Gemma 3n's speech content span: the positions the audio encoder filled, not the processor's padding.

The processor writes 188 audio placeholders per clip; the model fills the first ones from the encoder
and gives the rest one padding embedding. The filled count is read here from the model's own forward
pass, independently of the adapter's rule (ceil(valid frames / 16)): the audio positions whose
input embedding (block 1's input, HF's ``hidden_states[0]``) is not the padding embedding, and the
encoder's own output mask. Clips of 96 and 97 feature frames sit on either side of a 16-frame step;
3 s is the docstring's 19 positions. The tiny model needs timm (its vision tower): skipped without.
"""

from __future__ import annotations

import operator

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.errors import DataError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.models.args import HFArgs, SpeechSpanArgs
from modgap_eval.models.hf_family import FilledSpan, HFFamily
from modgap_eval.types import (
    GenerateRequest,
    HiddenStatesRequest,
    Intervention,
    InterventionMode,
    LoglikelihoodRequest,
    Modality,
    Prompt,
)
from tests.models import tiny
from tests.models.test_hf_families import PREFIX, SUFFIX, missing, spoken, states_close, template_reference

needs_timm = pytest.mark.skipif(bool(missing(("timm",))), reason=f"gemma3n: {missing(('timm',))}")

CLIPS = {15_700: 96, 15_900: 97, 48_000: 297}
"""Samples -> feature frames (16 kHz, hop 160): 96 -> 6 positions, 97 -> 7, 297 (3 s) -> 19."""


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    import transformers

    folder = tiny.build_tiny_gemma3n(tmp_path_factory.mktemp("gemma3n"))
    runtime = RuntimeOptions(batch_size=8)
    encoded = MODELS.get("gemma3n").from_args({"pretrained": str(folder)}, runtime)
    whole = MODELS.get("gemma3n").from_args({"pretrained": str(folder), "speech_span": "all"}, runtime)
    hf = transformers.Gemma3nForConditionalGeneration.from_pretrained(folder).eval()
    return encoded, whole, hf, transformers.AutoProcessor.from_pretrained(folder)


def model_reference(hf, processor, prompt: Prompt) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """HF's states (active AltUp stream) at the audio positions, and the filled count two ways from the
    model's own pass: audio inputs that differ from the padding embedding, and the encoder's mask."""
    inputs = template_reference(processor, prompt, typed=False)
    with torch.no_grad():
        out = hf(**inputs, output_hidden_states=True)
    stream = operator.attrgetter("text_config.altup_active_idx")(hf.config)
    positions = (inputs["input_ids"][0] == hf.config.audio_token_id).nonzero().flatten()
    states = torch.stack([h[stream][0, positions] for h in out.hidden_states]).float()
    with torch.no_grad():
        padding = hf.model.embed_audio(input_ids=torch.tensor([[hf.model.vocab_size - 1]]))[0, 0]
    is_padding = (states[0] == padding).all(-1)
    by_embedding = int((~is_padding).sum())
    assert not is_padding[:by_embedding].any() and is_padding[by_embedding:].all()  # filled ones come first
    by_mask = int((~out.audio_outputs.audio_mel_mask).sum())
    return states, positions, by_embedding, by_mask


@needs_timm
@pytest.mark.parametrize("samples", sorted(CLIPS))
def test_states_are_the_filled_positions_and_all_keeps_the_whole_run(gemma, samples):
    encoded, whole, hf, processor = gemma
    prompt = spoken(samples)
    frames = int(
        processor.feature_extractor([prompt.audio.samples], sampling_rate=16_000, return_tensors="pt")[
            "input_features_mask"
        ].sum()
    )
    assert frames == CLIPS[samples]
    ref, positions, filled, by_mask = model_reference(hf, processor, prompt)
    assert filled == by_mask == -(-frames // 16) and len(positions) == 188
    ours = encoded.hidden_states([HiddenStatesRequest(prompt)])[0].states
    everything = whole.hidden_states([HiddenStatesRequest(prompt)])[0].states
    assert ours.shape[:2] == (len(ref), filled) and everything.shape[:2] == (len(ref), 188)
    for layer in range(len(ref) - 1):  # the last is after the final norm (not a residual-stream state)
        assert states_close(ours[layer], ref[layer, :filled]) and states_close(everything[layer], ref[layer])
    assert torch.equal(ours, everything[:, :filled])  # the same pass, cut


@needs_timm
def test_three_second_clip_is_nineteen_positions_in_a_mixed_batch(gemma):
    encoded, _, _, _ = gemma
    requests = [HiddenStatesRequest(spoken(48_000)), HiddenStatesRequest(spoken(15_700, seed=1))]
    requests.append(HiddenStatesRequest(Prompt(Modality.TEXT, PREFIX, SUFFIX, text="What is the capital?")))
    lengths = [hs.length for hs in encoded.hidden_states(requests)]
    assert lengths[:2] == [19, 6] and 0 < lengths[2] < 10


@needs_timm
def test_results_record_the_rule(gemma):
    encoded, whole, _, _ = gemma
    assert encoded.info().args["speech_span"] == "encoded" and whole.info().args["speech_span"] == "all"
    assert "ceil(frames / 16)" in encoded.info().details["speech_content_span"]
    assert "input_features_mask" in encoded.info().details["speech_content_span"]
    assert "speech_span=all" in whole.info().details["speech_content_span"]
    assert encoded.cache_key() != whole.cache_key()  # cached interventions differ between the two


@needs_timm
def test_generation_and_loglikelihoods_see_every_placeholder(gemma):
    encoded, whole, hf, processor = gemma
    prompt = spoken(15_900)
    request = LoglikelihoodRequest(prompt, ("B", " the red planet"))
    scores = encoded.loglikelihood([request])[0].logprobs
    assert scores == whole.loglikelihood([request])[0].logprobs
    inputs = template_reference(processor, prompt, typed=False)
    cont = processor.tokenizer(" the red planet", add_special_tokens=False)["input_ids"]
    inputs["input_ids"] = torch.cat([inputs["input_ids"], torch.tensor([cont])], dim=1)
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    with torch.no_grad():
        logp = torch.log_softmax(hf(**inputs).logits[0].float(), -1)
    n = inputs["input_ids"].shape[1]
    assert scores[1] == pytest.approx(sum(float(logp[n - len(cont) - 1 + k, t]) for k, t in enumerate(cont)), abs=1e-3)
    generate = GenerateRequest(prompt, max_new_tokens=5)
    assert encoded.generate([generate]) == whole.generate([generate])


@needs_timm
def test_intervention_positions_index_the_filled_states(gemma):
    encoded, whole, _, _ = gemma
    prompt = spoken(15_900)  # 7 filled positions
    states = encoded.hidden_states([HiddenStatesRequest(prompt)])[0].states
    last = states.shape[1] - 1
    flipped = Intervention(InterventionMode.ANGLE, (1,), (0, last), -states[[1]][:, [0, last]])
    identity = Intervention(InterventionMode.ANGLE, (1,), (0, last), states[[1]][:, [0, last]])

    def score(model, intervention):
        return model.loglikelihood([LoglikelihoodRequest(prompt, ("A",), intervention)])[0].logprobs[0]

    plain = score(encoded, None)
    assert score(encoded, identity) == pytest.approx(plain, abs=1e-4)
    moved = score(encoded, flipped)
    assert abs(moved - plain) > 1e-4
    assert moved == pytest.approx(score(whole, flipped), abs=1e-5)  # the same absolute positions either way
    beyond = Intervention(InterventionMode.ANGLE, (1,), (last + 1,), states[[1]][:, [last]])
    with pytest.raises(DataError, match=f"outside the content span of length {last + 1}"):
        encoded.loglikelihood([LoglikelihoodRequest(prompt, ("A",), beyond)])
    assert abs(score(whole, beyond) - plain) > 1e-6  # a padding position, editable with speech_span=all


def test_filled_span_comes_with_its_args_and_without_embedding_reuse():
    rule = FilledSpan("input_features_mask", 16)
    assert rule.counts({"input_features_mask": torch.tensor([[1] * 96 + [0], [1] * 97])}, [range(188)] * 2) == [6, 7]
    assert rule.counts({"input_features_mask": torch.ones(1, 3001)}, [range(5, 193)]) == [188]  # at most the run
    with pytest.raises(TypeError, match="come together"):
        HFFamily(name="x", filled_span=rule)
    with pytest.raises(TypeError, match="come together"):
        HFFamily(name="x", args=SpeechSpanArgs)
    with pytest.raises(TypeError, match="reuse"):
        HFFamily(name="x", filled_span=rule, args=SpeechSpanArgs, reuse_audio_embeddings=True)
    assert HFFamily(name="x").args is HFArgs


@needs_timm
def test_sixteen_frames_per_position_is_the_encoders_subsampling(gemma):
    """Time strides of the two convolutions times the conformer's reduction (transformers' defaults,
    which the tiny config keeps: Google documents 160 ms, i.e. 16 hops of 10 ms, per audio token)."""
    _, _, hf, _ = gemma
    audio = hf.config.audio_config
    strides = [pair[0] for pair in audio.sscp_conv_stride_size]
    assert strides[0] * strides[1] * audio.conf_reduction_factor == 16
    assert MODELS.get("gemma3n").family.filled_span == FilledSpan("input_features_mask", 16)
