"""The scorer registry: name -> lazy ``"module:Class"`` reference to a ``Scorer`` subclass."""

from __future__ import annotations

from modgap_eval.registry import Registry
from modgap_eval.scoring.base import SampleScore, Scorer

SCORERS: Registry[type[Scorer]] = Registry("scorer", entry_point_group="modgap_eval.scorers")
register_scorer = SCORERS.register

SCORERS.add("mc_loglikelihood", "modgap_eval.scoring.choice:LoglikelihoodChoice")
SCORERS.add("mc_letter", "modgap_eval.scoring.choice:LetterChoice")
SCORERS.add("exact_match", "modgap_eval.scoring.match:ExactMatch")

__all__ = ["SCORERS", "register_scorer", "Scorer", "SampleScore"]
