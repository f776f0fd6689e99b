"""IFEval's ``voicebench`` reading: VoiceBench's cleaning, prompt keying and four-accuracy mean (hand-computed)."""

from __future__ import annotations

import pytest

from modgap_eval.aggregate import score_task
from modgap_eval.scoring.ifeval import IFEvalScorer, voicebench_clean
from modgap_eval.types import Audio, Generation, Sample

QUOTE_NO_COMMA = ["startend:quotation", "punctuation:no_comma"]


def sample(sample_id: str, ids: list[str], prompt: str | None = None) -> Sample:
    return Sample(
        id=sample_id,
        text=prompt or f"prompt {sample_id}",
        audio=Audio(data=b"x"),
        metadata={"instruction_id_list": ids, "kwargs": [{"keywords": None}] * len(ids)},  # hub rows: unset = None
    )


@pytest.mark.parametrize(
    ("response", "cleaned"),
    [
        ("<1>hello", "hello"),
        ("<3>  hello \n", "hello"),
        ("hello <|user|>", "hello"),
        ("<2> hello<|user|>", "hello"),
        ("<4>hello", "<4>hello"),  # only the markers 1-3
        ("hello <1>", "hello <1>"),  # a marker only at the start
        ("<|user|> hello", "<|user|> hello"),  # the user token only at the end
        ("  <1>hello", "  <1>hello"),  # VoiceBench does not strip before looking
    ],
)
def test_voicebench_clean(response, cleaned):
    assert voicebench_clean(response) == cleaned


def test_marker_changes_only_the_voicebench_reading():
    scorer = IFEvalScorer()
    score = scorer.score(sample("a", QUOTE_NO_COMMA), Generation(text='<2>"the moon is bright"'))
    # Primary: the quotation check sees "<2>" first and fails both ways; no_comma passes: (0 + 0 + 1/2 + 1/2) / 4.
    assert score.value == pytest.approx(0.25)
    assert score.readings == {"strict": pytest.approx(0.25), "voicebench": 1.0}
    assert score.extras["voicebench_n_strict_followed"] == 2.0 and score.extras["n_strict_followed"] == 1.0
    plain = scorer.score(sample("b", QUOTE_NO_COMMA), Generation(text='"the moon is bright"'))
    assert plain.readings == {"strict": 1.0, "voicebench": 1.0}
    assert not any(key.startswith("voicebench_") for key in plain.extras)  # nothing cleaned: no extra counts


def test_trailing_user_token_on_the_last_line():
    # The end phrase is followed by VoiceBench's "<|user|>" on the same line: no loose variant removes it.
    s = Sample(
        id="e",
        text="p",
        audio=Audio(data=b"x"),
        metadata={"instruction_id_list": ["startend:end_checker"], "kwargs": [{"end_phrase": "Any questions?"}]},
    )
    score = IFEvalScorer().score(s, Generation(text="Done. Any questions?<|user|>"))
    assert score.readings == {"strict": 0.0, "voicebench": 1.0}


def run(samples, responses):
    outputs = {s.id: Generation(text=r) for s, r in zip(samples, responses)}
    return score_task(IFEvalScorer(), samples, outputs, outputs, seed=0, bootstrap_iters=50)


def test_task_reading_pools_instructions_like_voicebench():
    samples = [sample("a", QUOTE_NO_COMMA), sample("b", ["punctuation:no_comma"])]
    result = run(samples, ['<1>"the moon is bright"', "a, b"])
    # VoiceBench: prompt 1/2 (strict and loose), instruction 2/3 (strict and loose): (1/2 + 2/3) / 2 = 7/12.
    # The mean of the per-sample values would be (1 + 0) / 2: the pooled instruction accuracy differs.
    reading = result.readings["voicebench"]
    assert reading.text == pytest.approx(100 * 7 / 12) and reading.speech == pytest.approx(100 * 7 / 12)
    assert reading.stats is None  # no paired statistics on this reading
    # Primary unchanged by the reading: prompt 0, instruction 1/3 (both ways): 1/6.
    assert result.text.score == pytest.approx(100 / 6)
    assert result.readings["strict"].text == pytest.approx(result.text.score)
    assert result.primary_reading == "strict"


@pytest.mark.parametrize(("order", "expected"), [(("ok", "a, b"), 0.0), (("a, b", "ok"), 100.0)])
def test_repeated_prompt_takes_the_last_response(order, expected):
    # VoiceBench keys responses by prompt text: both items are checked on the later item's response.
    samples = [sample("a", ["punctuation:no_comma"], "same"), sample("b", ["punctuation:no_comma"], "same")]
    result = run(samples, order)
    assert result.readings["voicebench"].text == pytest.approx(expected)
    assert result.text.score == pytest.approx(50.0)  # the primary scores each item on its own response


def test_distinct_prompts_are_not_merged():
    samples = [sample("a", ["punctuation:no_comma"], "one"), sample("b", ["punctuation:no_comma"], "two")]
    assert run(samples, ("ok", "a, b")).readings["voicebench"].text == pytest.approx(50.0)
