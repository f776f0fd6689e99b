"""The published ``leaderboard.json`` schema and the schema of reported (not reproduced) numbers.

A leaderboard is a list of models; each model holds one entry per task and per group it was run on,
and the runs those entries came from (with their reproducibility envelope and where the results file
lives). Every entry says its provenance: ``reproduced`` (merged from a results file of this project)
or ``reported`` (numbers copied from a publication, never re-run here).

Comparability (checked by ``merge``): two reproduced entries of a task are comparable when their
``TaskIdentity`` is equal (task version, scorer, output type and content hash, which covers the
prompt, the speech source and the exact items) and, where both carry representations, the layer
convention and centering are equal.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Final, Literal

from pydantic import AliasChoices, Field, create_model, model_validator

from modgap_eval.analysis.schema import Baselined, BaselinedCurve
from modgap_eval.metrics import REPRESENTATION_METRICS, MetricSpec
from modgap_eval.results import Envelope, ModelRecord
from modgap_eval.strict import Strict

LEADERBOARD_SCHEMA_VERSION: Final = 1

# A reported gap may differ from text − speech by the rounding of the published figures.
REPORTED_GAP_TOLERANCE = 0.015


class Provenance(str, Enum):
    REPRODUCED = "reproduced"
    """Merged from a results file this project wrote."""
    REPORTED = "reported"
    """Copied from a publication; not reproduced by this project."""


class TaskIdentity(Strict):
    """What must be equal for two runs of a task to be compared."""

    version: int | str
    scorer: dict[str, Any]
    output_type: str
    content_hash: str

    def describe(self) -> str:
        scorer = json.dumps(self.scorer, sort_keys=True)
        return (
            f"version {self.version!r}, scorer {scorer}, output_type {self.output_type!r},"
            f" content_hash {self.content_hash[:12]}"
        )


class GapInterval(Strict):
    """The paired bootstrap interval of a results file's ``GapStats`` (``ci_low`` ... there)."""

    low: float = Field(validation_alias=AliasChoices("low", "ci_low"))
    high: float = Field(validation_alias=AliasChoices("high", "ci_high"))
    level: float = Field(validation_alias=AliasChoices("level", "ci_level"))
    bootstrap_iters: int


class PairTable(Strict):
    """The 2×2 table of paired outcomes (METHOD.md §1), read from a ``GapStats``."""

    both_right: int
    text_only: int
    speech_only: int
    both_wrong: int


class RepresentationFacts(Strict):
    """What a representation entry says besides its metrics: curves and how the states were taken."""

    layer_cos: BaselinedCurve | None = None
    layer_euc: BaselinedCurve | None = None
    num_layers: int | None = None
    n_samples: int | None = None
    layer_convention: str | None = None
    centering: bool | None = None
    derangement_seed: int | None = None


class PairedFacts(Strict):
    """A gap's paired statistics (METHOD.md §1) as a leaderboard entry keeps them, read from a ``GapStats``."""

    n_paired: int | None = None
    gap_ci: GapInterval | None = None
    mcnemar_p: float | None = None
    pairs: PairTable | None = None


class ReadingEntry(PairedFacts):
    """A task's or group's numbers under one declared reading (e.g. strict, voicebench, pmi).

    The paired statistics are the reading's own where the run computed them (``ReadingResult.stats``)
    and None where it has none (VoiceBench's own reading, a group's reading, boards written before
    readings carried them): optional fields, so such boards load unchanged under schema version 1.
    """

    text: float
    speech: float
    gap: float
    primary: bool = False
    """True for the reading the entry's own text/speech/gap are."""


def _metric_fields(specs: tuple[MetricSpec, ...]) -> dict[str, Any]:
    """Optional pydantic fields for declared metrics: baselined ones as ``Baselined``, others as numbers."""
    return {m.name: (Baselined | None if m.baselined else float | None, None) for m in specs}


RepresentationEntry = create_model(
    "RepresentationEntry",
    __base__=RepresentationFacts,
    __doc__="""Sequence- and token-level similarity figures (METHOD.md §3, §4, §4b): every metric of
    ``metrics.REPRESENTATION_METRICS``. Reproduced entries carry every field; reported entries carry
    what the publication gives.""",
    **_metric_fields(REPRESENTATION_METRICS),
)


