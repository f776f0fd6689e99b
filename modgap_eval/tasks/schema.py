"""The YAML task and group schema (pydantic, unknown keys rejected).

A task pairs the written and the spoken form of each item: ``fields.text`` renders the written
content from a dataset row, and ``speech`` says where the spoken form of the same words comes from
(a column of audio, or TTS of the rendered text). ``prompt.template`` has exactly one ``{content}``
slot, filled by text or audio; it is the only place the two conditions differ.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from modgap_eval.strict import Frozen as Strict
from modgap_eval.tasks import templates
from modgap_eval.tasks.bigbench import TASK_NAME as BIGBENCH_TASK_NAME

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-+:%\[\]]+$")
URL_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://|\bwww\.|^\s*localhost[:/]", re.IGNORECASE)
"""``scheme://...``, ``www.``, ``localhost:``: a value that names an endpoint."""
CREDENTIAL_KEY = re.compile(r"(_env|_key|url|endpoint|token|host|secret|password)$", re.IGNORECASE)
"""Argument names that would let a task choose where data goes or which secret it reads."""


def check_no_credentials(args: Any, where: str = "") -> Any:
    """Refuse endpoint/credential keys and URL-like values anywhere in ``args`` (task files never name them).

    Endpoints, keys and downloads are the user's choice, made on the command line or in the
    environment; a shared task file that could name them could send a secret to any host.
    """
    if isinstance(args, dict):
        for key, value in args.items():
            name = f"{where}.{key}" if where else str(key)
            if CREDENTIAL_KEY.search(str(key)):
                raise ValueError(
                    f"{name!r}: a task file may not name an endpoint, key or credential variable "
                    f"(set it on the command line or in the environment)"
                )
            check_no_credentials(value, name)
    elif isinstance(args, (list, tuple)):
        for i, value in enumerate(args):
            check_no_credentials(value, f"{where}[{i}]")
    elif isinstance(args, str) and URL_LIKE.search(args):
        raise ValueError(f"{where or 'value'}={args!r}: a task file may not name a URL or endpoint")
    return args


TaskArgs = Annotated[dict[str, Any], AfterValidator(check_no_credentials)]
"""Source and scorer arguments: free-form, but never an endpoint or a credential."""
Template = Annotated[str, AfterValidator(templates.check)]
OptionTemplate = Annotated[str, AfterValidator(partial(templates.check, allowed={"letter", "choice"}))]


class SourceKind(str, Enum):
    HF = "hf"
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"
    GENERATED = "generated"
    """Items made in code by a registered generator (``path`` names it); no download."""
    BIGBENCH = "bigbench"
    """A BIG-bench task.json (``path`` is the BIG-bench task name)."""


class SourceSpec(Strict):
    kind: SourceKind
    path: str
    """Hub dataset id (hf), a file relative to the YAML (jsonl/csv/parquet), or a generator/task name."""
    name: str | None = None
    """Hugging Face config name."""
    split: str | None = None
    revision: str | None = None
    args: TaskArgs = Field(default_factory=dict)
    """Arguments for generated sources (e.g. count, seed)."""

    @model_validator(mode="after")
    def _split_for_hf(self) -> SourceSpec:
        if self.kind is SourceKind.HF and not self.split:
            raise ValueError("source.split is required for kind 'hf'")
        return self

    @field_validator("path")
    @classmethod
    def _no_escape(cls, path: str, info: ValidationInfo) -> str:
        # Absolute paths are checked against the task folder by the loader; a relative path that climbs
        # out with '..' leaves every folder, so it is refused here, whatever the source kind.
        if not path or "\x00" in path:
            raise ValueError("path is empty or holds a NUL byte")
        if not os.path.isabs(path) and os.path.normpath(path).split(os.sep)[0] == "..":
            raise ValueError(f"path {path!r} leaves the task folder ('..'); task files may only read inside it")
        if info.data.get("kind") is SourceKind.BIGBENCH and not BIGBENCH_TASK_NAME.match(path):
            raise ValueError(f"BIG-bench task name {path!r} is not of the form 'task' or 'task/subtask'")
        return path

    @field_validator("name", "split")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        # These name hub objects and, offline, folders of the data dir mirror: no path separators.
        if value is not None and (not SAFE_NAME.match(value) or ".." in value):
            raise ValueError(f"{value!r} may hold only letters, digits and _ - . + : % [ ] (no '/' or '..')")
        return value


