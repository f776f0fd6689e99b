"""Differential check of our IFEval scorer against VoiceBench's evaluator (Google's IFEval checks).

Not part of CI. Two comparisons on generated data, seeded:

1. Checks: for every instruction id, many argument sets drawn by Google's own ``build_description``
   (its IFEval argument ranges) and responses built from fragments that hit and miss each argument;
   Google's strict and loose verdicts (``test_instruction_following_strict``/``_loose``) against
   ``modgap_eval.scoring.ifeval.follows``.
2. Evaluator: items with one to three instructions, responses wrapped at random in VoiceBench's turn
   tokens (a leading ``<1>``..``<3>``, a trailing ``<|user|>``) and prompts repeated at random; VoiceBench's
   ``IFEvaluator().evaluate(...)["final"]`` against our ``voicebench`` reading (``aggregate_reading``).

Setup (offline; VoiceBench's code and the dependencies stay out of the package and its env):

    git --git-dir=<VoiceBench git dir> archive HEAD src/evaluator | tar -x -C /tmp/vb
    pip install --target /tmp/ifdeps nltk langdetect immutabledict absl-py loguru
    PYTHONPATH=$PWD:/tmp/ifdeps python scripts/ifeval_differential.py --evaluator /tmp/vb/src/evaluator

Without NLTK's punkt data (a download), Google's sentence and word tokenizers cannot run: the two ids
that need them (length_constraints:number_sentences, change_case:capital_word_frequency) are skipped
unless ``--with-punkt``. Prints agreement per instruction id; ``--out`` writes the disagreements as JSON.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import random
import sys
import types
from collections import Counter
from pathlib import Path
from typing import Any

from ifeval_fragments import response_for

from modgap_eval.scoring.ifeval import IFEvalScorer, clean_kwargs, follows
from modgap_eval.scoring.ifeval_text import word_tokens
from modgap_eval.scoring.voicebench import VOICEBENCH
from modgap_eval.types import Audio, Generation, Sample

NEEDS_PUNKT = ("length_constraints:number_sentences",)
PROMPTS = [f"Prompt number {i}: write something about topic {i}." for i in range(40)]


def load_voicebench(evaluator_dir: Path, with_punkt: bool = False) -> types.ModuleType:
    """VoiceBench's ``ifeval`` module, imported without its package ``__init__`` (which imports every evaluator)."""
    package = types.ModuleType("vb_evaluator")
    package.__path__ = [str(evaluator_dir)]
    sys.modules["vb_evaluator"] = package
    vb = importlib.import_module("vb_evaluator.ifeval")
    instructions = vb.instructions_registry.instructions
    instructions.logging.set_verbosity("fatal")  # absl: one line per text langdetect cannot read
    instructions.langdetect.DetectorFactory.seed = 0  # langdetect draws otherwise
    if not with_punkt:  # word_tokenize splits sentences with punkt first; one line instead (the same words)
        nltk = instructions.instructions_util.nltk
        nltk.word_tokenize = functools.partial(nltk.word_tokenize, preserve_line=True)
    return vb


def _built(vb: types.ModuleType, instruction_id: str, seed: float, **kwargs: Any) -> dict[str, Any]:
    random.seed(seed)  # Google's build_description draws from the global ``random``
    instruction = vb.instructions_registry.INSTRUCTION_DICT[instruction_id](instruction_id)
    instruction.build_description(**kwargs)
    return dict(instruction.get_instruction_args() or {})


def draw_kwargs(vb: types.ModuleType, instruction_id: str, rng: random.Random) -> dict[str, Any]:
    """Arguments drawn by Google's ``build_description``, kept only if building from them draws nothing.

    Its draws can give a set it would itself redraw when built from it (``nth_paragraph`` one past
    ``num_paragraphs``): Google's verdict on those is random, so they are drawn again (16 rebuilds must agree).
    """
    given = {"prompt_to_repeat": rng.choice(PROMPTS)} if instruction_id == "combination:repeat_prompt" else {}
    while True:
        kwargs = _built(vb, instruction_id, rng.random(), **given)
        if all(_built(vb, instruction_id, rng.random(), **kwargs) == kwargs for _ in range(16)):
            return kwargs


def google_verdicts(vb: types.ModuleType, instruction_id: str, kwargs: dict[str, Any], response: str) -> tuple:
    example = vb.InputExample(key=0, instruction_id_list=[instruction_id], prompt="p", kwargs=[kwargs])
    strict = vb.test_instruction_following_strict(example, {"p": response}).follow_instruction_list[0]
    loose = vb.test_instruction_following_loose(example, {"p": response}).follow_instruction_list[0]
    return strict, loose


def compare_checks(vb: types.ModuleType, ids: list[str], per_id: int, rng: random.Random) -> tuple[dict, list]:
    """Per id: (cases, strict agreements, loose agreements, Google strict passes); and the disagreements."""
    table: dict[str, Counter] = {}
    disagreements = []
    for instruction_id in ids:
        counts = table.setdefault(instruction_id, Counter())
        for _ in range(per_id):
            kwargs = draw_kwargs(vb, instruction_id, rng)
            response = response_for(instruction_id, kwargs, rng)
            google = google_verdicts(vb, instruction_id, kwargs, response)
            ours = tuple(
                follows(instruction_id, response, clean_kwargs(kwargs), loose=loose) for loose in (False, True)
            )
            counts.update(cases=1, strict=google[0] == ours[0], loose=google[1] == ours[1], passes=google[0])
            if google != ours:
                case = {"id": instruction_id, "kwargs": kwargs, "response": response, "google": google, "ours": ours}
                disagreements.append(case)
    return table, disagreements


