"""A leaderboard whose entries declare readings, scored for real: VoiceBench-style MCQ responses through
``mc_reference_letter`` (readings ``strict``, primary, and ``voicebench``), option log-likelihoods through
``mc_loglikelihood`` (``acc``, primary, ``acc_norm`` and ``pmi``, each with its paired CI and McNemar test),
and a group over the MCQ task and a task with one reading, aggregated by the runner's own ``aggregate_group``."""

from __future__ import annotations

from pathlib import Path

from modgap_eval.aggregate import aggregate_group, score_task
from modgap_eval.leaderboard.entries import read_incoming
from modgap_eval.leaderboard.merge import merge_all
from modgap_eval.leaderboard.schema import Leaderboard
from modgap_eval.paths import REPO_ROOT
from modgap_eval.results import ReadingResult, RunResults, TaskResult
from modgap_eval.scoring.choice import CALIBRATION_KEY, LoglikelihoodChoice
from modgap_eval.scoring.reference_letter import ReferenceLetter
from modgap_eval.types import Audio, Generation, Loglikelihood, Sample
from tests.leaderboard.builders import run_results, task_result, write_run

MCQ_TASK, ONE_READING_TASK, LL_TASK, GROUP = "voicebench_mmsu", "open_ended", "ll_choice", "vb_mini"
HOSTILE_READING = '<img src=x onerror="window.__pwned=3">'
INHERITED_NAME = "constructor"  # a name every JS object inherits: a row without it must say so
REFERENCES = ["A", "B", "C", "D", "A", "B"]
# Speech responses the two readings read differently, with the credit each gives by hand (the rules are in
# tests/scoring/test_voicebench_readings.py): (response, strict, voicebench). VoiceBench draws a random
# letter where its templates read none: its reading counts the expectation, 1/4.
SPEECH = {
    "alpha": [
        ("The answer is a bit tricky, but A.", 1, 1),
        ("I'm not sure.", 0, 0.25),
        ("**C**", 1, 0.25),  # no VoiceBench template reads a bare bold letter
        ("d) is right", 1, 1),
        ("A", 1, 1),
        ("Answer: B", 1, 0.25),
    ],
    "beta": [
        ("The answer is a bit tricky, but C.", 0, 1),  # VoiceBench: "the answer is a" fires first
        ("B", 1, 1),
        ("Final answer: c", 1, 0.25),
        ("", 0, 0.25),
        ("A. Paris", 1, 1),
        ("It would be (B)", 1, 1),
    ],
}


def by_hand(model: str, reading: str) -> float:
    """The speech score under a reading, from the hand credits above (percent)."""
    column = {"strict": 1, "voicebench": 2}[reading]
    return 100.0 * sum(row[column] for row in SPEECH[model]) / len(SPEECH[model])


# Log-likelihood outputs over the options ("cat", "horse"; "cat" is right), read three ways with the credit
# each reading gives by hand: (log P(cat), log P(horse), neutral-prompt log P(cat), log P(horse)), then
# acc (sums: -1 > -2), acc_norm (per byte: -1/3 against -2/5) and pmi (minus the neutral prompt's).
OPTIONS = ("cat", "horse")
OUTPUTS = {
    "all": ((-1.0, -2.0, -1.0, -1.0), {"acc": 1, "acc_norm": 1, "pmi": 1}),  # -0.33 > -0.4; 0 > -1
    "acc_only": ((-3.0, -4.0, -1.0, -3.0), {"acc": 1, "acc_norm": 0, "pmi": 0}),  # -1 < -0.8; -2 < -1
    "pmi_only": ((-3.0, -2.0, -3.0, -0.5), {"acc": 0, "acc_norm": 0, "pmi": 1}),  # -1 < -0.4; 0 > -1.5
    "acc_pmi": ((-6.0, -9.0, -2.0, -2.0), {"acc": 1, "acc_norm": 0, "pmi": 1}),  # -2 < -1.8; -4 > -7
    "none": ((-2.0, -1.0, -1.0, -1.0), {"acc": 0, "acc_norm": 0, "pmi": 0}),  # -0.67 < -0.2; -1 < 0
}
# Per model, the output of each sample in the text and the speech condition.
LL_RUNS = {
    "alpha": {
        "text": ["all", "all", "all", "pmi_only", "acc_pmi", "all", "acc_only", "all"],
        "speech": ["all", "none", "pmi_only", "none", "acc_only", "none", "all", "acc_pmi"],
    },
    "beta": {
        "text": ["all", "acc_only", "all", "all", "pmi_only", "all", "all", "none"],
        "speech": ["pmi_only", "acc_only", "all", "none", "pmi_only", "acc_pmi", "none", "all"],
    },
}
BOOTSTRAP = dict(seed=0, bootstrap_iters=200)


