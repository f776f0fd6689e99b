"""The paper-architecture LSLM: one checkpoint folder, text path == the LM alone, speech span = adapter output."""

from __future__ import annotations

import json

import pytest

from tests.extras import extra

torch = pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

from modgap_eval.errors import ConfigError, DataError  # noqa: E402
from modgap_eval.models import MODELS  # noqa: E402
from modgap_eval.models.base import Capability, RuntimeOptions  # noqa: E402
from modgap_eval.models.paper_lslm import (  # noqa: E402
    CONFIG_FILE,
    PaperLSLM,
    PaperLSLMConfig,
    SpeechAdapter,
    WhisperFrontEnd,
    save_checkpoint,
)
from modgap_eval.types import (  # noqa: E402
    GenerateRequest,
    HiddenStatesRequest,
    Intervention,
    InterventionMode,
    LoglikelihoodRequest,
    Modality,
    Prompt,
    Waveform,
)
from tests.models.tiny import build_tiny_causal_lm, build_tiny_whisper, tone  # noqa: E402

RUNTIME = RuntimeOptions(batch_size=4)


def build_checkpoint(folder, lm_input: str, seed: int = 0):
    build_tiny_whisper(folder / "encoder")  # the config names it by relative path
    lm = build_tiny_causal_lm(folder / "lm")
    from transformers import AutoModelForCausalLM

    vocab = AutoModelForCausalLM.from_pretrained(lm).config.vocab_size
    config = PaperLSLMConfig(
        encoder="../encoder",
        lm="../lm",
        encoder_dim=32,
        lm_dim=64,
        stack=5,
        adapter_hidden=48,
        lm_input=lm_input,
        ctc_vocab_size=40 if lm_input == "ctc-embeddings" else 0,
    )
    torch.manual_seed(seed)
    adapter = SpeechAdapter(config)
    for p in adapter.parameters():
        torch.nn.init.normal_(p, std=0.5)  # peaked CTC posteriors, so some frames are not blank
    if lm_input == "ctc-embeddings":
        adapter.vocab_ids.copy_(torch.arange(5, 45) % vocab)
    return save_checkpoint(folder / "ckpt", config, adapter), adapter


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return build_checkpoint(tmp_path_factory.mktemp("paper_lslm"), "adapter")


@pytest.fixture(scope="module")
def model(checkpoint):
    return MODELS.get("paper-lslm").from_args({"pretrained": str(checkpoint[0])}, RUNTIME)


def speech(seconds: float, seed: int = 0) -> Prompt:
    return Prompt(Modality.SPEECH, "Listen: ", " Answer briefly.", audio=Waveform(tone(seconds, seed=seed), 16_000))


def text(content: str) -> Prompt:
    return Prompt(Modality.TEXT, "Listen: ", " Answer briefly.", text=content)


def test_saved_checkpoint_round_trips(checkpoint, model):
    folder, adapter = checkpoint
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["encoder"] == "../encoder" and config["stack"] == 5
    for name, value in adapter.state_dict().items():
        assert torch.equal(model.part.adapter.state_dict()[name], value), name
    again = PaperLSLM.from_args({"pretrained": str(folder)}, RUNTIME)
    clip = tone(1.3)
    assert torch.equal(model.part.speech_vectors(clip), again.part.speech_vectors(clip))


