"""Training text for the reference LSLM: broad-vocabulary sentences that exclude every evaluation item.

Sentences come from the inputs of BIG-bench tasks (the cached sdist), minus the tasks the project
evaluates on, minus any sentence that is a near duplicate of an evaluation item
(:class:`ExclusionIndex`), then chosen greedily to cover many distinct words.
"""

from __future__ import annotations

import json
import random
import re
import tarfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modgap_eval.errors import DataError

NGRAM = 4
"""Word n-gram size of the near-duplicate test."""
OVERLAP = 0.5
"""A text is a near duplicate of an item when they share at least this share of the shorter one's n-grams."""
JACCARD = 0.6
"""... or when they share an n-gram and this share of their distinct words (one word swapped in a question)."""

_WORD = re.compile(r"[a-z0-9]+")
_BAD_CHARS = re.compile(r"[^A-Za-z0-9 ,.?!'\-:;\"()]")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+|\n+")
_ENGLISH = frozenset(
    "the a an of to and in is are was were that it for on with as by at from this be have has what which who how "
    "why when where do does did not or but they he she we you i his her their its can will would there".split()
)
_FOREIGN = frozenset(
    "der die und das ist nicht het een van zijn il di che per con una sono el los las y que por del une est dans "
    "les des pour avec sur ein eine auf mit sich auch wird nel della".split()
)


def words(text: str) -> list[str]:
    """Lower-case alphanumeric words: the unit of the near-duplicate test."""
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """Word n-grams; a text shorter than ``n`` words is its own single gram."""
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@dataclass
class ExclusionIndex:
    """Evaluation texts indexed by word n-gram, to refuse their near duplicates as training text.

    A candidate is excluded when, for some evaluation text, the two share at least ``OVERLAP`` of
    the n-grams of the shorter of the two, or share an n-gram and ``JACCARD`` of their distinct words,
    or either's words appear contiguously in the other (exact copies, copies with a word changed,
    an item inside a longer passage, a sentence of an item).
    """

    texts: list[str] = field(default_factory=list)
    _grams: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    _sizes: list[int] = field(default_factory=list)
    _joined: list[str] = field(default_factory=list)
    _vocab: list[frozenset[str]] = field(default_factory=list)
    _short: list[int] = field(default_factory=list)
    """Items shorter than NGRAM words: checked by containment, as they share no n-gram with longer texts."""

    @classmethod
    def build(cls, texts: Iterable[str]) -> ExclusionIndex:
        index = cls()
        for text in texts:
            tokens = words(text)
            if not tokens:
                continue
            item = len(index.texts)
            index.texts.append(text)
            grams = ngrams(tokens)
            index._sizes.append(len(grams))
            index._joined.append(" " + " ".join(tokens) + " ")
            index._vocab.append(frozenset(tokens))
            for gram in grams:
                index._grams[gram].append(item)
            if len(tokens) < NGRAM:
                index._short.append(item)
        return index

    def match(self, text: str) -> str | None:
        """The evaluation text that ``text`` nearly duplicates, or None."""
        tokens = words(text)
        if not tokens:
            return None
        grams = ngrams(tokens)
        shared: Counter[int] = Counter()
        for gram in grams:
            for item in self._grams.get(gram, ()):
                shared[item] += 1
        joined = " " + " ".join(tokens) + " "
        vocab = frozenset(tokens)
        for item, count in shared.items():
            if count >= OVERLAP * min(len(grams), self._sizes[item]):
                return self.texts[item]
            if len(vocab & self._vocab[item]) >= JACCARD * len(vocab | self._vocab[item]):
                return self.texts[item]
            if joined in self._joined[item] or self._joined[item] in joined:
                return self.texts[item]
        for item in self._short:
            if self._joined[item] in joined:
                return self.texts[item]
        return None

    def excludes(self, text: str) -> bool:
        return self.match(text) is not None


def evaluation_texts(bigbench_tasks: Sequence[str]) -> list[str]:
    """Every question and option text of the evaluated BIG-bench tasks (all items, not a sample) and of
    the registered generators (a large draw), so none of them or their near duplicates is trained on."""
    from modgap_eval.tasks import bigbench
    from modgap_eval.tasks.generators import GENERATORS

    texts: list[str] = []
    for name in bigbench_tasks:
        for row in bigbench.load_rows(name):
            texts.append(row["question"])
            texts.extend(choice for choice in row["choices"] if len(words(choice)) >= NGRAM)
    for name in GENERATORS.names():
        for seed in range(3):
            texts.extend(row["question"] for row in GENERATORS.get(name)(count=2000, seed=seed))
    return texts


