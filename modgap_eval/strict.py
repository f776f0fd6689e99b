"""The one pydantic base of every boundary schema (DESIGN.md): unknown fields are errors.

``Strict`` is for records the code fills in (results, leaderboard, analysis summaries); ``Frozen``
adds immutability for parsed configuration (task YAML, run settings, checkpoint configs).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Frozen(Strict):
    model_config = ConfigDict(frozen=True)  # pydantic merges this with Strict's extra="forbid"