class FieldsSpec(Strict):
    """How a dataset row becomes a Sample."""

    text: Template
    """Template over row columns, e.g. ``"{question}"`` or ``"{question}\\n{choices}"``. ``{choices}``
    renders the options as lines ``A. first`` ... (see ``choice_format``)."""
    id: str | None = None
    """Column giving the sample id; default: the row index."""
    references: str | None = None
    """Column with the reference answer (string or list of strings)."""
    choices: str | list[str] | None = None
    """A column holding the list of options, or a list of columns, one per option."""
    answer: str | None = None
    """Column with the correct option: an index, a letter, or the option's text."""
    metadata: list[str] = Field(default_factory=list)
    """Columns copied into Sample.metadata for the scorer."""
    choice_format: OptionTemplate = "{letter}. {choice}"
    """How one option renders into ``{choices}``: placeholders ``{letter}`` and ``{choice}`` only."""


MAX_TTS_SAMPLE_RATE = 48_000
"""Speech models take 16 kHz and speech is recorded at most at 48 kHz; a higher rate only multiplies memory."""


class TTSSpec(Strict):
    engine: str
    voice: str | None = None
    rate: float = 1.0
    """Speaking speed (> 1 is faster); each engine refuses values outside [0.25, 4]."""
    sample_rate: int | None = Field(default=None, ge=8_000, le=MAX_TTS_SAMPLE_RATE, strict=True)


class SpeechSpec(Strict):
    """Where the spoken form comes from: exactly one of ``column`` and ``tts``."""

    column: str | None = None
    """Column with audio: a dict with ``bytes``/``path`` (HF Audio, decode=False), bytes, or a path."""
    tts: TTSSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SpeechSpec:
        if (self.column is None) == (self.tts is None):
            raise ValueError("speech needs exactly one of 'column' or 'tts'")
        return self


class PromptSpec(Strict):
    template: str = "{content}"
    """The user turn; exactly one ``{content}`` slot, no other placeholders."""
    system: str | None = None

    @field_validator("template")
    @classmethod
    def _one_slot(cls, template: str) -> str:
        names = templates.placeholders(template)
        others = sorted(set(names) - {"content"})
        if others:
            raise ValueError(f"template may only use {{content}}; found {['{' + n + '}' for n in others]}")
        if names.count("content") != 1:
            raise ValueError(f"template needs exactly one {{content}} slot, found {names.count('content')}")
        return template

    def split(self) -> tuple[str, str]:
        """Return (prefix, suffix) around the content slot, with doubled braces unescaped."""
        return templates.split(self.template, "content")


class OutputType(str, Enum):
    LOGLIKELIHOOD = "loglikelihood"
    """Score each continuation's log-probability (multiple choice without answer extraction)."""
    GENERATE = "generate"
    """Free generation, scored from the text."""


MAX_NEW_TOKENS = 4096
"""A task file is untrusted: its generation length must not exhaust memory (the KV cache grows with it).
The longest shipped task asks 1024 (IFEval); 4096 tokens is several pages of answer."""
MAX_STOPS = 32


class GenerationSpec(Strict):
    max_new_tokens: int = Field(default=256, ge=1, le=MAX_NEW_TOKENS, strict=True)
    """``strict``: an integer, not ``true``, ``256.0`` or ``"256"``."""
    stop: list[str] = Field(default_factory=list, max_length=MAX_STOPS)


class ScorerSpec(Strict):
    name: str
    args: TaskArgs = Field(default_factory=dict)
    """Scoring options only: never an endpoint, URL, key or credential variable (see check_no_credentials)."""


class TaskSpec(Strict):
    task: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    version: int | str
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    source: SourceSpec
    fields: FieldsSpec
    speech: SpeechSpec
    prompt: PromptSpec = PromptSpec()
    output_type: OutputType
    continuations: Literal["letters", "choices"] = "letters"
    """For loglikelihood: score the option letters (" A") or the option texts."""
    generation: GenerationSpec = GenerationSpec()
    scorer: ScorerSpec
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Documentation: source, licence, size (free-form, recorded in results)."""

    @model_validator(mode="after")
    def _choices_for_loglikelihood(self) -> TaskSpec:
        if self.output_type is OutputType.LOGLIKELIHOOD and (self.fields.choices is None or self.fields.answer is None):
            raise ValueError("output_type 'loglikelihood' needs fields.choices and fields.answer")
        return self


class GroupSpec(Strict):
    group: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    tasks: list[str] = Field(min_length=1)
    """Task names or other group names."""
    description: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
