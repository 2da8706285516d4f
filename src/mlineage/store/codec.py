"""Conversions between database rows and domain objects."""

from __future__ import annotations

import functools
import gc
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, Protocol, TypeVar

from mlineage.types import (
    Artifact,
    ArtifactState,
    Context,
    Execution,
    ExecutionState,
    StoreName,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DecodedNode = TypeVar("DecodedNode", Artifact, Execution, Context)
P = ParamSpec("P")
R = TypeVar("R")


def now_micros() -> int:
    return time.time_ns() // 1000


def to_micros(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is local time, as datetime.now() gives
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_FAST_MICROS = 4_102_444_800_000_000  # 2100-01-01
"""Below this, `fromtimestamp` of float seconds rounds back to the exact microsecond (the
float's error stays under half a microsecond), in half the time of adding a timedelta."""


def from_micros(value: int) -> datetime:
    if 0 <= value < _FAST_MICROS:
        return datetime.fromtimestamp(value / 1_000_000, UTC)
    return _EPOCH + timedelta(microseconds=value)


class Times(dict[int, datetime]):
    """`from_micros` of the values seen so far: rows of one batch share their times."""

    def __missing__(self, micros: int) -> datetime:
        made = self[micros] = from_micros(micros)
        return made


class RowsDecoder(Protocol[DecodedNode]):
    """(id, node) of each row read; `times` may be shared by the decoders of one answer."""

    def __call__(
        self, rows: Iterable[Sequence[Any]], store: StoreName, times: Times | None = None
    ) -> list[tuple[int, DecodedNode]]: ...


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


class gc_paused:  # noqa: N801 (used as a function: `with gc_paused():`, `@gc_paused()`)
    """Pause Python's cycle collector while a large answer is read and decoded.

    Every few hundred objects made, the collector scans the young ones, and as they pile up
    it rescans the whole heap: on 25,000 artifacts that is a fifth of the time of a list, and
    none of it finds garbage (rows and nodes hold no cycles). Reference counting still frees
    everything; the collector resumes on exit, also when other threads paused it meanwhile.
    A `with` block or a decorator (`@gc_paused()`), written out rather than with contextlib,
    whose generator costs more than the pause itself on the one-row writes that use it.
    """

    __slots__ = ("_paused",)

    def __enter__(self) -> None:
        self._paused = gc.isenabled()
        if self._paused:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._paused:
            gc.enable()

    def __call__(self, function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def paused(*args: P.args, **kwargs: P.kwargs) -> R:
            # `__enter__`/`__exit__` spelled out: no instance per call on one-row writes.
            if not gc.isenabled():
                return function(*args, **kwargs)
            gc.disable()
            try:
                return function(*args, **kwargs)
            finally:
                gc.enable()

        return paused


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

# The decoders below run once per row of every list and lineage answer, so they call the
# dataclasses positionally, in field order: name, display_name, schema_title, schema_version,
# metadata, description, labels, etag, create_time, update_time, then the kind's own fields.


def artifacts_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName, times: Times | None = None
) -> list[tuple[int, Artifact]]:
    """(id, artifact) of each row of `COMMON_COLUMNS + OWN_COLUMNS["artifacts"]`."""
    prefix, states = f"{store}/artifacts/", _ARTIFACT_STATES
    times = Times() if times is None else times
    return [
        (
            pk,
            Artifact(
                prefix + rid,
                display,
                title,
                version,
                json_value(meta),
                text,
                {} if labels == "{}" else json_value(labels),
                str(etag),
                times[ct],
                times[ut],
                uri,
                states[st],
                fp,
            ),
        )
        for pk, rid, display, title, version, text, meta, labels, etag, ct, ut, uri, st, fp in rows
    ]


def executions_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName, times: Times | None = None
) -> list[tuple[int, Execution]]:
    """(id, execution) of each row of `COMMON_COLUMNS + OWN_COLUMNS["executions"]`."""
    prefix, states = f"{store}/executions/", _EXECUTION_STATES
    times = Times() if times is None else times
    return [
        (
            pk,
            Execution(
                prefix + rid,
                display,
                title,
                version,
                json_value(meta),
                text,
                {} if labels == "{}" else json_value(labels),
                str(etag),
                times[ct],
                times[ut],
                states[state],
            ),
        )
        for pk, rid, display, title, version, text, meta, labels, etag, ct, ut, state in rows
    ]


def contexts_from_rows(
    rows: Iterable[Sequence[Any]], store: StoreName, times: Times | None = None
) -> list[tuple[int, Context]]:
    """(id, context) of each row of `COMMON_COLUMNS`; without parents
    (`nodes.with_parents` fills them)."""
    prefix = f"{store}/contexts/"
    times = Times() if times is None else times
    return [
        (
            pk,
            Context(
                prefix + rid,
                display,
                title,
                version,
                json_value(meta),
                text,
                {} if labels == "{}" else json_value(labels),
                str(etag),
                times[ct],
                times[ut],
            ),
        )
        for pk, rid, display, title, version, text, meta, labels, etag, ct, ut in rows
    ]


def context_from_row(row: Mapping[Any, Any], store: StoreName) -> Context:
    """A context from a mapping of its columns, without its parents."""
    values = tuple(row[column] for column in COMMON_COLUMNS)
    return contexts_from_rows([values], store)[0][1]
