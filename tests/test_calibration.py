"""Log-likelihood multiple choice read three ways (acc, acc_norm, pmi) and the calibration requests behind pmi.

The end-to-end test runs the runner on a tiny real cascade (random Whisper + random causal LM built in
code) and recomputes every reading by hand from the LM's logits: the option log-likelihoods under
the task's prompt and under the neutral prompt (content slot empty), per byte of each option text.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from modgap_eval.errors import ConfigError, DataError
from modgap_eval.scoring.choice import BYTES_KEY, CALIBRATION_KEY, LoglikelihoodChoice
from modgap_eval.types import Audio, Loglikelihood, Sample
from tests.conftest import ARITH, make_task_dir
from tests.extras import extra

MC = Sample(id="s1", text="q", audio=Audio(path=Path("x.wav")), choices=("a", "bb", "ccc"), answer_index=1)


def output(logprobs, calibration=None, counts=(1, 1, 1), sizes=None) -> Loglikelihood:
    extras = {}
    if calibration is not None:
        extras[CALIBRATION_KEY] = list(calibration)
    if sizes is not None:
        extras[BYTES_KEY] = list(sizes)
    return Loglikelihood(tuple(logprobs), tuple(counts), extras)


def test_three_readings_of_one_output():
    # acc: -2 > -3 > -4.5 picks "a" (wrong); per byte: -2/1, -3/2 = -1.5, -4.5/3 = -1.5: "bb" (first of the tie);
    # pmi: -2-(-1) = -1, -3-(-4) = +1, -4.5-(-5) = +0.5: "bb"
    out = output((-2.0, -3.0, -4.5), calibration=(-1.0, -4.0, -5.0))
    score = LoglikelihoodChoice(primary="pmi").score(MC, out)
    assert dict(score.readings) == {"acc": 0.0, "acc_norm": 1.0, "pmi": 1.0}
    assert (score.value, score.extracted) == (1.0, "B")
    assert LoglikelihoodChoice().score(MC, out).value == 0.0  # acc is the default primary
    assert LoglikelihoodChoice(primary="acc_norm").score(MC, out).value == 1.0


def test_acc_norm_divides_by_utf8_bytes_of_the_scored_continuation():
    sample = Sample(id="s2", text="q", audio=Audio(path=Path("x.wav")), choices=("é", "ee"), answer_index=0)
    # "é" is 2 bytes: -3/2 = -1.5 beats -3.2/2 = -1.6; per character it would lose (-3 < -1.6)
    assert LoglikelihoodChoice(primary="acc_norm").score(sample, output((-3.0, -3.2), counts=(1, 1))).value == 1.0
    # the runner's byte counts (of the continuations actually scored) win over the option texts: -3/3 < -3.2/4
    assert (
        LoglikelihoodChoice(primary="acc_norm").score(sample, output((-3.0, -3.2), counts=(1, 1), sizes=(3, 4))).value
        == 0.0
    )


def test_normalize_length_keeps_working_and_adds_its_reading():
    scorer = LoglikelihoodChoice(normalize="length")
    assert scorer.primary_reading == "acc_per_token"
    assert [r.name for r in scorer.readings()] == ["acc", "acc_norm", "pmi", "acc_per_token"]
    score = scorer.score(MC, output((-2.0, -3.0, -9.0), calibration=(0, 0, 0), counts=(1, 3, 3)))
    # per token -2.0, -1.0, -3.0 picks "bb"; summed, "a" wins
    assert (score.value, score.readings["acc_per_token"], score.readings["acc"]) == (1.0, 1.0, 0.0)


def test_without_calibration_pmi_is_left_out_unless_primary():
    score = LoglikelihoodChoice().score(MC, output((-3.0, -1.0, -2.0)))
    assert set(score.readings) == {"acc", "acc_norm"} and score.value == 1.0
    with pytest.raises(DataError, match="sample s1: the pmi reading needs"):
        LoglikelihoodChoice(primary="pmi").score(MC, output((-3.0, -1.0, -2.0)))
    with pytest.raises(DataError, match="sample s1: 2 neutral-prompt log-likelihoods for 3 options"):
        LoglikelihoodChoice().score(MC, output((-3.0, -1.0, -2.0), calibration=(0.0, 0.0)))


def test_nan_is_unextractable_under_the_primary_reading():
    score = LoglikelihoodChoice(primary="pmi").score(MC, output((-3.0, -1.0, -2.0), calibration=(0.0, math.nan, 0.0)))
    assert score.unextractable and score.value == 0.0 and score.readings == {"acc": 1.0, "acc_norm": 1.0, "pmi": 0.0}


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="primary must be one of"):
        LoglikelihoodChoice(primary="acc_per_token")  # only with normalize: length
    with pytest.raises(ConfigError, match="premise must be a string"):
        LoglikelihoodChoice(premise=3)  # type: ignore[arg-type]


def _option_logprobs(tokenizer, lm, user_turn: str, options) -> list[float]:
    """Summed log-probabilities of each option as the assistant's reply, straight from the logits."""
    import torch

    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": user_turn}], tokenize=True, add_generation_prompt=True, return_dict=True
    )["input_ids"]
    values = []
    for option in options:
        cont = tokenizer(option, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logprobs = torch.log_softmax(lm(torch.tensor([list(ids) + cont])).logits[0].double(), dim=-1)
        values.append(sum(float(logprobs[len(ids) - 1 + k, t]) for k, t in enumerate(cont)))
    return values


def _pick(values) -> int:
    return max(range(len(values)), key=lambda i: (values[i], -i))


def test_runner_readings_equal_hand_computed_ones_on_a_tiny_model(tmp_path):
    pytest.importorskip("torch", reason=extra("torch", "models"))  # the representation stage
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modgap_eval.config import RunConfig
    from modgap_eval.rescoring import rescore_run
    from modgap_eval.runner import evaluate
    from tests.models.tiny import build_tiny_causal_lm, build_tiny_whisper

    task_yaml = make_task_dir(tmp_path / "t", extra_yaml="  args: {primary: pmi}\ncontinuations: choices\n")
    asr = build_tiny_whisper(tmp_path / "whisper")
    lm_dir = build_tiny_causal_lm(tmp_path / "lm")
    outcome = evaluate(
        RunConfig(
            model="cascade",
            model_args={"asr": str(asr), "lm": str(lm_dir), "asr_max_new_tokens": "4"},
            tasks=["arith"],
            include_path=[task_yaml.parent],
            output_path=tmp_path / "out",
            progress=False,
            bootstrap_iters=50,
            log_samples=True,
            batch_size=4,
            representations="off",
        )
    )
    records = [json.loads(line) for line in (outcome.run_dir / "samples_arith.jsonl").read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(lm_dir)
    lm = AutoModelForCausalLM.from_pretrained(lm_dir).eval()
    expected = {"acc": [], "acc_norm": [], "pmi": []}
    for record in records:
        options = record["choices"]
        neutral = _option_logprobs(tokenizer, lm, "Q: ", options)  # the template with its content slot empty
        for side, user_turn in (
            ("text_result", "Q: " + record["text"]),
            ("speech_result", "Q: " + record["speech_result"]["extras"].get("transcript", "")),
        ):
            logged = record[side]
            conditional = _option_logprobs(tokenizer, lm, user_turn, options)
            assert logged["logprobs"] == pytest.approx(conditional, abs=1e-4)
            assert logged["extras"][CALIBRATION_KEY] == pytest.approx(neutral, abs=1e-4)
            assert logged["extras"][BYTES_KEY] == [len(o.encode()) for o in options]
            by_hand = {
                "acc": _pick(conditional),
                "acc_norm": _pick([lp / len(o.encode()) for lp, o in zip(conditional, options)]),
                "pmi": _pick([c - n for c, n in zip(conditional, neutral)]),
            }
            for name, pick in by_hand.items():
                assert logged["readings"][name] == float(pick == record["answer_index"])
                if side == "text_result":
                    expected[name].append(float(pick == record["answer_index"]))
            assert logged["score"] == logged["readings"]["pmi"]  # the YAML made pmi primary
    task = outcome.results.tasks["arith"]
    assert task.primary_reading == "pmi" and set(task.readings) == {"acc", "acc_norm", "pmi"}
    for name, values in expected.items():
        assert task.readings[name].text == pytest.approx(100.0 * sum(values) / len(ARITH))
    assert task.text.score == pytest.approx(task.readings["pmi"].text)
    # the readings differ on this random model, so the test can tell them apart
    assert len({tuple(v) for v in expected.values()}) > 1
    rescored = rescore_run(outcome.run_dir).tasks["arith"]
    assert {k: r.model_dump() for k, r in rescored.readings.items()} == {
        k: r.model_dump() for k, r in task.readings.items()
    }


def test_above_chance_script_on_a_dummy_run(task_dir, tmp_path):
    """scripts/above_chance.py: per task, right answers under the primary reading against guessing."""
    import importlib.util

    from modgap_eval.chance import above_chance_p
    from modgap_eval.config import RunConfig
    from modgap_eval.runner import evaluate

    outcome = evaluate(
        RunConfig(
            model="dummy",
            tasks=["arith_all"],
            include_path=[task_dir],
            output_path=tmp_path / "out",
            progress=False,
            bootstrap_iters=50,
            log_samples=True,
            representations="off",
        )
    )
    spec = importlib.util.spec_from_file_location(
        "above_chance", Path(__file__).parents[1] / "scripts" / "above_chance.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = script.task_rows(outcome.run_dir, None)
    assert [r["task"] for r in rows] == ["arith"]  # the generative task has no options, so no chance level
    row = rows[0]
    speech_right = sum(math.floor(sec) % len(opts) == ans for (_, _, _, opts, ans, sec) in ARITH)  # dummy's rule
    n = len(ARITH)
    by_hand = sum(math.comb(n, k) * 0.25**k * 0.75 ** (n - k) for k in range(speech_right, n + 1))
    assert (row["reading"], row["n"], row["chance"], row["text"]) == ("acc", n, 25.0, 100.0)
    assert row["text_p"] == pytest.approx(0.25**n) and row["speech_p"] == pytest.approx(by_hand)
    assert above_chance_p(2, [0.5, 0.5]) == pytest.approx(0.25)
    assert script.main([str(outcome.run_dir)]) == 0
