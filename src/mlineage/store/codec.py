"""Conversions between database rows and domain objects."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
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


def _common(row: Mapping[Any, Any], store: StoreName, kind: str) -> dict[str, Any]:
    return {
        "name": f"{store}/{kind}/{row['resource_id']}",
        "display_name": row["display_name"],
        "schema_title": row["schema_title"],
        "schema_version": row["schema_version"],
        "metadata": row["metadata"],
        "description": row["description"],
        "labels": row["labels"],
        "etag": str(row["etag"]),
        "create_time": from_micros(row["create_time"]),
        "update_time": from_micros(row["update_time"]),
    }


def artifact_from_row(row: Mapping[Any, Any], store: StoreName) -> Artifact:
    return Artifact(
        **_common(row, store, "artifacts"),
        uri=row["uri"],
        state=ArtifactState[row["state"]],
        fingerprint=row["fingerprint"],
    )


def execution_from_row(row: Mapping[Any, Any], store: StoreName) -> Execution:
    return Execution(**_common(row, store, "executions"), state=ExecutionState[row["state"]])


def context_from_row(row: Mapping[Any, Any], store: StoreName) -> Context:
    """A context without its parents (`nodes.with_parents` fills them)."""
    return Context(**_common(row, store, "contexts"))
