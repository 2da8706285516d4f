"""`mlineage.diff` results as JSON (the `:diff` custom methods)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlineage.wire.fields import Message
from mlineage.wire.resources import ArtifactJson

__all__ = ["ArtifactChangeJson", "DiffJson", "StepChangeJson", "ValueChangeJson"]


class ValueChangeJson(Message):
    """A key whose value differs; `before` or `after` is absent when that side lacks it."""

    key: str
    before: Any = None
    after: Any = None
    delta: float | None = None


class ArtifactChangeJson(Message):
    key: str
    before: ArtifactJson | None = None
    after: ArtifactJson | None = None
    changes: list[ValueChangeJson] = Field(default_factory=list)


class StepChangeJson(Message):
    key: str
    label: str
    status: str = Field(description='"added", "removed" or "changed"')
    params: list[ValueChangeJson] = Field(default_factory=list)


class DiffJson(Message):
    """What changed from `before` to `after`; `text` reads it out as `str(diff)` does."""

    before: str
    after: str
    params: list[ValueChangeJson] = Field(default_factory=list)
    metrics: list[ValueChangeJson] = Field(default_factory=list)
    data: list[ArtifactChangeJson] = Field(default_factory=list)
    steps: list[StepChangeJson] = Field(default_factory=list)
    code: list[ValueChangeJson] = Field(default_factory=list)
    environment: list[ValueChangeJson] = Field(default_factory=list)
    shared_upstream: bool = True
    truncated: bool = False
    text: str = ""
