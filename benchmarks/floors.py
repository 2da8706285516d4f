"""Floors: what Python's sqlite3 module alone takes for a benchmark's work.

Any library that keeps these records in SQLite tables like mlineage's, and works from
Python, pays at least this, however lean its own code.

- Reads hand the query's answer to Python as the module's tuples, with no objects made of
  them. The filter's floor reads its rows by arithmetic on their row ids, without
  filtering; the lineage floor walks by one plain recursive query per direction (no URI
  links, no node limit) and reads the rows by row id.
- Writes run the statements mlineage runs per call (the same inserts, in transactions of
  the same size, with the same settings and background checkpoints) on values made before
  the clock starts: no validation, no ids, no objects.

bench_queries.py and bench_foundation.py set these beside the peers: a peer's time over a
floor bounds the ratio any such library can reach on this machine.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mlineage.ids import new_ids
from mlineage.store.checkpoint import WAL_AUTOCHECKPOINT_PAGES, Checkpointer
from mlineage.store.codec import COMMON_COLUMNS, OWN_COLUMNS
from mlineage.types import ResourceName

REPS = 3
T = TypeVar("T")


def _select(kind: str) -> str:
    """The columns mlineage reads a node from (store/nodes.py), without a WHERE."""
    return f"SELECT {', '.join(COMMON_COLUMNS + OWN_COLUMNS[kind])} FROM {kind}"


def _fetch(
    connection: sqlite3.Connection, sql: str, ids: list[int] | None = None, *more: Any
) -> list[Any]:
    """Every row of `sql`, its `{ids}` bound to `ids` as one IN list, then `more`."""
    if ids is None:
        return connection.execute(sql).fetchall()
    return connection.execute(sql.format(ids=", ".join("?" * len(ids))), [*ids, *more]).fetchall()


def _select_by_ids(kind: str) -> str:
    return _select(kind) + " WHERE id IN ({ids})"


def _timed(db: Path, answer: Callable[[sqlite3.Connection], T]) -> tuple[list[float], T]:
    """Each repetition's seconds of `answer` on a connection of its own, and its result. An
    untimed first run reads the pages the answer needs into the connection's cache, as the
    queries it is set beside do after their warm-up."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        result = answer(connection)
        seconds = []
        for _ in range(REPS):
            start = time.perf_counter()
            result = answer(connection)
            seconds.append(time.perf_counter() - start)
        return seconds, result
    finally:
        connection.close()


def filter_answer(db: Path, every: int, remainder: int) -> tuple[list[float], int]:
    """Fetch the artifacts whose row id is `remainder` modulo `every` (the rows a filter of
    the benchmark's store returns, found here by arithmetic instead of by filtering)."""
    sql = _select("artifacts") + f" WHERE id % {every} = {remainder}"
    seconds, rows = _timed(db, lambda connection: _fetch(connection, sql))
    return seconds, len(rows)


_WALK = """
WITH RECURSIVE walk(id, depth) AS (
    SELECT :start, 0
    UNION
    SELECT second.artifact_id, walk.depth + 2 FROM walk
    JOIN events AS first ON first.artifact_id = walk.id AND first.type = :toward
    JOIN events AS second ON second.execution_id = first.execution_id AND second.type = :away
    WHERE walk.depth + 2 <= :hops
)
SELECT id, depth FROM walk
"""
_EXECUTIONS = "SELECT execution_id FROM events WHERE artifact_id IN ({ids}) AND type = ?"
_EVENTS = "SELECT id, execution_id, artifact_id, type, event_time, labels FROM events"


def lineage_answer(db: Path, start: str, hops: int) -> tuple[list[float], dict[str, int]]:
    """The subgraph within `hops` upstream and downstream of the artifact named `start`
    (no URI links): one recursive query per direction finds the artifacts, one statement
    the executions next to them; then their rows and the events of those executions (as
    mlineage's lineage queries load them) are fetched by row id."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        resource_id = ResourceName.parse(start).resource_id
        (start_id,) = connection.execute(
            "SELECT id FROM artifacts WHERE resource_id = ?", (resource_id,)
        ).fetchone()

    def answer(connection: sqlite3.Connection) -> tuple[int, int, int]:
        artifacts: set[int] = set()
        executions: set[int] = set()
        for toward, away in (("OUTPUT", "INPUT"), ("INPUT", "OUTPUT")):  # upstream, downstream
            params = {"start": start_id, "toward": toward, "away": away, "hops": hops}
            walked = connection.execute(_WALK, params).fetchall()
            artifacts.update(pk for pk, _ in walked)
            near = [pk for pk, depth in walked if depth + 1 <= hops]
            executions.update(pk for (pk,) in _fetch(connection, _EXECUTIONS, near, toward))
        a, e = sorted(artifacts), sorted(executions)
        return (
            len(_fetch(connection, _select_by_ids("artifacts"), a)),
            len(_fetch(connection, _select_by_ids("executions"), e)),
            len(_fetch(connection, _EVENTS + " WHERE execution_id IN ({ids})", e)),
        )

    seconds, (a, e, v) = _timed(db, answer)
    return seconds, {"artifacts": a, "executions": e, "events": v}


# -- writes ------------------------------------------------------------------------------------

_NODE_COLUMNS = ", ".join(("store_id", *COMMON_COLUMNS[1:]))
"""The columns a node is inserted with: its store, then those it is read from after `id`."""
_INSERT_ARTIFACT = (
    f"INSERT INTO artifacts ({_NODE_COLUMNS}, uri, state, fingerprint, produced) VALUES "
)
_ARTIFACT_VALUES = f"({', '.join('?' * 15)})"
_INSERT_EXECUTION = (
    f"INSERT INTO executions ({_NODE_COLUMNS}, state) VALUES ({', '.join('?' * 12)})"
)
_INPUT_IDS = "SELECT id FROM artifacts WHERE store_id = ? AND resource_id IN (?, ?)"
_INSERT_EVENT = (
    "INSERT INTO events (execution_id, artifact_id, type, event_time, labels) "
    "VALUES (?, ?, ?, ?, '{}') ON CONFLICT DO NOTHING"
)
_MULTIROW = 64
"""Rows per multi-row INSERT, as mlineage's driver writes a batch (chunks of 64, 32...)."""