def test_text_path_equals_the_lm_alone(checkpoint, model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = checkpoint[0].parent / "lm"
    lm, tokenizer = AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    prompt = text("What is the capital of France?")
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Listen: What is the capital of France? Answer briefly."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    ids = tokenizer(rendered, add_special_tokens=False, return_tensors="pt").input_ids
    continuation = tokenizer(" Paris", add_special_tokens=False).input_ids
    with torch.no_grad():
        logits = lm(torch.cat([ids, torch.tensor([continuation])], 1)).logits[0]
    by_hand = torch.log_softmax(logits[ids.shape[1] - 1 : -1], -1).gather(-1, torch.tensor(continuation)[:, None]).sum()
    got = model.loglikelihood([LoglikelihoodRequest(prompt, (" Paris",))])[0]
    assert got.logprobs[0] == pytest.approx(float(by_hand), abs=1e-4)
    expected = lm.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    generated = model.generate([GenerateRequest(prompt, max_new_tokens=5)])[0].text
    assert generated == tokenizer.decode(expected[0, ids.shape[1] :], skip_special_tokens=True)


def test_speech_span_is_the_adapter_output(model):
    clip = tone(2.0)
    frames = model.part.front_end.encode(clip)
    assert frames.shape == (100, 32)  # 2 s at 50 encoder frames per second
    vectors = model.part.speech_vectors(clip)
    assert vectors.shape == (20, 64)  # x5 stacking: 10 positions per second
    states = model.hidden_states(
        [HiddenStatesRequest(Prompt(Modality.SPEECH, "Listen: ", " Answer briefly.", audio=Waveform(clip, 16_000)))]
    )[0]
    assert states.states.shape == (3, 20, 64)
    assert torch.allclose(states.states[0], vectors, atol=1e-6)


def test_speech_loglikelihood_equals_a_pass_on_hand_built_embeddings(model):
    prompt = speech(1.5, seed=3)
    vectors = model.part.speech_vectors(prompt.audio.samples)
    rendered = model.part.chat.render(prompt, "\ue000")
    before, after = (model.tokenizer(part, add_special_tokens=False).input_ids for part in rendered.split("\ue000"))
    continuation = model.tokenizer(" yes", add_special_tokens=False).input_ids
    embed = model.model.get_input_embeddings()
    inputs = torch.cat([embed(torch.tensor(before)), vectors, embed(torch.tensor(after + continuation))])[None]
    with torch.no_grad():
        logits = model.model(inputs_embeds=inputs).logits[0]
    n = len(continuation)
    by_hand = torch.log_softmax(logits[-n - 1 : -1], -1).gather(-1, torch.tensor(continuation)[:, None]).sum()
    got = model.loglikelihood([LoglikelihoodRequest(prompt, (" yes",))])[0]
    assert got.logprobs[0] == pytest.approx(float(by_hand), abs=1e-4)


def test_batched_equals_one_at_a_time(model):
    prompts = [speech(0.7, 1), speech(2.4, 2), text("How many legs does a spider have?"), speech(1.1, 3)]
    requests = [LoglikelihoodRequest(p, (" yes", " no the")) for p in prompts]
    together = model.loglikelihood(requests)
    alone = [model.loglikelihood([r])[0] for r in requests]
    for a, b in zip(together, alone):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
    gen = [GenerateRequest(p, max_new_tokens=4) for p in prompts]
    assert [g.text for g in model.generate(gen)] == [model.generate([g])[0].text for g in gen]


def test_identity_intervention_changes_nothing(model):
    prompt = speech(1.2, 5)
    states = model.hidden_states([HiddenStatesRequest(prompt)])[0].states
    # Angle projection onto a partner equal to the state itself is the identity.
    same = Intervention(InterventionMode.ANGLE, (0, 1), (0, 2), states[[0, 1]][:, [0, 2]])
    plain = model.loglikelihood([LoglikelihoodRequest(prompt, (" yes",))])[0]
    edited = model.loglikelihood([LoglikelihoodRequest(prompt, (" yes",), intervention=same)])[0]
    assert edited.logprobs[0] == pytest.approx(plain.logprobs[0], abs=1e-4)
    assert Capability.INTERVENTION in model.capabilities


def test_ctc_embedding_input_merges_runs_and_drops_blanks(tmp_path):
    folder, adapter = build_checkpoint(tmp_path, "ctc-embeddings", seed=1)
    lslm = PaperLSLM.from_args({"pretrained": str(folder)}, RUNTIME)
    clip = tone(2.0, seed=4)
    outputs = lslm.part.adapter(lslm.part.front_end.encode(clip))
    embeddings = lslm.model.get_input_embeddings().weight
    logits = lslm.part.adapter.ctc_logits(outputs, embeddings)
    best = logits.argmax(-1).tolist()
    # by hand: runs of equal best class, blank runs dropped
    runs, start = [], 0
    for t in range(1, len(best) + 1):
        if t == len(best) or best[t] != best[start]:
            if best[start] != 0:
                runs.append((start, t))
            start = t
    assert runs, "the test adapter should emit some tokens"
    mixes = torch.softmax(logits[:, 1:], -1) @ embeddings[lslm.part.adapter.vocab_ids]
    expected = torch.stack([mixes[a:b].mean(0) for a, b in runs])
    assert torch.allclose(lslm.part.speech_vectors(clip), expected, atol=1e-5)


def test_front_end_windows(checkpoint):
    front = WhisperFrontEnd(str(checkpoint[0].parent / "encoder"), "clip", 5)
    assert front.frames_for(16_000) == (50, 50)
    assert front.frames_for(16_001) == (100, 55)
    assert WhisperFrontEnd(str(checkpoint[0].parent / "encoder"), "30s", 5).frames_for(16_000) == (1500, 50)
    with pytest.raises(DataError, match="exceeds"):
        front.frames_for(16_000 * 31)


def test_bad_checkpoint_and_args_are_clear_errors(tmp_path, checkpoint):
    with pytest.raises(DataError, match="not a paper-lslm checkpoint"):
        PaperLSLM.from_args({"pretrained": str(tmp_path)}, RUNTIME)
    with pytest.raises(ConfigError, match="unknown key"):
        PaperLSLM.from_args({"pretrained": str(checkpoint[0]), "colour": "red"}, RUNTIME)