def evaluated_bigbench_tasks(tasks_dir: Path) -> list[str]:
    """BIG-bench task names the project evaluates: the shipped set plus any named by a task YAML."""
    import yaml

    from modgap_eval.tasks.bigbench import SHIPPED_TASKS

    names = set(SHIPPED_TASKS)
    for path in sorted(tasks_dir.rglob("*.yaml")):
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue  # the task loader reports broken YAML; here any parsable task counts
        source = spec.get("source") if isinstance(spec, dict) else None
        if isinstance(source, dict) and source.get("kind") == "bigbench" and isinstance(source.get("path"), str):
            names.add(source["path"])
    return sorted(names)


def clean_sentence(sentence: str, min_words: int, max_words: int) -> str | None:
    """A plain spoken-style English sentence, or None (code, symbols, lists, other scripts)."""
    sentence = re.sub(r" ([.,?!;:])", r"\1", " ".join(sentence.split()))
    if not sentence or _BAD_CHARS.search(sentence) or not sentence[0].isupper() or sentence[-1] not in ".?!":
        return None
    tokens = sentence.split()
    if not min_words <= len(tokens) <= max_words:
        return None
    alphabetic = sum(1 for token in tokens if token.strip(",.?!'\"():;-").isalpha())
    if alphabetic < 0.85 * len(tokens) or sum(c.isupper() for c in sentence) > 0.2 * len(tokens) + 2:
        return None
    lowered = words(sentence)
    if sum(w in _ENGLISH for w in lowered) < 0.2 * len(lowered) or any(w in _FOREIGN for w in lowered):
        return None  # English only: the LM and the evaluation are English
    return sentence


def bigbench_sentences(
    archive: Path, skip_tasks: Sequence[str], min_words: int = 5, max_words: int = 22
) -> Iterator[str]:
    """Clean sentences from the ``input`` fields of every BIG-bench task.json except ``skip_tasks``."""
    skip = {name.split("/")[0] for name in skip_tasks}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if not (member.isfile() and parts[-1] == "task.json" and "benchmark_tasks" in parts):
                    continue
                task = parts[parts.index("benchmark_tasks") + 1]
                if task in skip:
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                try:
                    examples = json.loads(handle.read().decode("utf-8")).get("examples", [])
                except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                    continue
                for example in examples if isinstance(examples, list) else []:
                    text = example.get("input") if isinstance(example, dict) else None
                    if not isinstance(text, str):
                        continue
                    for piece in _SENTENCE_END.split(text):
                        sentence = clean_sentence(piece, min_words, max_words)
                        if sentence is not None:
                            yield sentence
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {archive} ({exc})") from exc


def select_for_coverage(
    sentences: Sequence[str], count: int, seed: int, per_word: int = 3, min_frequency: int = 3
) -> list[str]:
    """Pick ``count`` sentences, preferring ones that bring words seen fewer than ``per_word`` times.

    One seeded pass favours new vocabulary among words used in at least ``min_frequency`` sentences
    of the pool (rare names and typos teach little) and skips sentences with more than two rare
    words; the rest is filled in the same seeded order.
    """
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    frequency: Counter[str] = Counter(w for s in sentences for w in set(words(s)))
    seen: Counter[str] = Counter()
    chosen: list[int] = []
    for i in order:
        tokens = set(words(sentences[i]))
        if sum(1 for token in tokens if frequency[token] < min_frequency) > 2:
            continue
        fresh = sum(1 for token in tokens if seen[token] < per_word and frequency[token] >= min_frequency)
        if fresh >= 2 or (fresh and len(tokens) < 8):
            chosen.append(i)
            seen.update(tokens)
            if len(chosen) >= count:
                break
    taken = set(chosen)
    chosen += [i for i in order if i not in taken][: max(0, count - len(chosen))]
    return [sentences[i] for i in chosen]


def candidate_pool(exclusion: ExclusionIndex, archive: Path, skip_tasks: Sequence[str]) -> tuple[list[str], int]:
    """Distinct, non-excluded BIG-bench sentences (sorted), and how many near duplicates were removed."""
    unique: dict[str, str] = {}
    excluded = 0
    for sentence in bigbench_sentences(archive, skip_tasks):
        key = " ".join(words(sentence))
        if key in unique:
            continue
        if exclusion.excludes(sentence):
            excluded += 1
            unique[key] = ""
            continue
        unique[key] = sentence
    return sorted(s for s in unique.values() if s), excluded
