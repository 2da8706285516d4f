"""Floors: what Python's sqlite3 module alone takes to hand a query's answer to Python.

Any library that keeps its records in SQLite and answers in Python pays at least this,
whatever its SQL and however cheap its objects: the rows of the answer, read by the
statements that need no searching (by row id), as the module's tuples, with no filter,
no walk and no objects built. bench_queries.py sets these beside ml-metadata: ml-metadata's
time over a floor bounds the ratio a target may ask of mlineage on this machine.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from mlineage.store.codec import COMMON_COLUMNS, OWN_COLUMNS
from mlineage.types import LineageGraph, ResourceName

REPS = 3


def _select(table: str, kind: str) -> str:
    """The columns mlineage reads a node from (store/nodes.py), without its WHERE."""
    return f"SELECT {', '.join(COMMON_COLUMNS + OWN_COLUMNS[kind])} FROM {table}"


def _timed(db: Path, statements: list[tuple[str, list[int]]]) -> tuple[list[float], list[int]]:
    """Each repetition's seconds to fetch every row of `statements` (each bound to its ids,
    as one IN list), and how many rows each returned. A fresh connection: an untimed first
    run reads the pages the answer needs into its cache, as the queries it is set beside do
    after their warm-up."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        counts: list[int] = []
        seconds: list[float] = []
        for rep in range(REPS + 1):
            start = time.perf_counter()
            counts = [
                len(connection.execute(sql.format(ids=", ".join("?" * len(ids))), ids).fetchall())
                for sql, ids in statements
            ]
            if rep:  # the first run warms the cache
                seconds.append(time.perf_counter() - start)
        return seconds, counts
    finally:
        connection.close()


def filter_answer(db: Path, every: int, remainder: int) -> tuple[list[float], int]:
    """Fetch the artifacts whose row id is `remainder` modulo `every` (the rows a filter of
    the benchmark's store returns, found here by arithmetic instead of by filtering)."""
    sql = _select("artifacts", "artifacts") + f" WHERE id % {every} = {remainder}"
    seconds, (rows,) = _timed(db, [(sql, [])])
    return seconds, rows


def lineage_answer(db: Path, graph: LineageGraph) -> tuple[list[float], dict[str, int]]:
    """Fetch `graph`'s artifacts and executions by row id, and the events of those executions
    (as mlineage's lineage queries load them), its row ids found untimed."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        artifacts = _row_ids(connection, "artifacts", [a.name for a in graph.artifacts])
        executions = _row_ids(connection, "executions", [e.name for e in graph.executions])
    finally:
        connection.close()
    events = "SELECT id, execution_id, artifact_id, type, event_time, labels FROM events"
    seconds, (a, e, v) = _timed(
        db,
        [
            (_select("artifacts", "artifacts") + " WHERE id IN ({ids})", artifacts),
            (_select("executions", "executions") + " WHERE id IN ({ids})", executions),
            (events + " WHERE execution_id IN ({ids})", executions),
        ],
    )
    return seconds, {"artifacts": a, "executions": e, "events": v}


def _row_ids(connection: sqlite3.Connection, table: str, names: list[str]) -> list[int]:
    resource_ids = [ResourceName.parse(name).resource_id for name in names]
    found = dict(connection.execute(f"SELECT resource_id, id FROM {table}").fetchall())
    return sorted(found[resource_id] for resource_id in resource_ids)
