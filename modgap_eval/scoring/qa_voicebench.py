"""VoiceBench's sd-qa number: PEDANT and the GPT judge's majority vote, averaged (``qa_voicebench``).

VoiceBench's leaderboard SD-QA column is the mean of two scores of each response: PEDANT
(``qa-metrics``, pinned, see ``pedant``) on the lower-cased reference, response and question, and
the majority of three gpt-4o-mini verdicts (judge profile ``voicebench``, mode ``qa``). This scorer
reports that as the ``voicebench`` reading, beside the ``strict`` one (the offline ``qa_match``,
primary, with the paired statistics) and each half (``pedant``, ``judge``).

It needs both an explicit ``--allow_downloads`` (PEDANT downloads and unpickles model files) and a
judge endpoint; without a judge the task is generated and left "not scored (no judge)".
"""

from __future__ import annotations

from typing import ClassVar

from modgap_eval.scoring.base import Reading, SampleScore, Scorer
from modgap_eval.scoring.judge import LLMJudge
from modgap_eval.scoring.pedant import PedantQA
from modgap_eval.scoring.qa import ReferenceQAMatch
from modgap_eval.scoring.voicebench import STRICT, VOICEBENCH
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample


class VoiceBenchQA(Scorer):
    """value: qa_match (strict); readings: voicebench = (PEDANT + judge majority) / 2, and each half."""

    output_type = OutputType.GENERATE
    needs_references = True
    needs_judge: ClassVar[bool] = True

    def __init__(self) -> None:
        self._strict = ReferenceQAMatch()
        self._pedant = PedantQA()  # refuses without --allow_downloads or with another qa-metrics version
        self._judge = LLMJudge(mode="qa", profile="voicebench")

    def readings(self) -> tuple[Reading, ...]:
        return (
            Reading(STRICT, "qa_match, offline and deterministic (primary; paired CI and McNemar are on it)"),
            Reading(
                VOICEBENCH,
                "VoiceBench's SD-QA: mean of PEDANT and the judge's majority vote; no paired "
                "statistics (they stay on strict)",
                paired_stats=False,
            ),
            Reading("pedant", "PEDANT alone (qa-metrics, VoiceBench's pin)"),
            Reading("judge", "the voicebench judge profile's majority of 3 verdicts", paired_stats=False),
        )

    @property
    def primary_reading(self) -> str:
        return STRICT

    def describe(self) -> dict[str, object]:
        return {"strict": "qa_match", "pedant": self._pedant.describe(), "judge": self._judge.describe()}

    def score(self, sample: Sample, output: Output) -> SampleScore:
        strict = self._strict.score(sample, output)
        pedant = self._pedant.score(sample, output).value
        judge = self._judge.score(sample, output).value
        return SampleScore(
            value=strict.value,
            extracted=strict.extracted,
            unextractable=strict.unextractable,
            extras=dict(strict.extras),
            readings={STRICT: strict.value, VOICEBENCH: (pedant + judge) / 2, "pedant": pedant, "judge": judge},
        )
