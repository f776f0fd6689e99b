"""IFEval's verifiable instructions, one pure check per instruction id, offline.

Semantics follow Google's IFEval (instruction_following_eval/instructions.py, Apache-2.0), written
anew. The text tools that replace NLTK's downloads (sentences, word tokens) and the language
identification live in ``ifeval_text``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from modgap_eval.scoring.ifeval_text import count_words, detect_language, split_sentences, word_tokens

Check = Callable[[str, Mapping[str, Any]], bool]
CHECKS: dict[str, Check] = {}


def check(instruction_id: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[instruction_id] = function
        return function

    return register


def _arg(kwargs: Mapping[str, Any], key: str) -> Any:
    if kwargs.get(key) is None:
        raise ValueError(f"missing argument {key!r}")
    return kwargs[key]


def _compare(value: int, kwargs: Mapping[str, Any], target: str, relation: str = "relation") -> bool:
    """``value`` against the count argument ``target`` under the relation argument ``relation``."""
    how, count = str(_arg(kwargs, relation)), int(_arg(kwargs, target))
    if how == "less than":
        return value < count
    if how == "at least":
        return value >= count
    raise ValueError(f"relation must be 'less than' or 'at least', not {how!r}")


def _separated(pieces: list[str]) -> list[str] | None:
    """The non-blank pieces between separators; None when a blank one lies inside (IFEval fails those)."""
    if any(not piece.strip() for piece in pieces[1:-1]):
        return None
    return [piece for piece in pieces if piece.strip()]


# ---------------------------------------------------------------------------------------- checks
@check("keywords:existence")
def _keywords_existence(response: str, kwargs: Mapping[str, Any]) -> bool:
    return all(re.search(keyword, response, flags=re.IGNORECASE) for keyword in kwargs["keywords"])


@check("keywords:frequency")
def _keywords_frequency(response: str, kwargs: Mapping[str, Any]) -> bool:
    found = len(re.findall(str(_arg(kwargs, "keyword")), response, flags=re.IGNORECASE))
    return _compare(found, kwargs, "frequency")


@check("keywords:forbidden_words")
def _forbidden_words(response: str, kwargs: Mapping[str, Any]) -> bool:
    return not any(re.search(rf"\b{word}\b", response, flags=re.IGNORECASE) for word in kwargs["forbidden_words"])


@check("keywords:letter_frequency")
def _letter_frequency(response: str, kwargs: Mapping[str, Any]) -> bool:
    letters = Counter(response.lower())
    return _compare(letters[str(_arg(kwargs, "letter")).lower()], kwargs, "let_frequency", "let_relation")


# A language-identification failure (e.g. a response of digits only) counts as following, as in IFEval.
@check("language:response_language")
def _response_language(response: str, kwargs: Mapping[str, Any]) -> bool:
    return detect_language(response) in (None, str(_arg(kwargs, "language")))


@check("length_constraints:number_sentences")
def _number_sentences(response: str, kwargs: Mapping[str, Any]) -> bool:
    return _compare(len(split_sentences(response)), kwargs, "num_sentences")


@check("length_constraints:number_paragraphs")
def _number_paragraphs(response: str, kwargs: Mapping[str, Any]) -> bool:
    paragraphs = _separated(re.split(r"\s?\*\*\*\s?", response))
    return paragraphs is not None and len(paragraphs) == int(_arg(kwargs, "num_paragraphs"))


@check("length_constraints:number_words")
def _number_words(response: str, kwargs: Mapping[str, Any]) -> bool:
    return _compare(count_words(response), kwargs, "num_words")


@check("length_constraints:nth_paragraph_first_word")
def _nth_paragraph_first_word(response: str, kwargs: Mapping[str, Any]) -> bool:
    paragraphs = re.split(r"\n\n", response)
    count = sum(1 for paragraph in paragraphs if paragraph.strip())
    nth = int(_arg(kwargs, "nth_paragraph"))
    if nth > count or nth < 1:
        return False
    paragraph = paragraphs[nth - 1].strip()
    if not paragraph:
        return False
    word = paragraph.split()[0].strip().lstrip("'\"")
    first = ""
    for char in word:
        if char in ".,?!'\"":
            break
        first += char.lower()
    return count == int(_arg(kwargs, "num_paragraphs")) and first == str(_arg(kwargs, "first_word")).lower()


@check("detectable_content:number_placeholders")
def _number_placeholders(response: str, kwargs: Mapping[str, Any]) -> bool:
    return len(re.findall(r"\[.*?\]", response)) >= int(_arg(kwargs, "num_placeholders"))


@check("detectable_content:postscript")
def _postscript(response: str, kwargs: Mapping[str, Any]) -> bool:
    marker = str(_arg(kwargs, "postscript_marker"))
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + marker.lower() + r".*$"
    return bool(re.findall(pattern, response.lower(), flags=re.MULTILINE))


@check("detectable_format:number_bullet_lists")
def _number_bullet_lists(response: str, kwargs: Mapping[str, Any]) -> bool:
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    return len(stars) + len(dashes) == int(_arg(kwargs, "num_bullets"))


@check("detectable_format:constrained_response")
def _constrained_response(response: str, kwargs: Mapping[str, Any]) -> bool:
    text = response.strip()
    return any(option in text for option in ("My answer is yes.", "My answer is no.", "My answer is maybe."))


@check("detectable_format:number_highlighted_sections")
def _number_highlighted_sections(response: str, kwargs: Mapping[str, Any]) -> bool:
    single = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h.removeprefix("**").removesuffix("**").strip()]
    return len(single) + len(double) >= int(_arg(kwargs, "num_highlights"))


@check("detectable_format:multiple_sections")
def _multiple_sections(response: str, kwargs: Mapping[str, Any]) -> bool:
    splitter = str(_arg(kwargs, "section_spliter"))
    sections = re.split(r"\s?" + splitter + r"\s?\d+\s?", response)
    return len(sections) - 1 >= int(_arg(kwargs, "num_sections"))


@check("detectable_format:json_format")
def _json_format(response: str, kwargs: Mapping[str, Any]) -> bool:
    text = response.strip()
    for prefix in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(prefix)
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@check("detectable_format:title")
def _title(response: str, kwargs: Mapping[str, Any]) -> bool:
    return any(title.lstrip("<").rstrip(">").strip() for title in re.findall(r"<<[^\n]+>>", response))


@check("combination:two_responses")
def _two_responses(response: str, kwargs: Mapping[str, Any]) -> bool:
    parts = _separated(response.split("******"))
    return parts is not None and len(parts) == 2 and parts[0].strip() != parts[1].strip()


@check("combination:repeat_prompt")
def _repeat_prompt(response: str, kwargs: Mapping[str, Any]) -> bool:
    return response.strip().lower().startswith(str(_arg(kwargs, "prompt_to_repeat")).strip().lower())


@check("startend:end_checker")
def _end_checker(response: str, kwargs: Mapping[str, Any]) -> bool:
    return response.strip().strip('"').lower().endswith(str(_arg(kwargs, "end_phrase")).strip().lower())


@check("startend:quotation")
def _quotation(response: str, kwargs: Mapping[str, Any]) -> bool:
    text = response.strip()
    return len(text) > 1 and text[0] == '"' and text[-1] == '"'


@check("change_case:capital_word_frequency")
def _capital_word_frequency(response: str, kwargs: Mapping[str, Any]) -> bool:
    capitals = sum(1 for word in word_tokens(response) if word.isupper())
    return _compare(capitals, kwargs, "capital_frequency", "capital_relation")


@check("change_case:english_capital")
def _english_capital(response: str, kwargs: Mapping[str, Any]) -> bool:
    return detect_language(response) in (None, "en") and response.isupper()


@check("change_case:english_lowercase")
def _english_lowercase(response: str, kwargs: Mapping[str, Any]) -> bool:
    return detect_language(response) in (None, "en") and response.islower()


@check("punctuation:no_comma")
def _no_comma(response: str, kwargs: Mapping[str, Any]) -> bool:
    return "," not in response
