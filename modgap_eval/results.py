"""The versioned results schema (pydantic, ``extra="forbid"``) and its read/write.

A run directory holds ``results.json`` (this schema) and, with ``--log_samples``, one
``samples_<task>.jsonl`` per task (``SampleRecord`` lines), from which ``rescore`` recomputes
every metric without a model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field

from modgap_eval.analysis.schema import InterventionSummary, RepresentationSummary
from modgap_eval.errors import ConfigError
from modgap_eval.strict import Strict, validated

SCHEMA_VERSION: Final = 1
RESULTS_FILE = "results.json"


class ModalityScore(Strict):
    score: float
    """Task score in percent (0–100)."""
    stderr: float
    """Bootstrap standard error of the score (percent)."""
    n: int
    unextractable: int = 0
    extras: dict[str, float] = Field(default_factory=dict)


class GapStats(Strict):
    """METHOD.md §1: GAP = text − speech over the n_paired samples scored in both modalities."""

    gap: float
    relative_gap: float | None
    """GAP / text score; None when the text score is 0."""
    ci_low: float
    ci_high: float
    ci_level: float
    bootstrap_iters: int
    n_paired: int
    both_right: int
    text_only: int
    speech_only: int
    both_wrong: int
    mcnemar_p: float
    """Exact two-sided McNemar p on the discordant pairs (1.0 when there are none)."""


class ReadingResult(Strict):
    """One declared reading of a task (e.g. acc_norm, voicebench): both modalities and their gap."""

    description: str
    text: float
    """Percent (0–100), over the same n_paired samples as the task's primary score."""
    speech: float
    gap: float
    stats: GapStats | None = None
    """Paired CI and McNemar on this reading; None where the reading declares none (see its description)."""


class SampleErrorRecord(Strict):
    sample_id: str
    message: str


class TaskRecord(Strict):
    """What every task's record holds besides its scores (scored or not)."""

    task: str
    version: int | str
    content_hash: str
    """sha256 over the task YAML and the loaded samples (text, audio bytes, targets)."""
    output_type: str
    scorer: dict[str, Any]
    prompt: dict[str, Any]
    speech_source: dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    n_samples: int
    errors: list[SampleErrorRecord] = Field(default_factory=list)


class TaskResult(TaskRecord):
    text: ModalityScore
    speech: ModalityScore
    gap: GapStats
    primary_reading: str | None = None
    """Which of ``readings`` the text/speech/gap above are (None: the scorer declares no readings)."""
    readings: dict[str, ReadingResult] = Field(default_factory=dict)
    representations: RepresentationSummary | None = None
    interventions: list[InterventionSummary] = Field(default_factory=list)


class NotScoredTask(TaskRecord):
    """A task whose responses were generated and saved (``samples_<task>.jsonl``) but not scored.

    ``reason`` says why (``"no judge"``: an llm_judge task run without a judge endpoint);
    ``modgap-eval rescore RUN_DIR --judge_base_url ...`` scores it later.
    """

    reason: str
    n_responses: int
    """Samples with a saved response in both modalities."""


class GroupReading(Strict):
    text: float
    speech: float
    gap: float
    members_with_reading: list[str]
    """The member tasks that declare this reading (the others enter with their primary score)."""


class GroupResult(Strict):
    """METHOD.md §1: group score = plain mean of its tasks' scores; the micro mean over samples too."""

    group: str
    tasks: list[str]
    text: float
    speech: float
    gap: float
    text_micro: float
    speech_micro: float
    gap_micro: float
    n_paired: int
    micro_stats: GapStats | None = None
    """Paired CI and McNemar over the pooled samples of the member tasks (the micro gap's statistics)."""
    readings: dict[str, GroupReading] = Field(default_factory=dict)
    """Macro means under each reading a member declares (a member without it counts with its primary score)."""


class ModelRecord(Strict):
    name: str
    args: dict[str, str] = Field(default_factory=dict)
    source: str = ""
    revision: str = ""
    parameters: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Envelope(Strict):
    """Everything needed to reproduce the numbers."""

    package_version: str
    git_revision: str | None
    python: str
    platform: str
    packages: dict[str, str]
    command: list[str]
    seed: int
    batch_size: int | None
    device: str
    """The device the model actually ran on (``ModelInfo.device``)."""
    dtype: str
    limit: int | None
    bootstrap_iters: int
    audio_decoder: str
    resampler: str
    representations: bool
    started_at: str
    finished_at: str
    duration_s: float
    timings_s: dict[str, float] = Field(default_factory=dict)


class RunResults(Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    model: ModelRecord
    tasks: dict[str, TaskResult]
    groups: dict[str, GroupResult] = Field(default_factory=dict)
    envelope: Envelope
    not_scored: dict[str, NotScoredTask] = Field(default_factory=dict)
    """Tasks generated but not scored (e.g. no judge); their groups are in ``pending_groups``."""
    pending_groups: dict[str, list[str]] = Field(default_factory=dict)
    """Groups left out because a member is not scored yet: name -> member tasks (rescore fills them)."""
    not_run: dict[str, str] = Field(default_factory=dict)
    """Selected tasks with no result, and why: data not available, or every sample skipped on error."""


class ModalityRecord(Strict):
    """One modality's raw output and score for one sample (what rescore reads)."""

    prompt: str
    """The user turn as text (the speech prompt shows ``<audio: ...>`` in the slot)."""
    response: str | None = None
    logprobs: list[float] | None = None
    token_counts: list[int] | None = None
    extras: dict[str, Any] = Field(default_factory=dict)
    score: float | None
    """None: not scored (the task is in ``RunResults.not_scored``)."""
    extracted: str | None = None
    unextractable: bool = False
    score_extras: dict[str, float] = Field(default_factory=dict)
    readings: dict[str, float] = Field(default_factory=dict)


class SampleRecord(Strict):
    id: str
    text: str
    references: list[str] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list)
    answer_index: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    text_result: ModalityRecord
    speech_result: ModalityRecord
    flipped: Literal["text_only", "speech_only"] | None = None
    """Set when exactly one modality is right (the ids that flip)."""
    representation: dict[str, float] | None = None
    """Per-sample APS and path summaries (analysis stage)."""


def write_results(results: RunResults, run_dir: Path, name: str = RESULTS_FILE) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / name
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(results.model_dump_json(indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves a half-written results file
    return path


def run_dir_of(path: Path) -> Path:
    """The run directory a results path names (the directory itself, or the folder of its results file)."""
    return path if path.is_dir() else path.parent


def read_results(path: Path) -> RunResults:
    """Load and validate a results file (or a run directory holding one)."""
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such results file") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    if isinstance(raw, dict) and raw.get("schema_version") not in (None, SCHEMA_VERSION):
        raise ConfigError(
            f"{path}: schema_version {raw.get('schema_version')!r} is not supported (expected {SCHEMA_VERSION})"
        )
    return validated(RunResults, raw, path)