def _artifact_row(
    store_pk: int, id_: str, name: str, title: str, uri: str, meta: str, now: int, produced: int
) -> tuple[Any, ...]:
    """Values of `_ARTIFACT_VALUES`, as mlineage writes them."""
    common = (store_pk, id_, name, title, "0.0.1", "", meta, "{}", 1, now, now)
    return (*common, uri, "LIVE", "", produced)


def _execution_row(store_pk: int, id_: str, name: str, now: int) -> tuple[Any, ...]:
    title = "system.ContainerExecution"
    return (store_pk, id_, name, title, "0.0.1", "", "{}", "{}", 1, now, now, "NEW")


def _writer(db: Path, synchronous: str) -> tuple[sqlite3.Connection, Checkpointer]:
    """A connection with mlineage's settings for a store it made, and a checkpointer."""
    connection = sqlite3.connect(db, isolation_level=None)
    for pragma in (
        f"synchronous={synchronous}",
        f"wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
        "foreign_keys=ON",
        "busy_timeout=5000",
    ):
        connection.execute(f"PRAGMA {pragma}")
    return connection, Checkpointer(str(db), synchronous)


def _commit(connection: sqlite3.Connection, checkpointer: Checkpointer) -> None:
    connection.execute("COMMIT")
    checkpointer.committed()


def _store_pk(connection: sqlite3.Connection) -> int:
    (pk,) = connection.execute("SELECT id FROM metadata_stores").fetchone()
    return int(pk)


def _count(connection: sqlite3.Connection, table: str) -> int:
    (count,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(count)


def _chunks(rows: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """`rows` in chunks of 64, 32, ..., 1 rows."""
    chunks, start, size = [], 0, _MULTIROW
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        chunks.append(rows[start : start + size])
        start += size
    return chunks


def artifacts_written(
    db: Path, synchronous: str, batches: list[list[tuple[str, str, str, str]]]
) -> tuple[float, int]:
    """Insert each batch of artifacts, given as (display name, schema title, uri, metadata
    as JSON text), in a transaction of its own; the seconds taken and the rows inserted."""
    connection, checkpointer = _writer(db, synchronous)
    try:
        store_pk, before = _store_pk(connection), _count(connection, "artifacts")
        now = time.time_ns() // 1000
        statements = []
        for batch, ids in zip(batches, [new_ids(len(b)) for b in batches], strict=True):
            rows = [
                _artifact_row(store_pk, id_, name, title, uri, meta, now, 0)
                for id_, (name, title, uri, meta) in zip(ids, batch, strict=True)
            ]
            statements.append(
                [
                    (
                        _INSERT_ARTIFACT + ", ".join([_ARTIFACT_VALUES] * len(chunk)),
                        [value for row in chunk for value in row],
                    )
                    for chunk in _chunks(rows)
                ]
            )
        start = time.perf_counter()
        for transaction in statements:
            connection.execute("BEGIN IMMEDIATE")
            for sql, values in transaction:
                connection.execute(sql, values)
            _commit(connection, checkpointer)
        seconds = time.perf_counter() - start
        return seconds, _count(connection, "artifacts") - before
    finally:
        checkpointer.close()
        connection.close()


def executions_written(
    db: Path, synchronous: str, inputs: list[tuple[str, str]], uris: list[str]
) -> tuple[float, dict[str, int]]:
    """Per output uri, a transaction as mlineage's `record_execution` runs it: find its two
    inputs (resource ids, from `inputs`) by resource id, insert the execution and the output
    artifact, then the three events. The seconds taken and the rows inserted."""
    connection, checkpointer = _writer(db, synchronous)
    tables = ("executions", "artifacts", "events")
    try:
        store_pk = _store_pk(connection)
        before = {table: _count(connection, table) for table in tables}
        now = time.time_ns() // 1000
        ids = new_ids(2 * len(uris))
        calls = [
            (
                _execution_row(store_pk, ids[2 * i], f"train-{i}", now),
                (store_pk, *inputs[i]),
                _artifact_row(store_pk, ids[2 * i + 1], "", "system.Model", uri, "{}", now, 1),
            )
            for i, uri in enumerate(uris)
        ]
        insert_output = _INSERT_ARTIFACT + _ARTIFACT_VALUES
        start = time.perf_counter()
        for execution, input_ids, output in calls:
            connection.execute("BEGIN IMMEDIATE")
            read = connection.execute(_INPUT_IDS, input_ids).fetchall()
            execution_pk = connection.execute(_INSERT_EXECUTION, execution).lastrowid
            output_pk = connection.execute(insert_output, output).lastrowid
            connection.executemany(
                _INSERT_EVENT,
                [(execution_pk, pk, "INPUT", now) for (pk,) in read]
                + [(execution_pk, output_pk, "OUTPUT", now)],
            )
            _commit(connection, checkpointer)
        seconds = time.perf_counter() - start
        return seconds, {table: _count(connection, table) - before[table] for table in tables}
    finally:
        checkpointer.close()
        connection.close()
