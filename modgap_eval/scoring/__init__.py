"""The scorer registry: name -> lazy ``"module:Class"`` reference to a ``Scorer`` subclass."""

from __future__ import annotations

from modgap_eval.registry import Registry
from modgap_eval.scoring.base import SampleScore, Scorer

SCORERS: Registry[type[Scorer]] = Registry(
    "scorer",
    entry_point_group="modgap_eval.scorers",
    builtins={
        "mc_loglikelihood": "modgap_eval.scoring.choice:LoglikelihoodChoice",
        "mc_letter": "modgap_eval.scoring.choice:LetterChoice",
        "exact_match": "modgap_eval.scoring.match:ExactMatch",
        "refusal": "modgap_eval.scoring.refusal:RefusalRate",
        "mc_reference_letter": "modgap_eval.scoring.reference_letter:ReferenceLetter",
        "qa_match": "modgap_eval.scoring.qa:ReferenceQAMatch",
        "qa_pedant": "modgap_eval.scoring.pedant:PedantQA",
        "qa_voicebench": "modgap_eval.scoring.qa_voicebench:VoiceBenchQA",
        "ifeval": "modgap_eval.scoring.ifeval:IFEvalScorer",
        "bbh": "modgap_eval.scoring.bbh:BBHAnswer",
        "llm_judge": "modgap_eval.scoring.judge:LLMJudge",
    },
)
register_scorer = SCORERS.register

__all__ = ["SCORERS", "register_scorer", "Scorer", "SampleScore"]
