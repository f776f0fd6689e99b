"""Hugging Face ``evaluate`` modules for the modality gap and APS, loadable offline by path.

``evaluate.load(str(MODULES_DIR / "modality_gap"))`` or ``.../"alignment_path_score"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODULES_DIR = Path(__file__).resolve().parent
MODALITY_GAP = MODULES_DIR / "modality_gap"
ALIGNMENT_PATH_SCORE = MODULES_DIR / "alignment_path_score"

CITATION = """\
@inproceedings{xiang2025modalitygap,
  title={Understanding the Modality Gap: An Empirical Study on the Speech-Text Alignment Mechanism of Large Speech Language Models},
  author={Xiang and Zhao and Guo and Zou},
  booktitle={EMNLP},
  year={2025}
}
"""
"""The paper both modules measure (``evaluate.MetricInfo.citation``)."""


def metric_info(description: str, inputs_description: str, features: dict[str, Any]) -> Any:
    """The ``evaluate.MetricInfo`` of a module here: its texts and input features, the paper's citation."""
    import datasets
    import evaluate

    return evaluate.MetricInfo(
        description=description,
        citation=CITATION,
        inputs_description=inputs_description,
        features=datasets.Features(features),
    )