TOKEN_PIECES = tuple(
    "A|B|ab|I|1| | |'|''|\"|.|...|,|:|-|--|*|(|)|?|!|;|/|—|«|’|'S|'ll|N'T|n't|CANNOT|gonna|WANNA|'TIS|\n".split("|")
)


def compare_word_tokens(vb: types.ModuleType, n: int, rng: random.Random) -> tuple[int, list]:
    """Capitalised-word counts of random strings: NLTK's ``word_tokenize`` against ``ifeval_text.word_tokens``."""
    nltk = vb.instructions_registry.instructions.instructions_util.nltk
    agree, disagreements = 0, []
    for _ in range(n):
        text = "".join(rng.choice(TOKEN_PIECES) for _ in range(rng.randint(1, 12)))
        theirs = sum(word.isupper() for word in nltk.word_tokenize(text))
        ours = sum(word.isupper() for word in word_tokens(text))
        agree += theirs == ours
        disagreements += [] if theirs == ours else [{"word_tokens": text, "nltk": theirs, "ours": ours}]
    return agree, disagreements


def wrap(response: str, rng: random.Random) -> str:
    """VoiceBench's turn tokens around a response, at random (what its cleaning removes)."""
    if rng.random() < 0.3:
        response = rng.choice(("<1>", "<2>", "<3>")) + rng.choice(("", " ", "\n")) + response
    if rng.random() < 0.3:
        response = response + rng.choice(("", " ", "\n")) + "<|user|>"
    return response


def evaluator_items(vb: types.ModuleType, ids: list[str], n: int, rng: random.Random) -> list[dict[str, Any]]:
    """Rows as VoiceBench's evaluator reads them; about one in five repeats an earlier prompt and its instructions."""
    items: list[dict[str, Any]] = []
    for key in range(n):
        if items and rng.random() < 0.2:
            earlier = rng.choice(items)
            chosen, kwargs, prompt = earlier["instruction_id_list"], earlier["kwargs"], earlier["prompt"]
        else:
            chosen = rng.sample(ids, rng.randint(1, 3))
            kwargs = [draw_kwargs(vb, iid, rng) for iid in chosen]
            prompt = f"{rng.choice(PROMPTS)} (item {key})"
        parts = [response_for(iid, kw, rng) for iid, kw in zip(chosen, kwargs)]
        response = wrap(rng.choice(parts) if rng.random() < 0.5 else "\n\n".join(parts), rng)
        row = {"key": key, "prompt": prompt, "instruction_id_list": chosen, "kwargs": kwargs, "response": response}
        items.append(row)
    return items


def ours_voicebench(items: list[dict[str, Any]]) -> float:
    scorer = IFEvalScorer()
    samples = [
        Sample(id=str(item["key"]), text=item["prompt"], audio=Audio(data=b"-"), metadata=item) for item in items
    ]
    scores = [scorer.score(sample, Generation(text=item["response"])) for sample, item in zip(samples, items)]
    return scorer.aggregate_reading(VOICEBENCH, samples, scores)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluator", type=Path, required=True, help="VoiceBench's src/evaluator folder")
    parser.add_argument("--per-id", type=int, default=300, help="generated cases per instruction id")
    parser.add_argument("--items", type=int, default=400, help="items per evaluator-level run")
    parser.add_argument("--runs", type=int, default=5, help="evaluator-level runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--with-punkt", action="store_true", help="NLTK's punkt data is installed: check all ids")
    parser.add_argument("--out", type=Path, help="write the disagreements here (JSON)")
    args = parser.parse_args(argv)
    vb = load_voicebench(args.evaluator, args.with_punkt)
    rng = random.Random(args.seed)
    skipped = () if args.with_punkt else NEEDS_PUNKT
    ids = sorted(iid for iid in vb.instructions_registry.INSTRUCTION_DICT if iid not in skipped)
    table, disagreements = compare_checks(vb, ids, args.per_id, rng)
    print(f"{'instruction id':45} cases strict-agree loose-agree google-strict-passes")
    for iid, c in table.items():
        print(f"{iid:45} {c['cases']:5} {c['strict']:12} {c['loose']:11} {c['passes']:20}")
    print(f"skipped (need NLTK punkt): {', '.join(skipped) or 'none'}")
    agree, token_disagreements = compare_word_tokens(vb, args.per_id * 10, rng)
    print(f"capitalised-word counts of random strings: {agree}/{args.per_id * 10} agree")
    disagreements += token_disagreements
    agreeing = [iid for iid, c in table.items() if c["strict"] == c["loose"] == c["cases"]]
    for run in range(args.runs):
        items = evaluator_items(vb, agreeing, args.items, rng)
        theirs = 100.0 * float(vb.IFEvaluator().evaluate(items)["final"])
        ours = ours_voicebench(items)
        print(f"evaluator run {run}: VoiceBench final {theirs:.10f}  ours (voicebench reading) {ours:.10f}")
        disagreements += [{"run": run, "voicebench": theirs, "ours": ours}] if abs(theirs - ours) > 1e-9 else []
    if args.out:
        args.out.write_text(json.dumps(disagreements, indent=1, default=str) + "\n", encoding="utf-8")
    return 1 if disagreements else 0


if __name__ == "__main__":
    raise SystemExit(main())
