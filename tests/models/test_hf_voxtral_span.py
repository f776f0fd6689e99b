"""Voxtral's speech content span: the [AUDIO] positions whose frames are the clip's, not the 30 s padding.

mistral-common pads every clip to whole 30 s windows and writes 375 [AUDIO] per window. The filled
count is derived here independently of the adapter's rule: the mel frames Whisper's feature extractor
gives the *unpadded* clip, divided by the encoder's own subsampling read from the tiny model (conv
strides times the projector's stacking of encoder frames), and mistral-common's own token count for a
clip without window padding (``AudioConfig.num_audio_tokens``). Clips sit on either side of the
160-sample frame step inside an 80 ms position (k*1280+159 vs k*1280+160 samples) and at k*80 ms + 1
sample. The layout (windows one after another, so a 40 s clip's frames are a prefix of the 750
positions) is checked on the model's own audio embeddings; states against HF's ``output_hidden_states``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.errors import DataError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.models.hf_family import FilledSpan
from modgap_eval.types import (
    GenerateRequest,
    HiddenStatesRequest,
    Intervention,
    InterventionMode,
    LoglikelihoodRequest,
    Prompt,
)
from tests.models import tiny
from tests.models.test_hf_families import spoken, states_close, voxtral_reference

CLIPS = {12_800: 10, 12_801: 10, 12_959: 10, 12_960: 11, 16_000: 13}
"""Samples -> positions: 80 ms = 1280 samples = 8 mel frames of 160; the step is at a whole frame."""


@pytest.fixture(scope="module")
def voxtral(tmp_path_factory):
    import transformers

    folder = tiny.build_tiny_voxtral(tmp_path_factory.mktemp("voxtral"))
    runtime = RuntimeOptions(batch_size=4)
    encoded = MODELS.get("voxtral").from_args({"pretrained": str(folder)}, runtime)
    whole = MODELS.get("voxtral").from_args({"pretrained": str(folder), "speech_span": "all"}, runtime)
    hf = transformers.VoxtralForConditionalGeneration.from_pretrained(folder).eval()
    return encoded, whole, hf, transformers.AutoProcessor.from_pretrained(folder)


def independent_count(hf, processor, samples: int) -> int:
    """Frames of the unpadded clip (the extractor itself) over the encoder's frames per position."""
    clip = np.zeros(samples, dtype=np.float32)
    frames = processor.feature_extractor(
        clip, sampling_rate=16_000, padding="longest", truncation=False, return_tensors="np"
    )
    tower, audio = hf.model.audio_tower, hf.config.audio_config
    per_position = tower.conv1.stride[0] * tower.conv2.stride[0] * (audio.intermediate_size // audio.hidden_size)
    return -(-frames["input_features"].shape[-1] // per_position)


def test_filled_count_from_the_extractor_the_strides_and_mistral_common(voxtral):
    encoded, _, hf, processor = voxtral
    audio_config = processor.tokenizer.tokenizer.instruct_tokenizer.audio_encoder.audio_config
    assert audio_config.chunk_length_s == 30 and audio_config.num_audio_tokens(480_000) == 375
    for samples, positions in CLIPS.items():
        assert independent_count(hf, processor, samples) == audio_config.num_audio_tokens(samples) == positions
        row = encoded.encode([spoken(samples)]).rows[0]
        assert len(row.content) == 375 and row.states == row.content[:positions]
    assert MODELS.get("voxtral").family.filled_span == FilledSpan(None, 8, hop=160)


def test_windows_are_consecutive_so_a_40_s_clip_fills_a_prefix(voxtral):
    """The model's own audio embeddings: positions 375.. are window 2's (window-major), so the clip's
    frames over two windows are the first 375 + 125 positions of 750."""
    encoded, whole, hf, processor = voxtral
    prompt = spoken(640_000)
    features = voxtral_reference(processor, prompt)["input_features"]
    assert features.shape[0] == 2  # two 30 s windows
    with torch.no_grad():
        both = hf.model.get_audio_features(features).pooler_output
        second = hf.model.get_audio_features(features[1:]).pooler_output
    assert both.shape[0] == 750 and torch.allclose(both[375:], second, atol=1e-5)
    assert independent_count(hf, processor, 640_000) == 500
    lengths = [m.hidden_states([HiddenStatesRequest(prompt)])[0].length for m in (encoded, whole)]
    assert lengths == [500, 750]


def hf_states(hf, processor, prompt: Prompt) -> torch.Tensor:
    inputs = voxtral_reference(processor, prompt)
    with torch.no_grad():
        out = hf(**inputs, output_hidden_states=True)
    positions = (inputs["input_ids"][0] == hf.config.audio_token_id).nonzero().flatten()
    return torch.stack([h[0, positions] for h in out.hidden_states]).float()


@pytest.mark.parametrize("samples", [12_959, 12_960])
def test_states_are_hfs_at_the_filled_positions_and_all_keeps_the_run(voxtral, samples):
    encoded, whole, hf, processor = voxtral
    prompt = spoken(samples)
    ref = hf_states(hf, processor, prompt)
    filled = CLIPS[samples]
    ours = encoded.hidden_states([HiddenStatesRequest(prompt)])[0].states
    everything = whole.hidden_states([HiddenStatesRequest(prompt)])[0].states
    assert ours.shape[:2] == (len(ref), filled) and everything.shape[:2] == (len(ref), 375)
    for layer in range(len(ref) - 1):  # the last is after the final norm
        assert states_close(ours[layer], ref[layer, :filled]) and states_close(everything[layer], ref[layer])
    again = encoded.hidden_states([HiddenStatesRequest(prompt)])[0].states  # from the kept audio embeddings
    assert encoded.audio_memo.entries and again.shape == ours.shape and torch.allclose(again, ours, atol=1e-4)


def test_results_record_the_rule(voxtral):
    encoded, whole, _, _ = voxtral
    assert encoded.info().args["speech_span"] == "encoded" and whole.info().args["speech_span"] == "all"
    assert "ceil(frames / 8)" in encoded.info().details["speech_content_span"]
    assert "samples // 160" in encoded.info().details["speech_content_span"]
    assert "speech_span=all" in whole.info().details["speech_content_span"]
    assert encoded.cache_key() != whole.cache_key()


def test_generation_and_loglikelihoods_see_every_placeholder(voxtral):
    encoded, whole, _, _ = voxtral
    prompt = spoken(16_000)
    request = LoglikelihoodRequest(prompt, ("B", " the red planet"))
    assert encoded.loglikelihood([request])[0].logprobs == whole.loglikelihood([request])[0].logprobs
    generate = GenerateRequest(prompt, max_new_tokens=5)
    assert encoded.generate([generate]) == whole.generate([generate])


def test_intervention_positions_index_the_filled_states(voxtral):
    encoded, whole, _, _ = voxtral
    prompt = spoken(12_960)  # 11 filled positions of 375
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
    padding = whole.hidden_states([HiddenStatesRequest(prompt)])[0].states[[1]][:, [last + 1]]
    beyond = Intervention(InterventionMode.ANGLE, (1,), (last + 1,), -padding)  # its own state, flipped
    with pytest.raises(DataError, match=f"outside the content span of length {last + 1}"):
        encoded.loglikelihood([LoglikelihoodRequest(prompt, ("A",), beyond)])
    assert abs(score(whole, beyond) - plain) > 1e-4  # a padding position, editable with speech_span=all


def test_a_sample_rule_counts_from_samples_and_needs_one_source():
    rule = FilledSpan(None, 8, hop=160)
    assert rule.counts({}, [range(375)] * 3, [12_959, 12_960, 0]) == [10, 11, 0]
    assert rule.counts({}, [range(5, 380)], [480_000 + 1]) == [375]  # at most the run
    with pytest.raises(TypeError, match="exactly one"):
        FilledSpan("input_features_mask", 16, hop=160)
    with pytest.raises(TypeError, match="exactly one"):
        FilledSpan(None, 8)


@pytest.mark.parametrize("samples", [12_959, 12_960])
def test_positions_past_the_count_are_the_paddings_own_frames(voxtral, samples):
    """The model's input: mel frames in windows of 8 per position. Changing the padding (quiet noise
    instead of zeros after the clip) changes every position from the count on and none before its last
    one; the last counted position holds the clip's final frames, whose STFT windows (400 samples,
    centred every 160) may reach up to 200 samples into the padding."""
    _, _, _, processor = voxtral
    clip = spoken(samples).audio.samples.astype(np.float32)
    zeros = np.zeros(480_000, dtype=np.float32)
    zeros[:samples] = clip
    noisy = zeros.copy()
    noisy[samples:] = 1e-3 * np.random.default_rng(0).standard_normal(480_000 - samples)
    model_input = voxtral_reference(processor, spoken(samples))["input_features"][0].numpy()

    def positions(audio):
        features = processor.feature_extractor(audio, sampling_rate=16_000, return_tensors="np")["input_features"][0]
        return features.reshape(features.shape[0], 375, 8)

    assert np.array_equal(positions(zeros).reshape(model_input.shape), model_input)  # what the model gets
    changed = np.abs(positions(noisy) - positions(zeros)).max(axis=(0, 2)) > 1e-6
    count = CLIPS[samples]
    assert not changed[: count - 1].any() and changed[count:].all()
