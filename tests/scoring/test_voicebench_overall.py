"""VoiceBench Overall: the ``voicebench`` group is its nine leaderboard columns, and the plain group mean
re-derives the published Overall from the published columns (reported leaderboard rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modgap_eval.leaderboard.entries import read_reported
from modgap_eval.tasks.loader import discover

REPO_ROOT = Path(__file__).resolve().parents[2]
NINE = [
    "voicebench_alpacaeval_full",
    "voicebench_commoneval",
    "voicebench_wildvoice",
    "voicebench_sdqa_usa",
    "voicebench_mmsu",
    "voicebench_openbookqa",
    "voicebench_bbh",
    "voicebench_ifeval",
    "voicebench_advbench",
]
# Published by VoiceBench (README leaderboard at 5338154): 9 columns (open-ended on 1-5) and Overall.
PUBLISHED = {
    "gpt4o_audio": ([4.78, 4.49, 4.58, 75.50, 80.25, 89.23, 84.10, 76.02, 98.65], 86.75),
    "qwen2_audio": ([3.74, 3.43, 3.01, 35.71, 35.72, 49.45, 54.70, 26.33, 96.73], 55.80),
    "whisper_v3_large_gpt4o": ([4.80, 4.47, 4.62, 75.77, 81.69, 92.97, 87.20, 76.51, 98.27], 87.80),
}


def test_voicebench_group_is_the_nine_leaderboard_columns():
    index = discover()
    assert index.group_members("voicebench") == NINE
    assert len(index.group_members("voicebench_sdqa")) == 11  # the per-accent group stays its own


@pytest.mark.parametrize("slug", sorted(PUBLISHED))
def test_reported_rows_rederive_the_published_overall(slug):
    reported = read_reported(REPO_ROOT / "leaderboard" / "reported" / f"voicebench_leaderboard_{slug}.yaml")
    columns, overall = PUBLISHED[slug]
    # the rows hold the columns on modgap-eval's scale: ratings x20, percentages as they are
    assert [reported.tasks[t].speech for t in NINE] == pytest.approx([c * 20 for c in columns[:3]] + columns[3:])
    group = reported.groups["voicebench"]
    assert group.tasks == NINE and group.speech == overall
    derived = sum(reported.tasks[t].speech for t in NINE) / len(NINE)
    assert round(derived, 2) == pytest.approx(overall)  # 86.75 for GPT-4o-Audio, 55.80 for Qwen2-Audio


def test_group_readings_use_each_members_reading_or_its_primary_score():
    from modgap_eval.aggregate import aggregate_group
    from modgap_eval.results import GapStats, ModalityScore, ReadingResult, TaskResult

    def task(name, text, speech, readings=None):
        gap = GapStats(
            gap=text - speech,
            relative_gap=None,
            ci_low=0,
            ci_high=0,
            ci_level=0.95,
            bootstrap_iters=1,
            n_paired=4,
            both_right=0,
            text_only=0,
            speech_only=0,
            both_wrong=0,
            mcnemar_p=1.0,
        )
        return TaskResult(
            task=name,
            version=1,
            content_hash="x",
            output_type="generate",
            scorer={},
            prompt={},
            speech_source={},
            n_samples=4,
            text=ModalityScore(score=text, stderr=0, n=4),
            speech=ModalityScore(score=speech, stderr=0, n=4),
            gap=gap,
            readings={
                k: ReadingResult(description="", text=t, speech=s, gap=t - s) for k, (t, s) in (readings or {}).items()
            },
        )

    tasks = {"mcq": task("mcq", 50, 25, {"strict": (50, 25), "voicebench": (60, 40)}), "judged": task("judged", 80, 70)}
    group = aggregate_group("g", ["mcq", "judged"], tasks)
    assert (group.text, group.speech) == (65, 47.5)
    vb = group.readings["voicebench"]
    assert (vb.text, vb.speech, vb.gap) == (70, 55, 15) and vb.members_with_reading == ["mcq"]
