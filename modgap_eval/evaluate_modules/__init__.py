"""Hugging Face ``evaluate`` modules for the modality gap and APS, loadable offline by path.

``evaluate.load(str(MODULES_DIR / "modality_gap"))`` or ``.../"alignment_path_score"``.
"""

from __future__ import annotations

from pathlib import Path

MODULES_DIR = Path(__file__).resolve().parent
MODALITY_GAP = MODULES_DIR / "modality_gap"
ALIGNMENT_PATH_SCORE = MODULES_DIR / "alignment_path_score"
