"""IFEval checks, one table per instruction type, and the scorer's four accuracies (hand-computed)."""

from __future__ import annotations

import pytest

from modgap_eval.errors import DataError
from modgap_eval.scoring.ifeval import IFEvalScorer, clean_kwargs, follows, ifeval_accuracies, loose_variants
from modgap_eval.scoring.ifeval_checks import CHECKS, count_words, detect_language, split_sentences, word_tokens
from modgap_eval.types import Audio, Generation, Sample

LONG_EN = "This answer is written in plain English so that the language detector has enough text to decide."

from tests.extras import extra

LONG_DE = "Diese Antwort ist auf Deutsch geschrieben, damit die Spracherkennung genug Text zum Entscheiden hat."

# (instruction id, kwargs, response, strict expected, loose expected)
CASES = [
    ("keywords:existence", {"keywords": ["banana", "moon"]}, "A banana on the Moon.", True, True),
    ("keywords:existence", {"keywords": ["banana", "moon"]}, "A banana on Mars.", False, False),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": "at least"}, "cat Cat CAT", True, True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 3, "relation": "less than"}, "cat Cat CAT", False, False),
    ("keywords:forbidden_words", {"forbidden_words": ["red"]}, "A bored cat.", True, True),
    ("keywords:forbidden_words", {"forbidden_words": ["red"]}, "A Red cat.", False, False),
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 2, "let_relation": "at least"},
        "Zig zag",
        True,
        True,
    ),
    (
        "keywords:letter_frequency",
        {"letter": "z", "let_frequency": 2, "let_relation": "less than"},
        "Zig zag",
        False,
        False,
    ),
    ("language:response_language", {"language": "de"}, LONG_DE, True, True),
    ("language:response_language", {"language": "de"}, LONG_EN, False, False),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"}, "One. Two.", True, True),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "at least"}, "One. Two.", False, False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First part.\n***\nSecond part.", True, True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\n***\nSecond.", False, False),
    ("length_constraints:number_words", {"num_words": 5, "relation": "less than"}, "only four words here", True, True),
    ("length_constraints:number_words", {"num_words": 5, "relation": "at least"}, "only four words here", False, False),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "Start here.\n\nThen, finish.",
        True,
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "Start here.\n\nNow finish.",
        False,
        False,
    ),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], at [address].", True, True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name].", False, False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hello.\nP.S. See you.", True, True),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hello.\nP.S. See you.", False, False),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", True, True),
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 2},
        "* one\n- two\n- three",
        False,
        True,
    ),  # loose drops a line
    ("detectable_format:constrained_response", {}, "My answer is yes.", True, True),
    ("detectable_format:constrained_response", {}, "Yes.", False, False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", True, True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **  **", False, False),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nabc\nSection 2\ndef",
        True,
        True,
    ),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 3},
        "Section 1\nabc\nSection 2\ndef",
        False,
        False,
    ),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True, True),
    ("detectable_format:json_format", {}, "Here it is: {'a': 1}", False, False),
    ("detectable_format:title", {}, "<<My Title>>\nText.", True, True),
    ("detectable_format:title", {}, "<< >>\nText.", False, False),
    ("combination:two_responses", {}, "First answer.\n******\nSecond answer.", True, True),
    ("combination:two_responses", {}, "Same.\n******\nSame.", False, False),
    ("combination:two_responses", {}, "******\nFirst.\n******\nSecond.\n******", True, True),  # blank ends
    ("combination:two_responses", {}, "First.\n******\n \n******\nSecond.", False, False),  # blank inside
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "say hi. Hi!", True, True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "Hi! Say hi.", False, False),
    ("startend:end_checker", {"end_phrase": "Is there anything else?"}, 'Done. Is there anything else?"', True, True),
    ("startend:end_checker", {"end_phrase": "Is there anything else?"}, "Is there anything else? Done.", False, False),
    ("startend:quotation", {}, '"Quoted answer."', True, True),
    ("startend:quotation", {}, 'Quoted "answer."', False, False),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "at least"},
        "I DON'T KNOW",
        True,
        True,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": "less than"},
        "I DON'T KNOW",
        False,
        False,
    ),
    ("change_case:english_capital", {}, LONG_EN.upper(), True, True),
    ("change_case:english_capital", {}, LONG_EN, False, False),
    ("change_case:english_lowercase", {}, LONG_EN.lower(), True, True),
    ("change_case:english_lowercase", {}, LONG_DE.lower(), False, False),
    ("punctuation:no_comma", {}, "No commas here.", True, True),
    ("punctuation:no_comma", {}, "One, two.", False, False),
    # loose relaxations: dropping a first/last line or the asterisks rescues the check
    ("startend:quotation", {}, 'Sure, here it is:\n"Quoted answer."', False, True),
    ("punctuation:no_comma", {}, "Sure, here you go:\nNo commas in the real answer", False, True),
    ("detectable_format:title", {}, "**<<Title>>** text", True, True),
    ("change_case:english_lowercase", {}, "**" + LONG_EN.lower() + "**\nOK, BYE", False, True),
    ("punctuation:no_comma", {}, "   ", False, False),  # blank responses follow nothing
]


