"""Voxtral specifics on a tiny random model with a tiny Tekken tokenizer (the shared checks are in
test_hf_families.py): loading through AutoProcessor, byte-offset text spans, system prompts,
long clips and the reuse of cached audio embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.errors import ConfigError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.types import GenerateRequest, HiddenStatesRequest, Modality, Prompt, Waveform
from tests.models.tiny import build_tiny_voxtral, tone

PREFIX, SUFFIX = "Listen: ", " Answer briefly."


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_voxtral(tmp_path_factory.mktemp("voxtral"))


@pytest.fixture(scope="module")
def model(folder):
    return MODELS.get("voxtral").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=4))


def text(content: str, system: str | None = None) -> Prompt:
    return Prompt(Modality.TEXT, PREFIX, SUFFIX, text=content, system=system)


def speech(seconds: float, seed: int = 0, system: str | None = None) -> Prompt:
    return Prompt(
        Modality.SPEECH,
        PREFIX,
        SUFFIX,
        audio=Waveform(tone(seconds, 180 + 40 * seed, seed=seed), 16_000),
        system=system,
    )


def test_tiny_tekken_loads_through_auto_processor(folder):
    from transformers import AutoProcessor, VoxtralConfig

    processor = AutoProcessor.from_pretrained(folder)
    tokenizer = processor.tokenizer
    assert type(processor).__name__ == "VoxtralProcessor" and type(tokenizer).__name__ == "MistralCommonBackend"
    assert processor.audio_token_id == VoxtralConfig.from_pretrained(folder).audio_token_id == 24
    assert tokenizer.convert_ids_to_tokens(24) == "[AUDIO]"
    sentence = "What is the capital of France? Paris is the capital of France."
    ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == sentence and len(ids) < len(sentence) // 2  # the merges are used


def test_text_span_from_token_bytes(model):
    tekken = model.part.tekken
    for content in ["What is the capital of France?", "Café à Zürich — 3 €?", "yes"]:
        row = model.encode([text(content)]).rows[0]
        ids = list(row.ids)
        assert ids[:2] == [tekken.bos_id, tekken.get_special_token("[INST]")]
        assert ids[-1] == tekken.get_special_token("[/INST]")
        assert tekken.decode(ids[row.content.start : row.content.stop]).strip() == content
        assert tekken.decode(ids[row.content.stop : -1]) == SUFFIX
        assert tekken.decode(ids[2 : row.content.stop]) == PREFIX + content
        before = tekken.decode(ids[2 : row.content.start])  # the prefix, less a space a content token took
        assert PREFIX.startswith(before) and not PREFIX[len(before) :].strip()


def test_empty_text_gives_an_empty_span_after_the_prefix(model):
    row = model.encode([text("")]).rows[0]
    assert len(row.content) == 0
    assert model.part.tekken.decode(list(row.ids[2 : row.content.start])) == PREFIX
    assert model.part.tekken.decode(list(row.ids[row.content.start : -1])) == SUFFIX


def test_system_prompt_text_only(model):
    tekken = model.part.tekken
    row = model.encode([text("How many legs", system="Be brief.")]).rows[0]
    ids = list(row.ids)
    begin, end = tekken.get_special_token("[SYSTEM_PROMPT]"), tekken.get_special_token("[/SYSTEM_PROMPT]")
    assert tekken.decode(ids[ids.index(begin) + 1 : ids.index(end)]) == "Be brief."
    assert tekken.decode(ids[row.content.start : row.content.stop]).strip() == "How many legs"
    with pytest.raises(ConfigError, match="system prompt"):
        model.encode([speech(1.0, system="Be brief.")])


def test_long_clip_and_cached_audio_embeddings(folder):
    fresh = MODELS.get("voxtral").from_args({"pretrained": str(folder)}, RuntimeOptions(batch_size=4))
    prompts = [speech(31.0, 1), speech(0.5, 2)]
    rows = fresh.encode(prompts).rows
    assert [len(r.content) for r in rows] == [750, 375]  # 12.5 per second, padded to 30 s windows
    assert not fresh.audio_memo.entries
    first = fresh.hidden_states([HiddenStatesRequest(p) for p in prompts])
    assert len(fresh.audio_memo.entries) == 2
    again = fresh.hidden_states([HiddenStatesRequest(p) for p in prompts])  # from the cached embeddings
    for a, b in zip(first, again):
        assert a.states.shape == b.states.shape and torch.allclose(a.states, b.states, atol=1e-4)
    # States cover the positions encoding the clip (test_hf_voxtral_span.py): 31 s = 3100 mel frames = 388.
    assert [hs.length for hs in first] == [388, 7]


def test_audio_reaches_mistral_common_unchanged(model):
    from mistral_common.tokens.tokenizers.audio import Audio

    from modgap_eval.models.hf_voxtral import wav_base64

    clip = Waveform(tone(0.7, seed=3), 16_000)
    decoded = Audio.from_base64(wav_base64(clip))
    assert decoded.sampling_rate == 16_000 and np.array_equal(decoded.audio_array, clip.samples)


def test_generation_depends_on_the_audio(model):
    texts = [g.text for g in model.generate([GenerateRequest(speech(1.0, s), max_new_tokens=8) for s in (0, 4)])]
    assert texts[0] != texts[1]
