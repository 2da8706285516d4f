"""Floors: what Python's sqlite3 module alone takes to hand a query's answer to Python.

Any library that keeps these records in SQLite tables like mlineage's and answers in Python
pays at least this, however cheap its objects: the rows of the answer, as the module's
tuples, with no objects made of them. The filter's floor reads its rows by arithmetic on their row
ids, without filtering; the lineage floor walks by one plain recursive query per direction
(no URI links, no node limit) and reads the rows by row id. bench_queries.py sets these
beside ml-metadata: ml-metadata's time over a floor bounds the ratio any such library can
reach on this machine.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

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
