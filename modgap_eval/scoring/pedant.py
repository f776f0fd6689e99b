"""PEDANT (``qa-metrics``), VoiceBench's sd-qa matcher — an explicit CLI opt-in, never a default.

At first use ``qa-metrics`` downloads model files from GitHub and unpickles them: that needs the
network and trusts those files to run code. A task may name ``scorer: {name: qa_pedant}``, but it
runs only when the user passes ``--allow_downloads``; the offline default for sd-qa is ``qa_match``.
PEDANT's verdicts moved between ``qa-metrics`` releases (47.7 vs 74.5 on the same outputs), so
the version VoiceBench pins (``requirements.txt``: ``qa_metrics==0.2.17``) is required and recorded.
A notice is printed when it starts scoring.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from modgap_eval.errors import ConfigError, DependencyError
from modgap_eval.scoring.base import SampleScore, Scorer
from modgap_eval.scoring.judge_config import downloads_allowed
from modgap_eval.tasks.schema import OutputType
from modgap_eval.types import Output, Sample

NOTICE = (
    "modgap-eval: scorer 'qa_pedant' uses qa-metrics' PEDANT, which downloads model files from GitHub "
    "at first use and unpickles them (pickle runs code). Use 'qa_match' for the offline scorer."
)
PINNED_VERSION = "0.2.17"
"""VoiceBench's requirements.txt pin (unchanged from 2024-10 to its HEAD 5338154)."""


def installed_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qa-metrics")
    except PackageNotFoundError:
        return None


class PedantQA(Scorer):
    """value 1.0 when PEDANT judges the response to match a reference (lower-cased, as VoiceBench does)."""

    output_type = OutputType.GENERATE
    needs_references = True

    def __init__(self) -> None:
        # Fail early if the package is missing, but download (PEDANT()) only when scoring starts.
        if not downloads_allowed():
            raise ConfigError(
                "scorer 'qa_pedant' downloads and unpickles model files: pass --allow_downloads to "
                "accept that (a task file cannot), or use qa_match"
            )
        if importlib.util.find_spec("qa_metrics") is None:
            raise DependencyError(f"scorer 'qa_pedant' needs: pip install qa-metrics=={PINNED_VERSION}")
        found = installed_version()
        if found is not None and found != PINNED_VERSION:
            raise DependencyError(
                f"scorer 'qa_pedant' needs qa-metrics=={PINNED_VERSION} (VoiceBench's pin; its verdicts "
                f"differ between releases), found {found}: pip install qa-metrics=={PINNED_VERSION}"
            )
        self._pedant = None

    def _matcher(self) -> Any:
        if self._pedant is None:
            print(NOTICE, file=sys.stderr)
            from qa_metrics.pedant import PEDANT

            self._pedant = PEDANT()
        return self._pedant

    def describe(self) -> dict[str, object]:
        return {"matcher": "PEDANT", "qa_metrics_version": installed_version() or "unknown"}

    def score(self, sample: Sample, output: Output) -> SampleScore:
        text = self.generated(output).text
        if not text.strip():
            return SampleScore(value=0.0, unextractable=True)
        references = [ref.lower() for ref in sample.references if ref.strip()]
        matched = bool(self._matcher().evaluate(references, text.lower(), sample.text.lower()))
        return SampleScore(value=float(matched), extracted=text.strip()[:80])
