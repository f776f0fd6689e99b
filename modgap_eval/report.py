"""Plain-text summary of a run: one row per task and group (n, text, speech, gap, CI, p), notes below.

Groups get two rows: macro (plain mean of the member tasks' scores, VoiceBench's Overall) and micro
(over the pooled samples of the member tasks, with their paired CI and McNemar test). Tasks that
were selected but have no result are listed as not run, with the reason.
"""

from __future__ import annotations

from modgap_eval.metrics import REPRESENTATION_METRICS
from modgap_eval.results import GapStats, RunResults, TaskResult

NAME = 32


def _fmt(value: float | None, width: int = 7) -> str:
    return f"{value:{width}.2f}" if value is not None and value == value else " " * (width - 3) + "n/a"


def _stats(gap: GapStats | None) -> str:
    if gap is None:
        return f"{'':>17} {'':>9}"
    ci = f"[{gap.ci_low:6.2f},{gap.ci_high:6.2f}]"
    return f"{ci:>17} {gap.mcnemar_p:>9.3g}"


def summary_table(results: RunResults) -> str:
    header = f"{'task':<{NAME}} {'n':>5} {'text':>7} {'speech':>7} {'gap':>7} {'95% CI':>17} {'McNemar p':>9}"
    lines = [f"model: {results.model.name} {results.model.args or ''}".rstrip(), header, "-" * len(header)]
    for name, task in results.tasks.items():
        lines.append(
            f"{name:<{NAME}} {task.gap.n_paired:>5} {_fmt(task.text.score)} {_fmt(task.speech.score)} "
            f"{_fmt(task.gap.gap)} {_stats(task.gap)}"
        )
        lines += [f"{'':<{NAME}} {note}" for note in _task_notes(task)]
    for name, pending in results.not_scored.items():
        lines.append(
            f"{name:<{NAME}} {pending.n_responses:>5} not scored ({pending.reason}); responses saved: "
            f"modgap-eval rescore RUN_DIR --judge_base_url URL"
        )
    for name, group in results.groups.items():
        label = f"[group] {name}"
        lines.append(
            f"{label + ' (macro)':<{NAME}} {group.n_paired:>5} {_fmt(group.text)} {_fmt(group.speech)} "
            f"{_fmt(group.gap)} {'mean of tasks':>17}"
        )
        lines.append(
            f"{label + ' (micro)':<{NAME}} {group.n_paired:>5} {_fmt(group.text_micro)} {_fmt(group.speech_micro)} "
            f"{_fmt(group.gap_micro)} {_stats(group.micro_stats)}"
        )
        lines += [
            f"{'':<{NAME}} {reading}: text {value.text:.2f}, speech {value.speech:.2f}, gap {value.gap:+.2f} "
            f"({len(value.members_with_reading)} of {len(group.tasks)} tasks declare it)"
            for reading, value in group.readings.items()
        ]
    lines += [
        f"{'[group] ' + name:<{NAME}} waits for {', '.join(m for m in members if m in results.not_scored)}"
        for name, members in results.pending_groups.items()
    ]
    for name, reason in results.not_run.items():
        lines.append(f"{name:<{NAME}} not run: {reason}")
    return "\n".join(lines)


def _task_notes(task: TaskResult) -> list[str]:
    notes = []
    if task.errors:
        notes.append(f"{len(task.errors)} sample(s) skipped on error")
    if task.text.unextractable or task.speech.unextractable:
        notes.append(f"unextractable answers: text {task.text.unextractable}, speech {task.speech.unextractable}")
    if "transcript_wer" in task.speech.extras:
        notes.append(
            f"transcript WER {100 * task.speech.extras['transcript_wer']:.2f}% (speech side's ASR, vs the written form)"
        )
    for reading_name, reading in task.readings.items():
        primary = " (primary)" if reading_name == task.primary_reading else ""
        stats = ", no paired statistics"
        if reading.stats is not None:
            ci, p = f"[{reading.stats.ci_low:.2f},{reading.stats.ci_high:.2f}]", f"{reading.stats.mcnemar_p:.3g}"
            stats = f", 95% CI {ci}, McNemar p {p}"
        values = f"text {reading.text:.2f}, speech {reading.speech:.2f}, gap {reading.gap:+.2f}"
        notes.append(f"{reading_name}{primary}: {values}{stats}")
    if task.representations is not None:
        for m in REPRESENTATION_METRICS:
            if m.baselined:
                b, d = getattr(task.representations, m.name), m.digits
                notes.append(
                    f"{m.name} matched {b.matched:.{d}f}, mismatched {b.mismatched:.{d}f}, excess {b.excess:+.{d}f}"
                )
    return notes
