"""text-lm on a tiny random causal LM: batching, log-likelihoods, content spans, speech refused."""

from __future__ import annotations

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.errors import CapabilityError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.models.hf_common import Batcher
from modgap_eval.types import GenerateRequest, HiddenStatesRequest, LoglikelihoodRequest, Modality, Prompt, Waveform
from tests.models.tiny import build_tiny_causal_lm, tone

CONTENTS = ["What is the capital of France?", "How many legs does a spider have?", "Mars", "the red planet"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return build_tiny_causal_lm(tmp_path_factory.mktemp("causal_lm"))


@pytest.fixture(scope="module")
def model(folder):
    return MODELS.get("text-lm").from_args(
        {"pretrained": str(folder), "dtype": "float32"}, RuntimeOptions(batch_size=3)
    )


def prompt(content: str, system: str | None = None) -> Prompt:
    return Prompt(Modality.TEXT, "Question: ", "\nAnswer:", system, text=content)


def by_hand(folder, p: Prompt, continuation: str) -> tuple[float, int]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder).eval()
    messages = ([{"role": "system", "content": p.system}] if p.system else []) + [
        {"role": "user", "content": p.prefix + p.text + p.suffix}
    ]
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]
    cont = tokenizer(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logprobs = torch.log_softmax(lm(torch.tensor([list(ids) + cont])).logits[0], dim=-1)
    return sum(float(logprobs[len(ids) - 1 + k, t]) for k, t in enumerate(cont)), len(cont)


def test_batched_generate_equals_one_at_a_time(model):
    requests = [GenerateRequest(prompt(c), max_new_tokens=7) for c in CONTENTS]
    batched = model.generate(requests)
    assert [g.text for g in batched] == [model.generate([r])[0].text for r in requests]
    assert all(g.text for g in batched)


def test_stop_strings_cut_the_output(model):
    full = model.generate([GenerateRequest(prompt(CONTENTS[0]), max_new_tokens=8)])[0].text
    stop = full[2:4]
    cut = model.generate([GenerateRequest(prompt(CONTENTS[0]), max_new_tokens=8, stop=(stop,))])[0].text
    assert cut == full[: full.index(stop)]


def test_loglikelihood_equals_sum_of_token_logprobs(folder, model):
    continuations = ("Paris", " A spider has eight legs")
    results = model.loglikelihood([LoglikelihoodRequest(prompt(c, "You are terse."), continuations) for c in CONTENTS])
    for content, result in zip(CONTENTS, results):
        for continuation, value, count in zip(continuations, result.logprobs, result.token_counts):
            expected, n = by_hand(folder, prompt(content, "You are terse."), continuation)
            assert count == n and value == pytest.approx(expected, abs=1e-4)


def test_text_span_is_the_content_tokens_only(folder, model):
    from transformers import AutoModelForCausalLM

    lm = AutoModelForCausalLM.from_pretrained(folder).eval()
    states = model.hidden_states([HiddenStatesRequest(prompt(c)) for c in CONTENTS])
    for content, hs in zip(CONTENTS, states):
        assert model.tokenizer.convert_tokens_to_string(list(hs.tokens)).strip() == content
        assert hs.states.shape == (3, len(hs.tokens), 64)
        row = model.part.text_row(prompt(content))
        with torch.no_grad():
            ref = lm(torch.tensor([row.ids]), output_hidden_states=True).hidden_states
        span = list(row.content)
        for layer in (0, 1):  # float32 noise grows with the states' size (~1e2 at layer 1): scale the tolerance
            scale = max(1.0, float(ref[layer].abs().max()))
            assert torch.allclose(hs.states[layer], ref[layer][0, span], atol=1e-6 * scale)


def test_speech_prompt_raises_capability_error(model):
    spoken = Prompt(Modality.SPEECH, "Q: ", "", audio=Waveform(tone(0.5), 16_000))
    with pytest.raises(CapabilityError, match="text-only"):
        model.generate([GenerateRequest(spoken, 4)])


def test_auto_batch_size_halves_on_out_of_memory():
    seen: list[int] = []

    def run(chunk):
        seen.append(len(chunk))
        if len(chunk) > 5:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return [x * 2 for x in chunk]

    batcher = Batcher(None)
    assert batcher.run(list(range(40)), run) == [x * 2 for x in range(40)]
    assert batcher.size == 4 and seen[:4] == [32, 16, 8, 4]
    with pytest.raises(torch.OutOfMemoryError):
        Batcher(8).run(list(range(40)), run)


def test_dtype_from_model_args_overrides_runtime_and_states_stay_float32(folder):
    model = MODELS.get("text-lm").from_args(
        {"pretrained": str(folder), "dtype": "bfloat16"}, RuntimeOptions(dtype="float32")
    )
    assert model.info().details["loaded_dtype"] == "bfloat16" and model.info().args["dtype"] == "bfloat16"
    states = model.hidden_states([HiddenStatesRequest(prompt(CONTENTS[0]))])[0].states
    assert states.dtype == torch.float32


def test_tokenizer_without_chat_template_gets_the_plain_user_turn(folder, tmp_path):
    import shutil

    from transformers import AutoTokenizer

    plain = tmp_path / "plain"
    shutil.copytree(folder, plain)
    tokenizer = AutoTokenizer.from_pretrained(plain)
    tokenizer.chat_template = None
    tokenizer.save_pretrained(plain)
    for leftover in plain.glob("chat_template.*"):
        leftover.unlink()
    model = MODELS.get("text-lm").from_args({"pretrained": str(plain)}, RuntimeOptions())
    assert model.part.render(prompt("X", "Be brief."), "X") == "Be brief.\n\nQuestion: X\nAnswer:"
    hs = model.hidden_states([HiddenStatesRequest(prompt(CONTENTS[1]))])[0]
    assert model.tokenizer.convert_tokens_to_string(list(hs.tokens)).strip() == CONTENTS[1]
    assert model.info().details["chat_template"] is False


def test_one_prefill_per_prompt_scores_single_and_multi_token_options_as_by_hand(folder, model):
    letters = ("A", "B", "C")
    assert all(len(model.tokenize_continuation(c)) == 1 for c in letters)
    mixed = ("A", " A spider has eight legs")  # one multi-token option: its tail continues from the cache
    fast, slow = model.loglikelihood(
        [LoglikelihoodRequest(prompt(CONTENTS[0]), letters), LoglikelihoodRequest(prompt(CONTENTS[0]), mixed)]
    )
    for letter, value in zip(letters, fast.logprobs):
        assert value == pytest.approx(by_hand(folder, prompt(CONTENTS[0]), letter)[0], abs=1e-4)
    assert slow.logprobs[1] == pytest.approx(by_hand(folder, prompt(CONTENTS[0]), mixed[1])[0], abs=1e-4)
    assert slow.logprobs[0] == pytest.approx(fast.logprobs[0], abs=1e-4) and fast.token_counts == (1, 1, 1)


def test_cache_path_equals_one_full_row_per_continuation(model):
    """The KV-cache path (prompts of different lengths, options of 1-6 tokens) against the plain rows path."""
    from modgap_eval.models.hf_loglik import Scored, full_rows, shared_prefill

    options = ("A", " Paris", " A spider has eight legs", " no")
    items = [Scored(prompt(c), None, tuple(model.tokenize_continuation(o) for o in options)) for c in CONTENTS]
    cached, rows = shared_prefill(model, items), full_rows(model, items)
    for a, b in zip(cached, rows):
        assert a.token_counts == b.token_counts
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)
