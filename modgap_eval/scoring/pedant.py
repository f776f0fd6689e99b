"""PEDANT (``qa-metrics``), VoiceBench's sd-qa matcher — an explicit opt-in, never a default.

At first use ``qa-metrics`` downloads model files from GitHub and unpickles them: that needs the
network and trusts those files to run code. Choose ``scorer: {name: qa_pedant}`` only if you accept
both; the offline default for sd-qa is ``qa_match``. A notice is printed when it starts scoring.
"""

from __future__ import annotations

import importlib.util
import sys

from modgap_eval.errors import DependencyError
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Generation, Loglikelihood, Sample

NOTICE = ("modgap-eval: scorer 'qa_pedant' uses qa-metrics' PEDANT, which downloads model files from GitHub "
          "at first use and unpickles them (pickle runs code). Use 'qa_match' for the offline scorer.")


class PedantQA(Scorer):
    """value 1.0 when PEDANT judges the response to match a reference (lower-cased, as VoiceBench does)."""

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self) -> None:
        # Fail early if the package is missing, but download (PEDANT()) only when scoring starts.
        if importlib.util.find_spec("qa_metrics") is None:
            raise DependencyError("scorer 'qa_pedant' needs: pip install qa-metrics")
        self._pedant = None

    def _matcher(self):
        if self._pedant is None:
            print(NOTICE, file=sys.stderr)
            from qa_metrics.pedant import PEDANT

            self._pedant = PEDANT()
        return self._pedant

    def describe(self) -> dict[str, object]:
        from importlib.metadata import PackageNotFoundError, version

        try:
            package = version("qa-metrics")
        except PackageNotFoundError:
            package = "unknown"
        return {"matcher": "PEDANT", "qa_metrics_version": package}

    def score(self, sample: Sample, output: Generation | Loglikelihood) -> SampleScore:
        if not isinstance(output, Generation):
            raise TypeError("qa_pedant scores Generation outputs")
        if not output.text.strip():
            return SampleScore(value=0.0, unextractable=True)
        references = [ref.lower() for ref in sample.references if ref.strip()]
        matched = bool(self._matcher().evaluate(references, output.text.lower(), sample.text.lower()))
        return SampleScore(value=float(matched), extracted=output.text.strip()[:80])