class _Cell(Strict):
    """What a task's and a group's entry share (``leaderboard.json`` is written with sorted keys)."""

    run: str
    """Id of the run (in the model's ``runs``) these numbers come from."""
    text: float | None = None
    speech: float | None = None
    gap: float | None = None
    n_paired: int | None = None
    representation: RepresentationEntry | None = None
    readings: dict[str, ReadingEntry] = Field(default_factory=dict)


class TaskEntry(_Cell, PairedFacts):
    task: str
    identity: TaskIdentity | None = None
    """None for reported entries (their task definition is the publication's)."""
    n_samples: int | None = None
    text_stderr: float | None = None
    speech_stderr: float | None = None
    relative_gap: float | None = None
    unextractable_text: int | None = None
    unextractable_speech: int | None = None
    errors: int | None = None


class GroupEntry(_Cell):
    """A group's score is the plain mean of its tasks' scores (METHOD.md §1)."""

    group: str
    tasks: list[str]
    text_micro: float | None = None
    speech_micro: float | None = None
    gap_micro: float | None = None


class RunRecord(Strict):
    id: str
    """sha256 (first 16 hex digits) of the validated results file or reported file."""
    provenance: Provenance
    finished_at: str
    """Orders runs of the same model and task: the newer replaces the older (reported: publication date)."""
    results_path: str | None = None
    """Where the results file lives: relative to the folder of leaderboard.json when it lies in the
    same repository, else absolute."""
    results_sha256: str | None = None
    envelope: Envelope | None = None
    citation: str | None = None
    url: str | None = None
    note: str | None = None


class ModelEntry(ModelRecord):
    """A results file's model record with its identity and its leaderboard cells."""

    id: str
    """sha256 (first 16 hex digits) over provenance, name, args, source and revision."""
    provenance: Provenance
    tasks: dict[str, TaskEntry] = Field(default_factory=dict)
    groups: dict[str, GroupEntry] = Field(default_factory=dict)
    runs: dict[str, RunRecord] = Field(default_factory=dict)


class Leaderboard(Strict):
    schema_version: Literal[1] = LEADERBOARD_SCHEMA_VERSION
    models: list[ModelEntry] = Field(default_factory=list)


# ---- reported numbers (input to ``leaderboard add``) ------------------------------------------


class _ReportedGap(Strict):
    text: float | None = None
    speech: float | None = None
    gap: float | None = None
    n_samples: int | None = None

    @model_validator(mode="after")
    def _gap_is_text_minus_speech(self) -> _ReportedGap:
        if self.text is not None and self.speech is not None:
            if self.gap is None:
                raise ValueError("gap is required when text and speech are given")
            if abs(self.text - self.speech - self.gap) > REPORTED_GAP_TOLERANCE:
                raise ValueError(f"gap {self.gap} is not text − speech = {self.text - self.speech:.4f}")
        return self


ReportedScores = create_model(
    "ReportedScores",
    __base__=_ReportedGap,
    __doc__="""A publication's numbers for one task: the gap and the reportable path figures
    (``MetricSpec.reportable``). Sim and APS are left out: a publication gives no chance baseline
    for them (METHOD.md §4b), so they could not sit beside the reproduced excess.""",
    **_metric_fields(tuple(m for m in REPRESENTATION_METRICS if m.reportable)),
)


class ReportedGroupScores(ReportedScores):
    tasks: list[str] = Field(min_length=1)


class ReportedResults(Strict):
    """Numbers copied from a publication, labelled as reported and never mixed with reproduced runs."""

    provenance: Literal["reported"]
    citation: str = Field(min_length=1)
    url: str = ""
    published: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    """Publication date (YYYY-MM or YYYY-MM-DD); orders reported runs of the same model."""
    note: str = ""
    model: ModelRecord
    tasks: dict[str, ReportedScores] = Field(default_factory=dict)
    groups: dict[str, ReportedGroupScores] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_numbers(self) -> ReportedResults:
        if not self.tasks and not self.groups:
            raise ValueError("a reported file needs at least one entry in tasks or groups")
        return self
