"""Recording events: an execution with its inputs and outputs, in one transaction."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from mlineage.errors import InvalidArgumentError
from mlineage.store import codec, dialects, driver, graph, nodes, schema, schemas, scope
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


_EXECUTIONS = nodes.SPECS[Execution]
_ARTIFACTS = nodes.SPECS[Artifact]


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
    memberships in one transaction, all at one time: the record's.

    Every check runs before the first write (the rows' values, their metadata against the
    registered schemas, the names of inputs and named outputs): a bad record costs no
    rolled-back inserts. This is the lineage hot path: it runs the steps of
    `nodes.insert_with_ids` itself, once for the execution and its outputs together, and
    on SQLite its statements on the driver's connection (`_write_on_sqlite`)."""
    now = codec.now_micros()
    new_outputs = [o for o in outputs if isinstance(o, Artifact)]
    named_outputs = [o for o in outputs if isinstance(o, str)]
    output_ids = [a.resource_id or None for a in new_outputs]
    fresh = nodes.fresh_ids([execution_id, *output_ids])
    dialect = connection.dialect.name
    execution_rows = nodes.new_rows(
        dialect, store_pk, _EXECUTIONS, [execution], [execution_id], now, fresh
    )
    artifact_rows = nodes.new_rows(
        dialect, store_pk, _ARTIFACTS, new_outputs, output_ids, now, fresh
    )
    schemas.validate_metadata(
        connection, store_pk, nodes.metadata_of(execution_rows + artifact_rows)
    )
    on_sqlite = dialect == "sqlite"
    named = [*inputs, *named_outputs]
    existing = (
        _artifact_pks_on_sqlite(connection, stores, store, store_pk, named)
        if on_sqlite
        else resolve_many(connection, stores, named, "artifacts", store_pk)
    )
    input_pks, named_pks = existing[: len(inputs)], existing[len(inputs) :]
    checked = _Checked(store, store_pk, execution_rows, artifact_rows, input_pks, named_pks, now)
    write = _write_on_sqlite if on_sqlite else _write
    execution_pk, made_pks = write(connection, checked)
    output_pks = named_pks + made_pks
    if contexts:
        context_pks = resolve_many(connection, stores, list(contexts), "contexts", store_pk)
        graph.link_members(connection, context_pks, input_pks + output_pks, [execution_pk])
    times = codec.Times()  # the record's one time, read once
    ((_, created),) = nodes.read_back(_EXECUTIONS, store, [execution_pk], execution_rows, times)
    made = nodes.read_back(_ARTIFACTS, store, made_pks, artifact_rows, times)
    return created, [artifact for _, artifact in made]


@dataclass(slots=True)
class _Checked:
    """A record checked and ready to write: the rows of the execution and of its new outputs
    (`nodes.new_rows`), the row ids of its inputs and named outputs, its time."""

    store: StoreName
    store_pk: int
    execution_rows: list[tuple[Any, ...]]
    artifact_rows: list[tuple[Any, ...]]
    input_pks: list[int]
    named_pks: list[int]
    now: int


def _write(connection: Connection, record: _Checked) -> tuple[int, list[int]]:
    """The writes of `record_execution`: the execution, the new outputs, the named outputs
    marked as written, and the events. Returns the ids of the execution and of the new
    artifacts."""
    store, store_pk = record.store, record.store_pk
    (execution_pk,) = nodes.write_rows(
        connection, store_pk, store, _EXECUTIONS, record.execution_rows
    )
    made_pks = (
        nodes.write_rows(
            connection, store_pk, store, _ARTIFACTS, record.artifact_rows, produced=True
        )
        if record.artifact_rows
        else []
    )
    input_pks, named_pks = record.input_pks, record.named_pks
    mark_produced(connection, named_pks)
    events = [_INPUT] * len(input_pks) + [_OUTPUT] * (len(named_pks) + len(made_pks))
    pks = [*input_pks, *named_pks, *made_pks]
    _insert_events(connection, execution_pk, events, pks, new_execution=True, now=record.now)
    return execution_pk, made_pks


@dataclass(frozen=True, slots=True)
class _SqliteStatements:
    execution: str
    artifact: str
    """A new artifact that an execution wrote (`produced` set)."""
    event: str


