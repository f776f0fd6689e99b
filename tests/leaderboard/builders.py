"""Results files for leaderboard tests, built as real ``RunResults`` objects and written with ``write_results``."""

from __future__ import annotations

from pathlib import Path

from modgap_eval.analysis.schema import Baselined, BaselinedCurve, LayerCurve, RepresentationSummary
from modgap_eval.results import (
    Envelope,
    GapStats,
    GroupResult,
    ModalityScore,
    ModelRecord,
    RunResults,
    TaskResult,
    write_results,
)

SCRIPT_NAME = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


def representation(offset: float, layers: int = 4, centering: bool = False) -> RepresentationSummary:
    matched = [0.2 + offset + 0.15 * layer for layer in range(layers + 1)]
    mismatched = [value - 0.05 - offset for value in matched]
    euc_matched = [5.0 + layer for layer in range(layers + 1)]
    euc_mismatched = [value + 0.5 for value in euc_matched]

    def curve(mean: list[float], mis: list[float], higher_is_better: bool) -> BaselinedCurve:
        excess = [m - x if higher_is_better else x - m for m, x in zip(mean, mis)]
        return BaselinedCurve(
            matched=LayerCurve(mean=mean, std=[0.01] * len(mean)),
            mismatched=LayerCurve(mean=mis, std=[0.01] * len(mis)),
            excess=excess,
        )

    def base(matched_value: float, mismatched_value: float) -> Baselined:
        return Baselined(matched=matched_value, mismatched=mismatched_value, excess=matched_value - mismatched_value)

    return RepresentationSummary(
        n_samples=20,
        num_layers=layers,
        layer_convention="residual stream before final norm (hooks)",
        centering=centering,
        derangement_seed=0,
        layer_cos=curve(matched, mismatched, True),
        layer_euc=curve(euc_matched, euc_mismatched, False),
        sim_cos=base(0.6 + offset, 0.55),
        sim_euc=Baselined(matched=7.0, mismatched=7.5, excess=0.5),
        aps_cos=base(0.5 + offset, 0.42),
        aps_euc=Baselined(matched=9.0, mismatched=9.4, excess=0.4),
        monotonicity_cos=0.7 + offset,
        monotonicity_euc=0.6,
        monotonicity_excluded_cos=1,
        monotonicity_excluded_euc=2,
        consistency=0.5,
    )


def task_result(
    name: str,
    text: float,
    speech: float,
    version: int | str = 1,
    scorer: str = "choice",
    content_hash: str = "c0ffee" * 8,
    rep: RepresentationSummary | None = None,
) -> TaskResult:
    gap = text - speech
    return TaskResult(
        task=name,
        version=version,
        content_hash=content_hash,
        output_type="loglikelihood",
        scorer={"name": scorer, "args": {}},
        prompt={"template": "{content}"},
        speech_source={"tts": "flite"},
        n_samples=40,
        text=ModalityScore(score=text, stderr=2.0, n=40),
        speech=ModalityScore(score=speech, stderr=2.5, n=40, unextractable=1),
        gap=GapStats(
            gap=gap,
            relative_gap=gap / text if text else None,
            ci_low=gap - 4.0,
            ci_high=gap + 4.0,
            ci_level=0.95,
            bootstrap_iters=1000,
            n_paired=40,
            both_right=10,
            text_only=8,
            speech_only=3,
            both_wrong=19,
            mcnemar_p=0.23,
        ),
        representations=rep,
    )


def run_results(
    model: str,
    tasks: list[TaskResult],
    finished_at: str = "2026-11-25T10:00:00+00:00",
    revision: str = "r1",
    group: str | None = "suite",
) -> RunResults:
    groups = {}
    if group is not None:
        text = sum(t.text.score for t in tasks) / len(tasks)
        speech = sum(t.speech.score for t in tasks) / len(tasks)
        groups[group] = GroupResult(
            group=group,
            tasks=[t.task for t in tasks],
            text=text,
            speech=speech,
            gap=text - speech,
            text_micro=text,
            speech_micro=speech,
            gap_micro=text - speech,
            n_paired=40 * len(tasks),
        )
    return RunResults(
        model=ModelRecord(
            name=model, args={"pretrained": "/models/" + model}, source="test", revision=revision, parameters=1_000_000
        ),
        tasks={t.task: t for t in tasks},
        groups=groups,
        envelope=Envelope(
            package_version="0.1.0",
            git_revision="abc123",
            python="3.11",
            platform="linux",
            packages={"torch": "2.13.0"},
            command=["modgap-eval", "--model", model],
            seed=0,
            batch_size=4,
            device="cpu",
            dtype="float32",
            limit=None,
            bootstrap_iters=1000,
            audio_decoder="soundfile",
            resampler="soxr",
            representations=True,
            started_at=finished_at,
            finished_at=finished_at,
            duration_s=12.5,
        ),
    )


def write_run(root: Path, label: str, results: RunResults) -> Path:
    return write_results(results, root / label)
