"""What a filter is compiled against: the columns and predicate builders of one resource kind.

The store builds a `FilterTarget` for each list call (it owns the tables); the query
compiler turns a parsed filter into one SQLAlchemy boolean expression over it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement


class FieldType(enum.Enum):
    """How a plain field's literal is read and compared."""

    STRING = "string"
    TIME = "time"
    """Stored as integer microseconds since the epoch; literals are RFC 3339 strings."""
    RESOURCE_NAME = "resource_name"
    """The column holds the resource id; literals may be a full resource name or a bare id."""
    ENUM = "enum"
    """Stored as the enum member's name; literals are names (`LIVE`) compared by equality."""


@dataclass(frozen=True)
class Field:
    column: ColumnElement[Any]
    type: FieldType = FieldType.STRING
    enum_names: frozenset[str] = frozenset()
    """For ENUM fields: the accepted literal names."""


ResourceNamePredicate = Callable[[str], ColumnElement[bool]]
"""Builds a predicate from a resource name, e.g. in_context("projects/.../contexts/c1")."""

RunValuePredicate = Callable[[str, str, Any], ColumnElement[bool]]
"""(key, operator, literal) -> predicate over a run's param or metric `key`."""


@dataclass(frozen=True)
class FilterTarget:
    """The filterable surface of one resource kind."""

    kind: str
    """Used in error messages: "artifacts", "executions", "contexts", "runs"."""
    fields: Mapping[str, Field]
    """Plain fields by filter name: name, display_name, uri, state, schema_title, ..."""
    metadata_column: ColumnElement[Any] | None = None
    """The JSON column behind `metadata.<key>.<type>_value`."""
    labels_column: ColumnElement[Any] | None = None
    """The JSON column behind `labels.<key>`."""
    functions: Mapping[str, ResourceNamePredicate] = field(default_factory=dict)
    """Call-style predicates by name, e.g. {"in_context": ...}."""
    has_fields: Mapping[str, ResourceNamePredicate] = field(default_factory=dict)
    """HAS-operator fields, e.g. {"parent_contexts": ..., "child_contexts": ...}."""
    run_values: Mapping[str, RunValuePredicate] = field(default_factory=dict)
    """Run-level prefixes, e.g. {"param": ..., "metric": ...}."""
