"""Text tools for IFEval's checks: sentences, words, tokens and language, without downloads.

Sentence counting uses ``split_sentences`` (ours) instead of NLTK's punkt model, word tokens for
``change_case:capital_word_frequency`` come from ``word_tokens`` (NLTK's word boundaries, ours), and
language identification uses ``langdetect`` (it ships its profiles) with a fixed seed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from modgap_eval.errors import require

_LANGDETECT_SEED = 0
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec "
    "no fig al approx dept est gen gov lt mt sgt capt col rev u.s u.k a.m p.m".split()
)


def split_sentences(text: str) -> list[str]:
    """Split English text into sentences without a learned model (ours; stands in for punkt).

    A sentence ends at ., ! or ? (with any closing quotes/brackets) followed by whitespace and then
    an upper-case letter, digit, quote or bracket — unless the word before the dot is a known
    abbreviation, a single letter (an initial) or the dot sits inside a number. Line breaks
    between non-empty lines also end a sentence (lists, headings).
    """
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)", text):
        block = " ".join(block.split())
        if not block:
            continue
        start = 0
        for match in re.finditer(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])", block):
            end = match.end()
            if match.group().startswith(".") and len(match.group().rstrip("\"'”’)]")) == 1:
                word = re.search(r"(\S+)\.$", block[start : match.start() + 1])
                token = word.group(1).lower().lstrip("(\"'") if word else ""
                if (
                    token in _ABBREVIATIONS
                    or re.fullmatch(r"[a-z]", token)
                    or re.fullmatch(r"(?:[a-z]\.)+[a-z]", token)
                ):
                    continue
            sentences.append(block[start:end].strip())
            start = end
        tail = block[start:].strip()
        if tail:
            sentences.append(tail)
    return sentences


def count_words(text: str) -> int:
    """IFEval's word count: runs of word characters (``\\w+``)."""
    return len(re.findall(r"\w+", text))


# Where NLTK's word_tokenize breaks a word besides whitespace: quotes, brackets, ; @ # $ % & ? ! *, the
# dashes U+2012-2015, "--", runs of dots, , or : not before a digit, and an opening apostrophe that starts
# no clitic ("'HELLO"). A hyphen, a single dot, a slash or an apostrophe inside a word does not break it.
_WORD_BREAK = re.compile(
    r"[\s«“‘„`\"»”’;@#$%&?!*\[\](){}<>\u2012-\u2015]|--|''|\.{2,}|[:,](?!\d)"
    r"|(?i:(?<!\w)'(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w))"
)
_FINAL_PERIOD = re.compile(r"(?<=[^.])\.(?=[\]\)}>\"'»”’ ]*\s*$)")  # only the text's last period is split off
# A word's clitic at its end: 's 'm 'd in any case, 'll 're 've n't all lower or all upper.
_CLITIC = re.compile(r"(?<=[^' ])(?:'[sSmMdD]|'ll|'LL|'re|'RE|'ve|'VE|n't|N'T)$")
_FUSED = re.compile(r"(?i)\b(?:(can)(not)|(d)('ye)|(gim)(me)|(gon)(na)|(got)(ta)|(lem)(me)|(more)('n))\b|\b(wan)(na)$")


def _ends(word: str) -> list[str]:
    """The word with a closing apostrophe, then a clitic, split off."""
    tail = []
    if len(word) > 1 and word.endswith("'") and word[-2] != "'":
        word, tail = word[:-1], ["'"]
    clitic = _CLITIC.search(word)
    return ([word[: clitic.start()], clitic.group()] if clitic else [word]) + tail


def word_tokens(text: str) -> list[str]:
    """Words as ``nltk.word_tokenize`` splits a line (punctuation may stay attached), for counting capitals.

    Clitics split off ("DON'T" → "DO", "N'T"; "I'M" → "I", "'M"), as do the halves of "cannot",
    "gonna" and the like. Unlike punkt, a period inside the text is not taken as a sentence end.
    """
    words = []
    for chunk in filter(None, _WORD_BREAK.split(_FINAL_PERIOD.sub(" ", text))):
        for piece in _ends(chunk):
            words += _FUSED.sub(lambda m: " ".join(["", *(part for part in m.groups() if part), ""]), piece).split()
    return words


@functools.lru_cache(maxsize=1)
def _language_factory() -> Any:
    require("langdetect", "ifeval")
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(_LANGDETECT_SEED)
    return factory


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` (deterministic), or None when langdetect cannot tell."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _language_factory().create()
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException:
        return None
