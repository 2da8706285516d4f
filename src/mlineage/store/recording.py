"""Recording events: an execution with its inputs and outputs, in one transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError
from mlineage.store import codec, dialects, driver, graph, nodes, schema
from mlineage.store.scope import StoreIds, resolve, resolve_many
from mlineage.types import Artifact, Event, EventType, Execution, StoreName

EXISTING_EVENTS = sa.select(schema.events.c.artifact_id, schema.events.c.type).where(
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
    now: int | None = None,
) -> None:
    """Insert the events not yet recorded (an execution just created has none); an event
    without a time gets `now` (microseconds), else the current time."""
    existing: set[tuple[int, str]] = set()
    if not new_execution:
        existing = {
            (artifact_pk, kind)
            for artifact_pk, kind in driver.rows(
                connection, EXISTING_EVENTS, {"execution_id": execution_pk}
            )
        }
    if now is None:
        now = codec.now_micros()
    rows = []
    for event, artifact_pk in zip(events, artifact_pks, strict=True):
        kind = event.type._name_  # `.name` is a descriptor call, `_name_` an attribute
        key = (artifact_pk, kind)
        if key in existing:
            continue
        existing.add(key)
        time = codec.to_micros(event.event_time) if event.event_time else now
        rows.append((execution_pk, artifact_pk, kind, time, _labels_text(event.labels)))
    # A concurrent writer may have recorded the same event: it is kept.
    driver.insert_rows(connection, _events_insert(connection.dialect.name), _EVENT_COLUMNS, rows)


_EVENT_COLUMNS = ("execution_id", "artifact_id", "type", "event_time", "labels")


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
    mark_produced(
        connection,
        [
            pk
            for event, pk in zip(events, artifact_pks, strict=True)
            if event.type == EventType.OUTPUT
        ],
    )
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
    memberships in one transaction, all at one time: the record's."""
    now = codec.now_micros()
    fresh = nodes.fresh_ids([execution_id, *_new_output_ids(outputs)])
    ((execution_pk, created),) = nodes.insert_with_ids(
        connection,
        store_pk,
        store,
        nodes.SPECS[Execution],
        [execution],
        [execution_id],
        now=now,
        fresh=fresh,
    )
    input_pks = resolve_many(connection, stores, list(inputs), "artifacts", store_pk)
    made, output_pks = _outputs(connection, stores, store_pk, store, outputs, now, fresh)
    events = [_INPUT] * len(input_pks) + [_OUTPUT] * len(output_pks)
    pks = input_pks + output_pks
    _insert_events(connection, execution_pk, events, pks, new_execution=True, now=now)
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", store_pk)
        graph.link_members(connection, context_pks, input_pks + output_pks, [execution_pk])
    return created, made


_INPUT = Event(artifact="", type=EventType.INPUT)
_OUTPUT = Event(artifact="", type=EventType.OUTPUT)
"""Events of the current time without labels (only read by `_insert_events`)."""


def _new_output_ids(outputs: Sequence[Artifact | str]) -> list[str | None]:
    """The ids given to the new output artifacts (None: to be drawn)."""
    return [o.resource_id or None for o in outputs if isinstance(o, Artifact)]


def _outputs(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    outputs: Sequence[Artifact | str],
    now: int,
    fresh: Iterator[str] | None = None,
) -> tuple[list[Artifact], list[int]]:
    """Create the new output artifacts (made at `now`, their ids from `fresh` when the
    caller drew them); returns them and the row ids of all outputs (named ones first)."""
    artifacts = [o for o in outputs if isinstance(o, Artifact)]
    made = (
        nodes.insert_with_ids(
            connection,
            store_pk,
            store,
            nodes.SPECS[Artifact],
            artifacts,
            _new_output_ids(outputs),
            now=now,
            produced=True,
            fresh=fresh,
        )
        if artifacts
        else []
    )
    named = [o for o in outputs if isinstance(o, str)]
    output_pks = resolve_many(connection, stores, named, "artifacts", store_pk)
    mark_produced(connection, output_pks)
    output_pks += [pk for pk, _ in made]
    return [artifact for _, artifact in made], output_pks


_MARK_PRODUCED = (
    sa.update(schema.artifacts)
    .where(
        schema.artifacts.c.id.in_(sa.bindparam("ids", expanding=True)),
        schema.artifacts.c.produced == sa.false(),
    )
    .values(produced=True)
)


def mark_produced(connection: Connection, artifact_pks: Sequence[int]) -> None:
    """Record that an execution wrote these artifacts (an OUTPUT event names them)."""
    if artifact_pks:
        driver.rows(connection, _MARK_PRODUCED, {"ids": list(artifact_pks)})


def finish_execution(
    connection: Connection,
    stores: StoreIds,
    execution: Execution,
    outputs: Sequence[Artifact | str],
    contexts: Sequence[str],
) -> tuple[Execution, list[Artifact]]:
    ref = resolve(connection, stores, execution.name, "executions")
    store_pk = ref.store_pk
    now = codec.now_micros()
    made, output_pks = _outputs(connection, stores, store_pk, ref.name.parent, outputs, now)
    _insert_events(connection, ref.id, [_OUTPUT] * len(output_pks), output_pks, now=now)
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", store_pk)
        graph.link_members(connection, context_pks, output_pks, [])
    return nodes.update(connection, stores, nodes.SPECS[Execution], execution), made