def ll_credits(model: str, modality: str, reading: str) -> list[int]:
    """Each sample's credit under a reading, from the hand table above."""
    return [OUTPUTS[name][1][reading] for name in LL_RUNS[model][modality]]


def ll_task(model: str) -> TaskResult:
    """The log-likelihood task as the runner scores it (the neutral-prompt log-probs attached as it does)."""
    samples = [Sample(id=f"l{i}", text="q", audio=Audio(data=b"x"), choices=OPTIONS, answer_index=0) for i in range(8)]

    def outputs(modality: str) -> dict[str, Loglikelihood]:
        values = [OUTPUTS[name][0] for name in LL_RUNS[model][modality]]
        return {s.id: Loglikelihood(v[:2], (1, 1), {CALIBRATION_KEY: list(v[2:])}) for s, v in zip(samples, values)}

    scores = score_task(LoglikelihoodChoice(), samples, outputs("text"), outputs("speech"), **BOOTSTRAP)
    return task_result(LL_TASK, 0.0, 0.0, scorer="mc_loglikelihood").model_copy(
        update={**scores.result_fields(), "n_samples": len(samples)}
    )


def mcq_task(model: str) -> TaskResult:
    """The MCQ task as the runner scores it: text answered cleanly, speech with the model's responses."""
    samples = [Sample(id=f"s{i}", text="q", audio=Audio(data=b"x"), references=(r,)) for i, r in enumerate(REFERENCES)]
    text = {s.id: Generation(text=f"The answer is {r}.") for s, r in zip(samples, REFERENCES)}
    speech = {s.id: Generation(text=row[0]) for s, row in zip(samples, SPEECH[model])}
    scores = score_task(ReferenceLetter(), samples, text, speech, seed=0, bootstrap_iters=200)
    readings = dict(scores.readings)
    if model == "beta":  # a hand-edited or foreign board may name a reading anything: it must stay text
        readings[HOSTILE_READING] = ReadingResult(description="hostile", text=50.0, speech=25.0, gap=25.0)
        readings[INHERITED_NAME] = ReadingResult(description="inherited", text=40.0, speech=30.0, gap=10.0)
    return task_result(MCQ_TASK, 0.0, 0.0, scorer="mc_reference_letter").model_copy(
        update={
            "text": scores.text,
            "speech": scores.speech,
            "gap": scores.gap,
            "n_samples": len(samples),
            "primary_reading": scores.primary_reading,
            "readings": readings,
        }
    )


def model_results(model: str) -> RunResults:
    tasks = {MCQ_TASK: mcq_task(model), ONE_READING_TASK: task_result(ONE_READING_TASK, 70.0, 61.0)}
    results = run_results(model, [*tasks.values(), ll_task(model)], group=None)
    group = aggregate_group(GROUP, [MCQ_TASK, ONE_READING_TASK], tasks)
    return results.model_copy(update={"groups": {GROUP: group}})


def reading_board(root: Path) -> tuple[Leaderboard, dict[str, RunResults]]:
    """Two reproduced models and VoiceBench's published GPT-4o-Audio row (it reports ``voicebench_mmsu``)."""
    results = {model: model_results(model) for model in SPEECH}
    files = [write_run(root, model, r) for model, r in results.items()]
    files.append(REPO_ROOT / "leaderboard" / "reported" / "voicebench_leaderboard_gpt4o_audio.yaml")
    board = merge_all(Leaderboard(), [read_incoming(f, root / "lb") for f in files]).board
    return board, results
