"""The training-text exclusion: no evaluation item, nor a near duplicate of one, becomes training text."""

from __future__ import annotations

import pytest

from modgap_eval.reference import corpus

ITEMS = [
    "How many legs do horses have?",
    "Which of these animals has the longest neck: a giraffe, a horse or a duck?",
    "What is 7 plus 5?",
    "Who wrote Hamlet?",
]


@pytest.fixture(scope="module")
def index():
    return corpus.ExclusionIndex.build(ITEMS)


@pytest.mark.parametrize(
    "text",
    [
        "How many legs do horses have?",  # exact
        "how many legs do horses have",  # case and punctuation
        "How many legs do cows have?",  # one word changed (3 of 4 grams... half shared)
        "Question: Which of these animals has the longest neck: a giraffe, a horse or a duck? Answer: giraffe",
        "Which of these animals has the longest tail: a giraffe, a horse or a duck?",  # near duplicate
        "What is 7 plus 3?",  # a generated template, other numbers
        "I wonder who wrote Hamlet in the first place.",  # a short item inside a longer sentence
        "Which of these animals has the longest neck",  # a fragment of an item
    ],
)
def test_near_duplicates_are_excluded(index, text):
    assert index.excludes(text), text


@pytest.mark.parametrize(
    "text",
    [
        "The horse ran across the field at dawn.",
        "Many animals have four legs and a tail.",
        "What is the tallest mountain in Europe?",
        "Shakespeare lived in England.",
    ],
)
def test_unrelated_sentences_are_kept(index, text):
    assert not index.excludes(text), (text, index.match(text))


@pytest.mark.slow
def test_every_item_of_the_evaluated_tasks_is_excluded():
    """All questions of the evaluated BIG-bench tasks (not only a sample) and of the generators."""
    bigbench = pytest.importorskip("modgap_eval.tasks.bigbench")
    from modgap_eval.tasks.generators import GENERATORS

    try:
        rows = bigbench.load_rows("general_knowledge")
    except Exception as exc:  # noqa: BLE001 - the sdist is a download; offline CI without it skips
        pytest.skip(f"BIG-bench sdist unavailable: {exc}")
    texts = corpus.evaluation_texts(["general_knowledge"])
    index = corpus.ExclusionIndex.build(texts)
    assert all(index.excludes(row["question"]) for row in rows)
    assert all(index.excludes(row["question"]) for row in GENERATORS.get("arithmetic")(count=40, seed=0))
    assert all(index.excludes(row["question"]) for row in GENERATORS.get("weekday_after")(count=28, seed=5))
    assert index.excludes("Which number is larger, 12 or 95?")
    assert not index.excludes("The river flows slowly past the old mill.")


def test_evaluated_tasks_include_any_bigbench_yaml(tmp_path):
    (tmp_path / "t.yaml").write_text("task: x\nsource:\n  kind: bigbench\n  path: logical_deduction\n")
    names = corpus.evaluated_bigbench_tasks(tmp_path)
    assert "logical_deduction" in names and "general_knowledge" in names


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("It does not evolve because it does not have to .", "It does not evolve because it does not have to."),
        ("Un hotel moderno y con estilo.", None),
        ("def f(x): return x[0]", None),
        ("short one.", None),
        ("The cat sat on the mat by the door.", "The cat sat on the mat by the door."),
    ],
)
def test_clean_sentence(raw, expected):
    assert corpus.clean_sentence(raw, 5, 22) == expected


def test_selection_is_seeded_and_prefers_new_words():
    pool = [f"The {w} is near the house today." for w in ["cat", "dog", "cow", "owl", "fox"] * 3] + [
        "The the the the the the."
    ] * 5
    first = corpus.select_for_coverage(pool, 5, seed=1, per_word=1, min_frequency=1)
    assert first == corpus.select_for_coverage(pool, 5, seed=1, per_word=1, min_frequency=1)
    assert len({corpus.words(s)[1] for s in first}) == 5  # five different animals before any repeat