@functools.lru_cache(maxsize=8)  # by dialect: one per engine
def _sqlite_statements(dialect: Dialect) -> _SqliteStatements:
    """`record_execution`'s inserts, compiled once (from the statements the generic path runs)."""

    def sql(statement: sa.Insert, columns: tuple[str, ...]) -> str:
        text, positional = driver.insert_sql(dialect, statement, columns)
        assert positional  # rows are tuples of `columns`
        return text

    return _SqliteStatements(
        sql(nodes.insert_statement(_EXECUTIONS.table), _EXECUTIONS.insert_names),
        sql(nodes.insert_statement(_ARTIFACTS.table), _ARTIFACTS.insert_names_produced),
        sql(_events_insert(dialect.name), _EVENT_COLUMNS),
    )


def _artifact_pks_on_sqlite(
    connection: Connection, stores: StoreIds, store: StoreName, store_pk: int, names: list[str]
) -> list[int]:
    """`resolve_many` of the artifacts `names` (all in `store`) on SQLite, as one statement
    on the driver's connection; a name that is not of an artifact of `store`, or not found,
    goes to `resolve_many`, which raises the error naming it."""
    if not names:
        return []
    ids = scope.resource_ids_in(store, "artifacts", names)
    if ids is None:
        return resolve_many(connection, stores, names, "artifacts", store_pk)
    raw = driver.sqlite_driver_connection(connection)
    found = dict(
        raw.execute(_lookup_sql(connection.dialect, len(ids)), (store_pk, *ids)).fetchall()
    )
    if len(found) < len(set(ids)):
        return resolve_many(connection, stores, names, "artifacts", store_pk)
    return [found[i] for i in ids]


@functools.lru_cache(maxsize=64)  # by dialect and count: a few per engine
def _lookup_sql(dialect: Dialect, size: int) -> str:
    return driver.in_list_sql(dialect, scope.nodes_lookup("artifacts"), size)


def _write_on_sqlite(connection: Connection, record: _Checked) -> tuple[int, list[int]]:
    """`_write` on SQLite. This is the lineage hot path, and these are fixed statements:
    they run on the driver's connection in the write transaction (`driver.sqlite_write`),
    without the layers of `nodes.write_rows` and `_insert_events` (which PostgreSQL needs
    for its savepoints and named parameters)."""
    statements = _sqlite_statements(connection.dialect)
    raw = driver.sqlite_driver_connection(connection)
    now, artifact_rows = record.now, record.artifact_rows
    # What an error is about: the statement running, and the rows a taken id may be among.
    sql, spec, unwritten = statements.execution, _EXECUTIONS, record.execution_rows
    try:
        execution_pk = raw.execute(sql, unwritten[0]).lastrowid
        made_pks: list[int] = []  # a row's id after its INSERT: never None
        sql, spec = statements.artifact, _ARTIFACTS
        for i, row in enumerate(artifact_rows):
            unwritten = artifact_rows[i:]
            cursor = raw.execute(sql, (*row, True))
            made_pks.append(cursor.lastrowid)  # type: ignore[arg-type]
        mark_produced(connection, record.named_pks)
        sql = statements.event
        # An input given twice is one event: the unique key keeps the first.
        raw.executemany(
            sql,
            [(execution_pk, pk, "INPUT", now, "{}") for pk in record.input_pks]
            + [(execution_pk, pk, "OUTPUT", now, "{}") for pk in (*record.named_pks, *made_pks)],
        )
    except sqlite3.Error as exc:
        error = driver.wrap_sqlite_error(exc, sql, (), connection.dialect)
        if isinstance(exc, sqlite3.IntegrityError):
            error = nodes.already_exists(
                connection, spec, record.store, record.store_pk, unwritten, error
            )
        raise error from exc
    assert execution_pk is not None
    return execution_pk, made_pks


_INPUT = Event(artifact="", type=EventType.INPUT)
_OUTPUT = Event(artifact="", type=EventType.OUTPUT)
"""Events of the current time without labels (only read by `_insert_events`)."""


def _outputs(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    outputs: Sequence[Artifact | str],
    now: int,
) -> tuple[list[Artifact], list[int]]:
    """Create the new output artifacts (made at `now`); returns them and the row ids of all
    outputs (named ones first)."""
    named = [o for o in outputs if isinstance(o, str)]
    output_pks = resolve_many(connection, stores, named, "artifacts", store_pk)
    mark_produced(connection, output_pks)
    artifacts = [o for o in outputs if isinstance(o, Artifact)]
    if not artifacts:
        return [], output_pks
    given = [a.resource_id or None for a in artifacts]
    made = nodes.insert_with_ids(
        connection, store_pk, store, _ARTIFACTS, artifacts, given, now=now, produced=True
    )
    return [artifact for _, artifact in made], output_pks + [pk for pk, _ in made]


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
