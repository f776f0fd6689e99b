"""Plain-text summary of a run: one row per task and group (n, text, speech, gap, CI, p)."""

from __future__ import annotations

from modgap_eval.results import RunResults


def _fmt(value: float | None, width: int = 7) -> str:
    return f"{value:{width}.2f}" if value is not None and value == value else " " * (width - 3) + "n/a"


def summary_table(results: RunResults) -> str:
    header = f"{'task':<32} {'n':>5} {'text':>7} {'speech':>7} {'gap':>7} {'95% CI':>17} {'McNemar p':>9}"
    lines = [f"model: {results.model.name} {results.model.args or ''}".rstrip(), header, "-" * len(header)]
    for name, task in results.tasks.items():
        ci = f"[{task.gap.ci_low:6.2f},{task.gap.ci_high:6.2f}]"
        lines.append(f"{name:<32} {task.gap.n_paired:>5} {_fmt(task.text.score)} {_fmt(task.speech.score)} "
                     f"{_fmt(task.gap.gap)} {ci:>17} {task.gap.mcnemar_p:>9.3g}")
        notes = []
        if task.errors:
            notes.append(f"{len(task.errors)} sample(s) skipped on error")
        if task.text.unextractable or task.speech.unextractable:
            notes.append(f"unextractable answers: text {task.text.unextractable}, speech {task.speech.unextractable}")
        for reading_name, reading in task.readings.items():
            primary = " (primary)" if reading_name == task.primary_reading else ""
            stats = (f", 95% CI [{reading.stats.ci_low:.2f},{reading.stats.ci_high:.2f}], McNemar p {reading.stats.mcnemar_p:.3g}"
                     if reading.stats is not None else ", no paired statistics")
            notes.append(f"{reading_name}{primary}: text {reading.text:.2f}, speech {reading.speech:.2f}, "
                         f"gap {reading.gap:+.2f}{stats}")
        rep = task.representations
        if rep is not None:
            notes.append(f"Sim_cos {rep.sim_cos.matched:.3f} (mismatched {rep.sim_cos.mismatched:.3f}, excess {rep.sim_cos.excess:+.3f}); "
                         f"APS_cos {rep.aps_cos.matched:.3f} (excess {rep.aps_cos.excess:+.3f})")
        lines += [f"{'':<32} {note}" for note in notes]
    for name, pending in results.not_scored.items():
        lines.append(f"{name:<32} {pending.n_responses:>5} not scored ({pending.reason}); responses saved: "
                     f"modgap-eval rescore RUN_DIR --judge_base_url URL")
    for name, group in results.groups.items():
        lines.append(f"{'[group] ' + name:<32} {group.n_paired:>5} {_fmt(group.text)} {_fmt(group.speech)} {_fmt(group.gap)} "
                     f"{'(macro; micro gap ' + format(group.gap_micro, '.2f') + ')':>27}")
        lines += [f"{'':<32} {reading}: text {value.text:.2f}, speech {value.speech:.2f}, gap {value.gap:+.2f} "
                  f"({len(value.members_with_reading)} of {len(group.tasks)} tasks declare it)"
                  for reading, value in group.readings.items()]
    lines += [f"{'[group] ' + name:<32} waits for {', '.join(m for m in members if m in results.not_scored)}"
              for name, members in results.pending_groups.items()]
    return "\n".join(lines)
