"""A leaderboard whose entries declare readings, scored for real: VoiceBench-style MCQ responses through
``mc_reference_letter`` (readings ``strict``, primary, and ``voicebench``) and a group over that task and a
task with one reading, aggregated by the runner's own ``aggregate_group``."""

from __future__ import annotations

from pathlib import Path

from modgap_eval.aggregate import aggregate_group, score_task
from modgap_eval.leaderboard.entries import read_incoming
from modgap_eval.leaderboard.merge import merge_all
from modgap_eval.leaderboard.schema import Leaderboard
from modgap_eval.paths import REPO_ROOT
from modgap_eval.results import ReadingResult, RunResults, TaskResult
from modgap_eval.scoring.reference_letter import ReferenceLetter
from modgap_eval.types import Audio, Generation, Sample
from tests.leaderboard.builders import run_results, task_result, write_run

MCQ_TASK, ONE_READING_TASK, GROUP = "voicebench_mmsu", "open_ended", "vb_mini"
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
    results = run_results(model, list(tasks.values()), group=None)
    group = aggregate_group(GROUP, [MCQ_TASK, ONE_READING_TASK], tasks)
    return results.model_copy(update={"groups": {GROUP: group}})


def reading_board(root: Path) -> tuple[Leaderboard, dict[str, RunResults]]:
    """Two reproduced models and VoiceBench's published GPT-4o-Audio row (it reports ``voicebench_mmsu``)."""
    results = {model: model_results(model) for model in SPEECH}
    files = [write_run(root, model, r) for model, r in results.items()]
    files.append(REPO_ROOT / "leaderboard" / "reported" / "voicebench_leaderboard_gpt4o_audio.yaml")
    board = merge_all(Leaderboard(), [read_incoming(f, root / "lb") for f in files]).board
    return board, results
