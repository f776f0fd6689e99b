"""Responses for the IFEval differential check (scripts/ifeval_differential.py): built to pass and to miss.

``response_for(instruction_id, kwargs, rng)`` builds a response around the instruction's arguments:
counts one below, at and above each threshold, separators and markers in the variants models write
(case, spacing, fences, quotes), then at random a chatty first or last line and stray ``*`` (what
IFEval's loose variants strip).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

WORDS = "the cat moon river blue quick idea plan city story water light don't e-mail well-known 42".split()
LANGUAGE_TEXT = {
    "en": "The weather is pleasant today and we are going to walk in the park with our friends.",
    "es": "El clima es agradable hoy y vamos a caminar por el parque con nuestros amigos.",
    "pt": "O tempo está agradável hoje e vamos caminhar no parque com os nossos amigos.",
    "fr": "Le temps est agréable aujourd'hui et nous allons nous promener dans le parc avec nos amis.",
    "de": "Das Wetter ist heute angenehm und wir gehen mit unseren Freunden im Park spazieren.",
    "it": "Il tempo è piacevole oggi e andremo a passeggiare nel parco con i nostri amici.",
    "fi": "Sää on tänään mukava ja menemme kävelemään puistoon ystäviemme kanssa.",
    "pl": "Pogoda jest dziś przyjemna i idziemy na spacer do parku z naszymi przyjaciółmi.",
    "sw": "Hali ya hewa ni nzuri leo na tutatembea katika bustani pamoja na marafiki zetu.",
    "vi": "Hôm nay thời tiết rất dễ chịu và chúng tôi sẽ đi dạo trong công viên với bạn bè.",
    "ru": "Сегодня приятная погода, и мы пойдём гулять в парк с нашими друзьями.",
    "uk": "Сьогодні приємна погода, і ми підемо гуляти в парк з нашими друзями.",
    "bg": "Времето днес е приятно и ще се разходим в парка с нашите приятели.",
    "ar": "الطقس لطيف اليوم وسوف نذهب للمشي في الحديقة مع أصدقائنا.",
    "fa": "هوا امروز خوب است و ما با دوستانمان در پارک قدم می زنیم.",
    "ur": "آج موسم خوشگوار ہے اور ہم اپنے دوستوں کے ساتھ پارک میں سیر کریں گے۔",
    "he": "מזג האוויר נעים היום ואנחנו הולכים לטייל בפארק עם החברים שלנו.",
    "hi": "आज मौसम सुहावना है और हम अपने दोस्तों के साथ पार्क में टहलने जाएंगे।",
    "mr": "आज हवामान छान आहे आणि आम्ही आमच्या मित्रांसोबत उद्यानात फिरायला जाणार आहोत.",
    "ne": "आज मौसम रमाइलो छ र हामी हाम्रा साथीहरूसँग पार्कमा घुम्न जाँदैछौं।",
    "bn": "আজ আবহাওয়া মনোরম এবং আমরা আমাদের বন্ধুদের সাথে পার্কে হাঁটতে যাব।",
    "ta": "இன்று வானிலை இனிமையாக உள்ளது, நாங்கள் எங்கள் நண்பர்களுடன் பூங்காவில் நடக்கப் போகிறோம்.",
    "te": "ఈ రోజు వాతావరణం ఆహ్లాదకరంగా ఉంది మరియు మేము మా స్నేహితులతో పార్కులో నడవబోతున్నాము.",
    "kn": "ಇಂದು ಹವಾಮಾನ ಹಿತಕರವಾಗಿದೆ ಮತ್ತು ನಾವು ನಮ್ಮ ಸ್ನೇಹಿತರೊಂದಿಗೆ ಉದ್ಯಾನವನದಲ್ಲಿ ನಡೆಯಲು ಹೋಗುತ್ತೇವೆ.",
    "ml": "ഇന്ന് കാലാവസ്ഥ സുഖകരമാണ്, ഞങ്ങൾ ഞങ്ങളുടെ സുഹൃത്തുക്കളോടൊപ്പം പാർക്കിൽ നടക്കാൻ പോകുന്നു.",
    "gu": "આજે હવામાન સુખદ છે અને અમે અમારા મિત્રો સાથે બગીચામાં ફરવા જઈશું.",
    "pa": "ਅੱਜ ਮੌਸਮ ਸੁਹਾਵਣਾ ਹੈ ਅਤੇ ਅਸੀਂ ਆਪਣੇ ਦੋਸਤਾਂ ਨਾਲ ਪਾਰਕ ਵਿੱਚ ਸੈਰ ਕਰਨ ਜਾਵਾਂਗੇ।",
    "th": "วันนี้อากาศดีและเราจะไปเดินเล่นในสวนสาธารณะกับเพื่อนของเรา",
    "ja": "今日は天気が良いので、友達と一緒に公園を散歩します。",
    "ko": "오늘은 날씨가 좋아서 친구들과 함께 공원에서 산책을 할 것입니다.",
}


CAPITALS = ("LOUD", "A", "I", "U.S.", "OK!", "WELL-KNOWN", "DON'T", "I'M", "E-MAIL", "HELLO,", "A.I.", "(NASA)", "X2")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def near(rng: random.Random, target: int) -> int:
    """A count one below, at or one above ``target`` (never negative)."""
    return max(0, target + rng.choice((-1, 0, 0, 1)))


def recase(rng: random.Random, text: str, changed: float = 0.5) -> str:
    return rng.choice((text.lower(), text.upper(), text.title())) if rng.random() < changed else text


def _language(kw: dict[str, Any], rng: random.Random) -> str:
    pick = kw["language"] if rng.random() < 0.5 else rng.choice(list(LANGUAGE_TEXT))
    extra = rng.choice(("", " 12345", " " + LANGUAGE_TEXT["en"], "\n" + LANGUAGE_TEXT.get(pick, "")))
    return rng.choice((LANGUAGE_TEXT.get(pick, ""), "123 456", "OK")) + extra


def _separated(rng: random.Random, n: int, separators: tuple[str, ...]) -> str:
    parts = [words(rng, rng.randint(0 if rng.random() < 0.1 else 1, 6)) for _ in range(n)]
    return (
        rng.choice(separators).join(parts) if rng.random() < 0.7 else "".join(p + rng.choice(separators) for p in parts)
    )


def _nth_first_word(kw: dict[str, Any], rng: random.Random) -> str:
    paragraphs = [words(rng, rng.randint(1, 5)) for _ in range(near(rng, kw["num_paragraphs"]))]
    first = recase(rng, kw["first_word"]) + rng.choice(("", ",", ".", "!", "'s"))
    first = rng.choice(("", '"', "'", "*")) + first
    index = kw["nth_paragraph"] - 1 + rng.choice((0, 0, 0, 1, -1))
    if 0 <= index < len(paragraphs):
        paragraphs[index] = f"{first} {paragraphs[index]}" if rng.random() < 0.8 else first
    return rng.choice(("\n\n", "\n\n", "\n \n", "\n\n\n", "\n")).join(paragraphs)


def _postscript(kw: dict[str, Any], rng: random.Random) -> str:
    marker = rng.choice((kw["postscript_marker"], "P.S.", "p.s.", "P. S.", "P.P.S", "p. p. s", "PS:", "P.S"))
    return words(rng, 4) + rng.choice(("\n", "\n\n", " ")) + marker + " " + words(rng, 3)


def _json(kw: dict[str, Any], rng: random.Random) -> str:
    body = rng.choice((json.dumps({"a": words(rng, 2), "n": [1, 2]}), "[1, 2]", '{"a": 1,}', "{'a': 1}", "true", "x"))
    fence = rng.choice((("", ""), ("```json\n", "\n```"), ("```JSON", "```"), ("```\n", "\n```"), ("```Json", "")))
    return rng.choice(("", "  ", "Here:\n")) + fence[0] + body + fence[1]


def _two(kw: dict[str, Any], rng: random.Random) -> str:
    first, second = words(rng, 3), rng.choice((words(rng, 3), ""))
    parts = [first, first if rng.random() < 0.2 else second] + ([words(rng, 2)] if rng.random() < 0.2 else [])
    return rng.choice(("******", "\n******\n", " ****** ", "*****", "*******")).join(parts)


def _sections(kw: dict[str, Any], rng: random.Random) -> str:
    splitter = rng.choice((kw["section_spliter"], kw["section_spliter"], kw["section_spliter"].lower(), "Part"))
    numbers = rng.choice((lambda i: f" {i + 1}", lambda i: f"{i + 1}", lambda i: " X", lambda i: f" {i + 1}:"))
    return "".join(f"{splitter}{numbers(i)}\n{words(rng, 3)}\n" for i in range(near(rng, kw["num_sections"])))


BUILDERS: dict[str, Callable[[dict[str, Any], random.Random], str]] = {
    "keywords:existence": lambda kw, rng: " ".join(
        [words(rng, 3)] + [recase(rng, k) + rng.choice(("", "s", "ing")) for k in kw["keywords"] if rng.random() < 0.8]
    ),
    "keywords:frequency": lambda kw, rng: " ".join(
        [words(rng, 2)]
        + [recase(rng, kw["keyword"]) + rng.choice(("", "", "s")) for _ in range(near(rng, kw["frequency"]))]
    ),
    "keywords:forbidden_words": lambda kw, rng: (
        words(rng, 4)
        + "".join(
            " " + recase(rng, w) + rng.choice(("", "", "ing", ".")) for w in kw["forbidden_words"] if rng.random() < 0.4
        )
    ),
    "keywords:letter_frequency": lambda kw, rng: (
        words(rng, 2)
        + " "
        + "".join(recase(rng, kw["letter"]) + rng.choice((" ", "x")) for _ in range(near(rng, kw["let_frequency"])))
    ),
    "language:response_language": _language,
    "length_constraints:number_sentences": lambda kw, rng: " ".join(
        rng.choice(("It is {}.", "Is it {}?", "Dr. {} came!", "{}...")).format(words(rng, 3))
        for _ in range(near(rng, kw["num_sentences"]))
    ),
    "length_constraints:number_paragraphs": lambda kw, rng: _separated(
        rng, near(rng, kw["num_paragraphs"]), ("***", "\n***\n", " *** ", "\n\n***\n\n", "\n* * *\n", "****")
    ),
    "length_constraints:number_words": lambda kw, rng: words(rng, near(rng, kw["num_words"])),
    "length_constraints:nth_paragraph_first_word": _nth_first_word,
    "detectable_content:number_placeholders": lambda kw, rng: " ".join(
        rng.choice(("[name]", "[ ]", "[a [b]]", "[]")) for _ in range(near(rng, kw["num_placeholders"]))
    ),
    "detectable_content:postscript": _postscript,
    "detectable_format:number_bullet_lists": lambda kw, rng: "\n".join(
        rng.choice(("* item", "- item", "  * item", "*item", "** bold", "-", "*emph* x"))
        for _ in range(near(rng, kw["num_bullets"]))
    ),
    "detectable_format:constrained_response": lambda kw, rng: (
        words(rng, 2)
        + " "
        + rng.choice(
            ("My answer is yes.", "My answer is no.", "My answer is maybe.", "My answer is Yes.", "my answer is no")
        )
    ),
    "detectable_format:number_highlighted_sections": lambda kw, rng: " ".join(
        rng.choice(("*part*", "**bold part**", "* *", "**", "*a\nb*", "***x***"))
        for _ in range(near(rng, kw["num_highlights"]))
    ),
    "detectable_format:multiple_sections": _sections,
    "detectable_format:json_format": _json,
    "detectable_format:title": lambda kw, rng: (
        words(rng, 2) + rng.choice((" <<A Title>> ", "<<>>", "<< >>", "<<a\nb>>", "<x>", "<<<t>>>", ""))
    ),
    "combination:two_responses": _two,
    "combination:repeat_prompt": lambda kw, rng: (
        rng.choice(("", " ", "Sure! ", "\n"))
        + recase(rng, kw["prompt_to_repeat"])[: rng.choice((None, None, -3))]
        + "\n"
        + words(rng, 3)
    ),
    "startend:end_checker": lambda kw, rng: (
        words(rng, 3) + " " + recase(rng, kw["end_phrase"]) + rng.choice(("", "", '"', " ", "\n", ".", " More."))
    ),
    "startend:quotation": lambda kw, rng: rng.choice(('"{}"', ' "{}" ', "'{}'", '"{}', '""', '"')).format(
        words(rng, 3)
    ),
    "change_case:capital_word_frequency": lambda kw, rng: " ".join(
        [words(rng, 3)] + [rng.choice(CAPITALS) for _ in range(near(rng, kw["capital_frequency"]))]
    ),
    "change_case:english_capital": lambda kw, rng: recase(
        rng, LANGUAGE_TEXT[rng.choice(("en", "en", "de", "ru"))], 0.9
    ),
    "change_case:english_lowercase": lambda kw, rng: recase(
        rng, LANGUAGE_TEXT[rng.choice(("en", "en", "fr", "ja"))], 0.9
    ),
    "punctuation:no_comma": lambda kw, rng: words(rng, 3) + rng.choice(("", "", ",", "，", " , x")),
}


def response_for(instruction_id: str, kwargs: dict[str, Any], rng: random.Random) -> str:
    """A response aimed at ``instruction_id`` with its arguments, then perturbed the way loose variants undo."""
    text = BUILDERS[instruction_id](kwargs, rng)
    if rng.random() < 0.25:
        text = rng.choice(("Sure, here it is:\n", "**Answer**\n", "")) + text
    if rng.random() < 0.25:
        text += rng.choice(("\nHope this helps!", "\n*", "\n"))
    if rng.random() < 0.1:
        text = text.replace(" ", " *", 1)
    return text
