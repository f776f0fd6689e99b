"""The scorer registry: name -> lazy ``"module:Class"`` reference to a ``Scorer`` subclass."""

from __future__ import annotations

from modgap_eval.registry import Registry
from modgap_eval.scoring.base import SampleScore, Scorer

SCORERS: Registry[type[Scorer]] = Registry("scorer", entry_point_group="modgap_eval.scorers")
register_scorer = SCORERS.register

SCORERS.add("mc_loglikelihood", "modgap_eval.scoring.choice:LoglikelihoodChoice")
SCORERS.add("mc_letter", "modgap_eval.scoring.choice:LetterChoice")
SCORERS.add("exact_match", "modgap_eval.scoring.match:ExactMatch")
SCORERS.add("refusal", "modgap_eval.scoring.refusal:RefusalRate")
SCORERS.add("mc_reference_letter", "modgap_eval.scoring.reference_letter:ReferenceLetter")
SCORERS.add("qa_match", "modgap_eval.scoring.qa:ReferenceQAMatch")
SCORERS.add("qa_pedant", "modgap_eval.scoring.pedant:PedantQA")
SCORERS.add("qa_voicebench", "modgap_eval.scoring.qa_voicebench:VoiceBenchQA")
SCORERS.add("ifeval", "modgap_eval.scoring.ifeval:IFEvalScorer")
SCORERS.add("bbh", "modgap_eval.scoring.bbh:BBHAnswer")
SCORERS.add("llm_judge", "modgap_eval.scoring.judge:LLMJudge")

__all__ = ["SCORERS", "register_scorer", "Scorer", "SampleScore"]
