"""The one pydantic base of every boundary schema (DESIGN.md): unknown fields are errors.

``Strict`` is for records the code fills in (results, leaderboard, analysis summaries); ``Frozen``
adds immutability for parsed configuration (task YAML, run settings, checkpoint configs).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modgap_eval.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Frozen(Strict):
    model_config = ConfigDict(frozen=True)  # pydantic merges this with Strict's extra="forbid"


def validated(schema: type[Model], raw: Any, source: object) -> Model:
    """``schema.model_validate(raw)``, or one ConfigError naming ``source`` and the first bad field."""
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: field {where!r}: {first['msg']} ({exc.error_count()} error(s))") from exc
