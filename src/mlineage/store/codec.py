"""Conversions between database rows and domain objects."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mlineage.types import (
    Artifact,
    ArtifactState,
    Context,
    Execution,
    ExecutionState,
    StoreName,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_micros() -> int:
    return time.time_ns() // 1000


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is local time, as datetime.now() gives
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def nan_to_null(value: float) -> float | None:
    """SQLite turns NaN into NULL anyway; doing it here keeps both dialects the same."""
    return None if math.isnan(value) else value


def null_to_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


_SCAN: Callable[[str, int], tuple[Any, int]] = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner behind `json.loads`, without its whitespace handling (two regular
expression matches per call): the store writes compact JSON."""


def json_value(value: Any) -> Any:
    """A JSON column's value as read: text from SQLite's driver, already decoded by
    PostgreSQL's or by SQLAlchemy."""
    if type(value) is not str:
        return value
    if value == "{}":
        return {}
    try:
        found, end = _SCAN(value, 0)
    except StopIteration:
        end = -1
    return found if end == len(value) else json.loads(value)


COMMON_COLUMNS = (
    "id",
    "resource_id",
    "display_name",
    "schema_title",
    "schema_version",
    "description",
    "metadata",
    "labels",
    "etag",
    "create_time",
    "update_time",
)
OWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "artifacts": ("uri", "state", "fingerprint"),
    "executions": ("state",),
    "contexts": (),
}
"""A node row is read as `COMMON_COLUMNS + OWN_COLUMNS[kind]`, in this order."""

_ARTIFACT_STATES = ArtifactState.__members__
_EXECUTION_STATES = ExecutionState.__members__


def artifacts_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName
) -> list[tuple[int, Artifact]]:
    """(id, artifact) of each row of `COMMON_COLUMNS + OWN_COLUMNS["artifacts"]`."""
    prefix = f"{store}/artifacts/"
    made = []
    for pk, rid, display, title, version, text, meta, labels, etag, ct, ut, uri, st, fp in rows:
        created = _EPOCH + timedelta(microseconds=ct)
        artifact = Artifact(
            name=prefix + rid,
            display_name=display,
            schema_title=title,
            schema_version=version,
            metadata=json_value(meta),
            description=text,
            labels=json_value(labels),
            etag=str(etag),
            create_time=created,
            update_time=created if ut == ct else _EPOCH + timedelta(microseconds=ut),
            uri=uri,
            state=_ARTIFACT_STATES[st],
            fingerprint=fp,
        )
        made.append((pk, artifact))
    return made


def executions_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName
) -> list[tuple[int, Execution]]:
    """(id, execution) of each row of `COMMON_COLUMNS + OWN_COLUMNS["executions"]`."""
    prefix = f"{store}/executions/"
    made = []
    for pk, rid, display, title, version, text, meta, labels, etag, ct, ut, st in rows:
        created = _EPOCH + timedelta(microseconds=ct)
        execution = Execution(
            name=prefix + rid,
            display_name=display,
            schema_title=title,
            schema_version=version,
            metadata=json_value(meta),
            description=text,
            labels=json_value(labels),
            etag=str(etag),
            create_time=created,
            update_time=created if ut == ct else _EPOCH + timedelta(microseconds=ut),
            state=_EXECUTION_STATES[st],
        )
        made.append((pk, execution))
    return made


def contexts_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName
) -> list[tuple[int, Context]]:
    """(id, context) of each row of `COMMON_COLUMNS`; without parents
    (`nodes.with_parents` fills them)."""
    prefix = f"{store}/contexts/"
    made = []
    for pk, rid, display, title, version, text, meta, labels, etag, ct, ut in rows:
        created = _EPOCH + timedelta(microseconds=ct)
        context = Context(
            name=prefix + rid,
            display_name=display,
            schema_title=title,
            schema_version=version,
            metadata=json_value(meta),
            description=text,
            labels=json_value(labels),
            etag=str(etag),
            create_time=created,
            update_time=created if ut == ct else _EPOCH + timedelta(microseconds=ut),
        )
        made.append((pk, context))
    return made


def context_from_row(row: Mapping[Any, Any], store: StoreName) -> Context:
    """A context from a mapping of its columns, without its parents."""
    values = tuple(row[column] for column in COMMON_COLUMNS)
    return contexts_from_rows([values], store)[0][1]
