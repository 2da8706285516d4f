"""The filterable surface of each table, handed to the query compiler."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from mlineage.errors import InvalidArgumentError
from mlineage.query.target import Field, FieldType, FilterTarget
from mlineage.store import schema
from mlineage.types import ArtifactState, ExecutionState, ResourceName, StoreName


def _context_pk(name: str) -> sa.ScalarSelect[Any]:
    """The row id of context `name` as a subquery (NULL when it does not exist)."""
    try:
        parsed = ResourceName.parse(name, "contexts")
    except InvalidArgumentError:
        raise InvalidArgumentError(
            "filter", f"{name!r} is not a context resource name (.../contexts/{{id}})"
        ) from None
    stores, contexts = schema.metadata_stores, schema.contexts
    store: StoreName = parsed.parent
    return (
        sa.select(contexts.c.id)
        .join(stores, stores.c.id == contexts.c.store_id)
        .where(
            stores.c.project == store.project,
            stores.c.location == store.location,
            stores.c.store_id == store.store,
            contexts.c.resource_id == parsed.resource_id,
        )
        .scalar_subquery()
    )


def _member_of(link: sa.Table, node_column: str, node: sa.Table) -> Any:
    def predicate(context_name: str) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            link.c[node_column] == node.c.id, link.c.context_id == _context_pk(context_name)
        )

    return predicate


def _linked(mine: str, other: str) -> Any:
    links, contexts = schema.context_links, schema.contexts

    def predicate(context_name: str) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            links.c[mine] == contexts.c.id, links.c[other] == _context_pk(context_name)
        )

    return predicate


_OPERATORS: dict[str, Callable[[Any, Any], sa.ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _param(key: str, op: str, literal: Any) -> sa.ColumnElement[bool]:
    params = schema.run_params
    compare = _OPERATORS[op]
    if isinstance(literal, bool):
        value = compare(params.c.value_text, "true" if literal else "false")
        kind = params.c.value_type == "bool"
    elif isinstance(literal, int | float):
        value = compare(params.c.value_number, float(literal))
        kind = params.c.value_type.in_(("int", "float"))
    else:
        value = compare(params.c.value_text, str(literal))
        kind = params.c.value_type == "str"
    return sa.exists().where(
        params.c.run_id == schema.contexts.c.id, params.c.key == key, kind, value
    )


def _metric(key: str, op: str, literal: Any) -> sa.ColumnElement[bool]:
    if isinstance(literal, bool) or not isinstance(literal, int | float):
        raise InvalidArgumentError(f"metric.{key}", "compares with numbers only")
    metrics = schema.run_metrics
    return sa.exists().where(
        metrics.c.run_id == schema.contexts.c.id,
        metrics.c.key == key,
        _OPERATORS[op](metrics.c.value, float(literal)),
    )


def _common_fields(table: sa.Table) -> dict[str, Field]:
    return {
        "name": Field(table.c.resource_id, FieldType.RESOURCE_NAME),
        "display_name": Field(table.c.display_name),
        "schema_title": Field(table.c.schema_title),
        "schema_version": Field(table.c.schema_version),
        "create_time": Field(table.c.create_time, FieldType.TIME),
        "update_time": Field(table.c.update_time, FieldType.TIME),
    }


@functools.cache
def target(kind: str) -> FilterTarget:
    """The FilterTarget of "artifacts", "executions" or "contexts"."""
    if kind == "artifacts":
        table = schema.artifacts
        fields = {
            **_common_fields(table),
            "uri": Field(table.c.uri),
            "state": Field(table.c.state, FieldType.ENUM, frozenset(s.name for s in ArtifactState)),
        }
        functions = {"in_context": _member_of(schema.attributions, "artifact_id", table)}
        return FilterTarget(kind, fields, table.c.metadata, table.c.labels, functions)
    if kind == "executions":
        table = schema.executions
        fields = {
            **_common_fields(table),
            "state": Field(
                table.c.state, FieldType.ENUM, frozenset(s.name for s in ExecutionState)
            ),
        }
        functions = {"in_context": _member_of(schema.associations, "execution_id", table)}
        return FilterTarget(kind, fields, table.c.metadata, table.c.labels, functions)
    table = schema.contexts
    return FilterTarget(
        "contexts",
        _common_fields(table),
        table.c.metadata,
        table.c.labels,
        has_fields={
            "parent_contexts": _linked("child_id", "parent_id"),
            "child_contexts": _linked("parent_id", "child_id"),
        },
        run_values={"param": _param, "metric": _metric},
    )
