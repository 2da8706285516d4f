"""Lineage queries: the subgraph of an artifact, of a context, an execution's inputs and outputs.

A hop is one event edge: `max_hops=1` from a model reaches the execution that produced it,
`max_hops=2` also that execution's inputs; 0 is the artifact alone; None walks to the end.
`direction` chooses the walk: `upstream` follows what an artifact was made from,
`downstream` what was made from it, `both` is the union of the two walks. Artifacts with the
same URI are the same data: see `store.walk` for the walk and that rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage import query
from mlineage.errors import InvalidArgumentError
from mlineage.store import codec, driver, filters, nodes, recording, schema, walk
from mlineage.store.base import DEFAULT_NODE_LIMIT, MAX_NODE_LIMIT
from mlineage.store.scope import StoreIds, resolve
from mlineage.types import (
    Artifact,
    Event,
    EventType,
    Execution,
    LineageGraph,
    StoreName,
)

_DIRECTIONS = ("upstream", "downstream", "both")


_EVENT_TYPES = EventType.__members__


@functools.cache
def _events_of_executions() -> sa.Select[Any]:
    events = schema.events
    return sa.select(
        events.c.id,
        events.c.execution_id,
        events.c.artifact_id,
        events.c.type,
        events.c.event_time,
        events.c.labels,
    ).where(events.c.execution_id.in_(sa.bindparam("ids", expanding=True)))


def _load(
    connection: Connection,
    spec: nodes.Spec[Any],
    ids: Iterable[int],
    store: StoreName,
    times: codec.Times,
) -> list[tuple[int, Any]]:
    """(id, node) of the nodes `ids`, in id order (in chunks: a graph may hold more ids
    than one statement may bind)."""
    loaded: list[tuple[int, Any]] = []
    for chunk in walk.chunks(sorted(set(ids))):
        rows = driver.rows(connection, spec.by_ids, {"ids": chunk})
        loaded += spec.from_rows(rows, store, times)
    loaded.sort(key=lambda item: item[0])
    return loaded


@codec.gc_paused()  # a large graph makes many objects and no garbage: see gc_paused
def _graph(
    connection: Connection,
    store: StoreName,
    artifact_ids: Iterable[int],
    execution_ids: Iterable[int],
    artifact_filter: sa.ColumnElement[bool] | None = None,
) -> LineageGraph:
    """Load the given nodes and every event between them."""
    artifact_spec = nodes.SPECS[Artifact]
    times = codec.Times()  # an execution, its outputs and its events share one time
    if artifact_filter is None:
        found_artifacts = _load(connection, artifact_spec, artifact_ids, store, times)
    else:  # a filter compiles per call: the plain statement path
        table = schema.artifacts
        found_artifacts = []
        for chunk in walk.chunks(sorted(set(artifact_ids))):
            statement = sa.select(*artifact_spec.columns).where(
                table.c.id.in_(chunk), artifact_filter
            )
            rows = connection.execute(statement).all()
            found_artifacts += artifact_spec.from_rows(rows, store, times)
        found_artifacts.sort(key=lambda item: item[0])
    found_executions = _load(connection, nodes.SPECS[Execution], execution_ids, store, times)
    artifact_names = {pk: artifact.name for pk, artifact in found_artifacts}
    execution_names = {pk: execution.name for pk, execution in found_executions}
    found_events: list[tuple[int, Event]] = []
    for chunk in walk.chunks(sorted(execution_names)):
        # By execution only (an execution has few events, read in index order): with both
        # IN lists SQLite probes the (execution, artifact) index once per pair, which costs
        # far more than dropping the events to artifacts outside the graph here.
        rows = driver.rows(connection, _events_of_executions(), {"ids": chunk})
        for pk, execution_pk, artifact_pk, kind, event_time, labels in rows:
            artifact_name = artifact_names.get(artifact_pk)
            if artifact_name is not None:
                event = Event(
                    artifact_name,
                    execution_names[execution_pk],
                    _EVENT_TYPES[kind],
                    times[event_time],
                    {} if labels == "{}" else codec.json_value(labels),
                )
                found_events.append((pk, event))
    found_events.sort(key=lambda item: item[0])
    return LineageGraph(
        artifacts=[artifact for _, artifact in found_artifacts],
        executions=[execution for _, execution in found_executions],
        events=[event for _, event in found_events],
    )


def inputs_and_outputs(connection: Connection, stores: StoreIds, execution: str) -> LineageGraph:
    ref = resolve(connection, stores, execution, "executions")
    artifact_ids = [
        pk for pk, _ in driver.rows(connection, recording.EXISTING_EVENTS, {"execution_id": ref.id})
    ]
    return _graph(connection, ref.name.parent, artifact_ids, [ref.id])


def artifact_subgraph(
    connection: Connection,
    stores: StoreIds,
    artifact: str,
    *,
    max_hops: int | None,
    filter: str | None,
    direction: str,
    node_limit: int | None = None,
) -> LineageGraph:
    if max_hops is not None and (
        isinstance(max_hops, bool) or not isinstance(max_hops, int) or max_hops < 0
    ):
        raise InvalidArgumentError(
            "max_hops", f"must be a non-negative int or None, got {max_hops!r}"
        )
    if direction not in _DIRECTIONS:
        raise InvalidArgumentError("direction", f"must be one of {_DIRECTIONS}, got {direction!r}")
    if node_limit is None:
        node_limit = DEFAULT_NODE_LIMIT
    if isinstance(node_limit, bool) or not isinstance(node_limit, int) or node_limit < 1:
        raise InvalidArgumentError("node_limit", f"must be a positive int, got {node_limit!r}")
    if node_limit > MAX_NODE_LIMIT:
        raise InvalidArgumentError("node_limit", f"must be at most {MAX_NODE_LIMIT}")
    ref = resolve(connection, stores, artifact, "artifacts")
    where = query.filter_clause(filter, filters.target("artifacts"))
    artifacts: dict[int, int] = {}
    executions: dict[int, int] = {}
    truncated = False
    ways: tuple[Any, ...] = ("upstream", "downstream") if direction == "both" else (direction,)
    for way in ways:
        found_a, found_e, cut = walk.walk(connection, ref.id, max_hops, way, node_limit)
        artifacts.update(found_a)
        executions.update(found_e)
        truncated = truncated or cut
    graph = _graph(connection, ref.name.parent, artifacts, executions, where)
    graph.truncated = truncated
    return graph


def context_subgraph(connection: Connection, stores: StoreIds, context: str) -> LineageGraph:
    ref = resolve(connection, stores, context, "contexts")
    attributions, associations = schema.attributions, schema.associations
    artifact_ids = connection.execute(
        sa.select(attributions.c.artifact_id).where(attributions.c.context_id == ref.id)
    ).scalars()
    execution_ids = connection.execute(
        sa.select(associations.c.execution_id).where(associations.c.context_id == ref.id)
    ).scalars()
    return _graph(connection, ref.name.parent, list(artifact_ids), list(execution_ids))
