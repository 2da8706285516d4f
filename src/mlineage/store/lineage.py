"""Events and lineage queries.

A hop is one event edge: `max_hops=1` from a model reaches the execution that produced it,
`max_hops=2` also that execution's inputs; 0 is the artifact alone; None walks to the end.
`direction` chooses the walk: `upstream` follows what an artifact was made from,
`downstream` what was made from it, `both` is the union of the two walks. Artifacts with the
same URI are the same data: see `store.walk` for the walk and that rule.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage import query
from mlineage.errors import InvalidArgumentError
from mlineage.store import codec, dialects, driver, filters, graph, nodes, schema, walk
from mlineage.store.base import DEFAULT_NODE_LIMIT, MAX_NODE_LIMIT
from mlineage.store.scope import StoreIds, resolve, resolve_many
from mlineage.types import (
    Artifact,
    Event,
    EventType,
    Execution,
    LineageGraph,
    StoreName,
)

_DIRECTIONS = ("upstream", "downstream", "both")


_EXISTING_EVENTS = sa.select(schema.events.c.artifact_id, schema.events.c.type).where(
    schema.events.c.execution_id == sa.bindparam("execution_id")
)


def _check_events(events: Sequence[Event], execution: str) -> None:
    for i, event in enumerate(events):
        if not isinstance(event, Event):
            raise InvalidArgumentError(
                f"events[{i}]", f"must be an Event, got {type(event).__name__}"
            )
        if event.type not in (EventType.INPUT, EventType.OUTPUT):
            raise InvalidArgumentError(f"events[{i}].type", "must be INPUT or OUTPUT")
        if event.execution and event.execution != execution:
            raise InvalidArgumentError(
                f"events[{i}].execution", f"must be empty or {execution}, got {event.execution}"
            )


@functools.cache
def _events_insert(dialect: str) -> Any:
    return dialects.insert(dialect, schema.events).on_conflict_do_nothing()


def _insert_events(
    connection: Connection,
    execution_pk: int,
    events: Sequence[Event],
    artifact_pks: Sequence[int],
    *,
    new_execution: bool = False,
) -> None:
    """Insert the events not yet recorded (an execution just created has none)."""
    existing: set[tuple[int, str]] = set()
    if not new_execution:
        existing = {
            (artifact_pk, kind)
            for artifact_pk, kind in driver.rows(
                connection, _EXISTING_EVENTS, {"execution_id": execution_pk}
            )
        }
    now = codec.now_micros()
    rows = []
    for event, artifact_pk in zip(events, artifact_pks, strict=True):
        key = (artifact_pk, event.type.name)
        if key in existing:
            continue
        existing.add(key)
        rows.append(
            {
                "execution_id": execution_pk,
                "artifact_id": artifact_pk,
                "type": event.type.name,
                "event_time": codec.to_micros(event.event_time) if event.event_time else now,
                "labels": _labels_text(event.labels),
            }
        )
    if rows:  # a concurrent writer may have recorded the same event: it is kept
        driver.execute_many(connection, _events_insert(connection.dialect.name), rows)


def _labels_text(labels: dict[str, str]) -> str:
    return json.dumps(dict(labels), separators=(",", ":")) if labels else "{}"


def add_events(
    connection: Connection,
    stores: StoreIds,
    execution: str,
    events: Sequence[Event],
    contexts: Sequence[str] = (),
) -> None:
    ref = resolve(connection, stores, execution, "executions")
    _check_events(events, execution)
    artifact_pks = resolve_many(
        connection, stores, [e.artifact for e in events], "artifacts", ref.store_pk
    )
    _insert_events(connection, ref.id, events, artifact_pks)
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", ref.store_pk)
        graph.link_members(connection, context_pks, artifact_pks, [])


def record_execution(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    execution: Execution,
    execution_id: str | None,
    *,
    inputs: Sequence[str],
    outputs: Sequence[Artifact | str],
    contexts: Sequence[str],
) -> tuple[Execution, list[Artifact]]:
    """Create an execution, its new output artifacts, its events and its context
    memberships in one transaction."""
    ((execution_pk, created),) = nodes.insert_with_ids(
        connection, store_pk, store, nodes.SPECS[Execution], [execution], [execution_id]
    )
    input_pks = resolve_many(connection, stores, list(inputs), "artifacts", store_pk)
    made, output_pks = _outputs(connection, stores, store_pk, store, outputs)
    events = [_INPUT] * len(input_pks) + [_OUTPUT] * len(output_pks)
    _insert_events(connection, execution_pk, events, input_pks + output_pks, new_execution=True)
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", store_pk)
        graph.link_members(connection, context_pks, input_pks + output_pks, [execution_pk])
    return created, made


_INPUT = Event(artifact="", type=EventType.INPUT)
_OUTPUT = Event(artifact="", type=EventType.OUTPUT)
"""Events of the current time without labels (only read by `_insert_events`)."""


def _outputs(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    outputs: Sequence[Artifact | str],
) -> tuple[list[Artifact], list[int]]:
    """Create the new output artifacts; returns them and the row ids of all outputs (named
    ones first)."""
    new = [o for o in outputs if isinstance(o, Artifact)]
    made = (
        nodes.insert_with_ids(
            connection,
            store_pk,
            store,
            nodes.SPECS[Artifact],
            new,
            [a.resource_id or None for a in new],
        )
        if new
        else []
    )
    named = [o for o in outputs if isinstance(o, str)]
    output_pks = resolve_many(connection, stores, named, "artifacts", store_pk)
    output_pks += [pk for pk, _ in made]
    return [artifact for _, artifact in made], output_pks


def finish_execution(
    connection: Connection,
    stores: StoreIds,
    execution: Execution,
    outputs: Sequence[Artifact | str],
    contexts: Sequence[str],
) -> tuple[Execution, list[Artifact]]:
    ref = resolve(connection, stores, execution.name, "executions")
    store_pk = ref.store_pk
    made, output_pks = _outputs(connection, stores, store_pk, ref.name.parent, outputs)
    _insert_events(connection, ref.id, [_OUTPUT] * len(output_pks), output_pks)
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", store_pk)
        graph.link_members(connection, context_pks, output_pks, [])
    return nodes.update(connection, stores, nodes.SPECS[Execution], execution), made


_EVENT_TYPES = EventType.__members__


@functools.cache
def _events_of_artifacts() -> sa.Select[Any]:
    events = schema.events
    return sa.select(
        events.c.id,
        events.c.execution_id,
        events.c.artifact_id,
        events.c.type,
        events.c.event_time,
        events.c.labels,
    ).where(events.c.artifact_id.in_(sa.bindparam("ids", expanding=True)))


def _load(
    connection: Connection, spec: nodes.Spec[Any], ids: Iterable[int], store: StoreName
) -> list[tuple[int, Any]]:
    """(id, node) of the nodes `ids`, in id order (in chunks: a graph may hold more ids
    than one statement may bind)."""
    loaded: list[tuple[int, Any]] = []
    for chunk in walk.chunks(sorted(set(ids))):
        rows = driver.rows(connection, spec.by_ids, {"ids": chunk})
        loaded += spec.from_rows(rows, store)
    loaded.sort(key=lambda item: item[0])
    return loaded


def _graph(
    connection: Connection,
    store: StoreName,
    artifact_ids: Iterable[int],
    execution_ids: Iterable[int],
    artifact_filter: sa.ColumnElement[bool] | None = None,
) -> LineageGraph:
    """Load the given nodes and every event between them."""
    artifact_spec = nodes.SPECS[Artifact]
    if artifact_filter is None:
        found_artifacts = _load(connection, artifact_spec, artifact_ids, store)
    else:  # a filter compiles per call: the plain statement path
        table = schema.artifacts
        found_artifacts = []
        for chunk in walk.chunks(sorted(set(artifact_ids))):
            statement = sa.select(*artifact_spec.columns).where(
                table.c.id.in_(chunk), artifact_filter
            )
            found_artifacts += artifact_spec.from_rows(connection.execute(statement).all(), store)
        found_artifacts.sort(key=lambda item: item[0])
    found_executions = _load(connection, nodes.SPECS[Execution], execution_ids, store)
    artifact_names = {pk: artifact.name for pk, artifact in found_artifacts}
    execution_names = {pk: execution.name for pk, execution in found_executions}
    found_events: list[tuple[int, Event]] = []
    times: dict[int, datetime] = {}  # an execution's events mostly share one time
    for chunk in walk.chunks(sorted(artifact_names)):
        # By artifact only: with both IN lists SQLite probes the (execution, artifact) index
        # once per pair, which costs far more than dropping the other events here.
        rows = driver.rows(connection, _events_of_artifacts(), {"ids": chunk})
        for pk, execution_pk, artifact_pk, kind, event_time, labels in rows:
            execution_name = execution_names.get(execution_pk)
            if execution_name is not None:
                time = times.get(event_time)
                if time is None:
                    time = times[event_time] = codec.from_micros(event_time)
                event = Event(
                    artifact=artifact_names[artifact_pk],
                    execution=execution_name,
                    type=_EVENT_TYPES[kind],
                    event_time=time,
                    labels=codec.json_value(labels),
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
        pk for pk, _ in driver.rows(connection, _EXISTING_EVENTS, {"execution_id": ref.id})
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