@pytest.mark.parametrize("iid,kwargs,response,strict,loose", CASES)
def test_instruction_table(iid, kwargs, response, strict, loose):
    if iid.startswith(("language:", "change_case:english")):  # these detect the response's language
        pytest.importorskip("langdetect", reason=extra("langdetect", "ifeval"))
    assert follows(iid, response, kwargs, loose=False) is strict
    assert follows(iid, response, kwargs, loose=True) is loose


def test_every_ifeval_instruction_type_is_tested():
    assert {case[0] for case in CASES} == set(CHECKS)
    assert len(CHECKS) == 25


def test_loose_variants_follow_ifeval_order():
    variants = loose_variants("*a*\nb\nc")
    assert variants == ["*a*\nb\nc", "b\nc", "*a*\nb", "b", "a\nb\nc", "b\nc", "a\nb", "b"]


SENTENCES = [
    ("One. Two! Three?", 3),
    ("Mr. Smith met Dr. Jones at 5 p.m. today. They talked.", 2),
    ("The U.S. economy grew 3.5 percent in 2020. Prices rose.", 2),
    ('He said "Stop." Then he left.', 2),
    ("A list:\n- first item\n- second item", 3),
    ("no final punctuation", 1),
    ("", 0),
]


@pytest.mark.parametrize("text,count", SENTENCES)
def test_sentence_splitter(text, count):
    assert len(split_sentences(text)) == count


def test_word_tools_and_language_detection_are_deterministic():
    pytest.importorskip("langdetect", reason=extra("langdetect", "ifeval"))
    assert count_words("It's a dog-eat-dog world, 100%.") == 8  # It s a dog eat dog world 100
    assert word_tokens("I DON'T know") == ["I", "DO", "N'T", "know"]
    assert {detect_language(LONG_DE) for _ in range(5)} == {"de"}
    assert detect_language("12345 !!!") is None


def test_clean_kwargs_drops_unset_hub_columns():
    assert clean_kwargs({"num_words": 5, "relation": "at least", "keywords": None, "language": ""}) == {
        "num_words": 5,
        "relation": "at least",
    }


def ifeval_sample(ids, kwargs, sample_id="k1") -> Sample:
    return Sample(
        id=sample_id, text="prompt", audio=Audio(data=b"x"), metadata={"instruction_id_list": ids, "kwargs": kwargs}
    )


def test_scorer_four_accuracies_hand_computed():
    scorer = IFEvalScorer()
    hub_kwargs = {"num_words": None, "relation": None, "keywords": None}  # hub rows carry every key
    s1 = ifeval_sample(
        ["punctuation:no_comma", "keywords:existence"], [hub_kwargs, {**hub_kwargs, "keywords": ["moon"]}], "k1"
    )
    s2 = ifeval_sample(["punctuation:no_comma"], [hub_kwargs], "k2")
    a = scorer.score(s1, Generation(text="Sure, here:\nthe moon is bright"))  # strict: comma fails; loose: both pass
    b = scorer.score(s2, Generation(text="a, b"))  # fails both ways
    assert a.extras == {
        "strict_prompt": 0.0,
        "loose_prompt": 1.0,
        "n_strict_followed": 1.0,
        "n_loose_followed": 2.0,
        "n_instructions": 2.0,
    }
    assert a.value == pytest.approx((0 + 1 + 0.5 + 1) / 4)
    assert b.value == 0.0
    accuracies = ifeval_accuracies([a, b])
    assert accuracies == {
        "strict_prompt": 0.0,
        "strict_instruction": 1 / 3,
        "loose_prompt": 0.5,
        "loose_instruction": 2 / 3,
    }
    assert scorer.aggregate([a, b]) == pytest.approx(100 * (0 + 1 / 3 + 0.5 + 2 / 3) / 4)
    # task extras: the four accuracies in percent and the mean count (not a count x 100)
    assert scorer.aggregate_extras([a, b]) == pytest.approx(
        {
            "strict_prompt": 0.0,
            "strict_instruction": 100 / 3,
            "loose_prompt": 50.0,
            "loose_instruction": 200 / 3,
            "instructions_per_prompt": 1.5,
        }
    )


def test_scorer_errors_name_the_sample():
    scorer = IFEvalScorer()
    with pytest.raises(DataError, match="k9.*unknown instruction"):
        scorer.score(ifeval_sample(["no:such"], [{}], "k9"), Generation(text="x"))
    with pytest.raises(DataError, match="k8.*missing argument 'num_words'"):
        scorer.score(
            ifeval_sample(["length_constraints:number_words"], [{"relation": "at least"}], "k8"), Generation(text="x")
        )
    with pytest.raises(DataError, match="fields.metadata"):
        scorer.score(Sample(id="k7", text="p", audio=Audio(data=b"x")), Generation(text="x"))
