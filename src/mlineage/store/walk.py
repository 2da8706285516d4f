"""Walking lineage: which artifacts and executions a lineage query reaches.

The walk runs in rounds. Each round is one recursive query over events, artifact to
artifact through executions (artifact <-OUTPUT- execution <-INPUT- artifact upstream, the
reverse downstream; 2 hops), from a set of seed artifacts. Then one query finds, for what
the round reached, the other records of the same data (0 hops, see below), which seed the
next round. So the number of queries grows with the number of times a lineage crosses from
one run to another through a URI, never with the number of nodes, and every query is driven
by indexes from the nodes it starts at: the cost follows the subgraph, not the store.

Same data: an artifact that no execution produced, recorded with a URI, stands for the
newest record of that URI, made before it, that an execution did produce (what was at that
place when it was read), unless both have content fingerprints and they differ.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.store import driver, schema

Way = Literal["upstream", "downstream"]
CHUNK = 4000
"""Ids bound in one statement at most: well under every database's limit."""


def _produced(artifact: sa.FromClause, produced: bool = True) -> sa.ColumnElement[bool]:
    return artifact.c.produced == (sa.true() if produced else sa.false())


def _earlier(a: sa.FromClause, b: sa.FromClause) -> sa.ColumnElement[bool]:
    """`a` was recorded before `b` (ties broken by id). Its first term bounds an index range."""
    return sa.and_(
        a.c.create_time <= b.c.create_time,
        sa.or_(
            a.c.create_time < b.c.create_time,
            sa.and_(a.c.create_time == b.c.create_time, a.c.id < b.c.id),
        ),
    )


def _same_place(a: sa.FromClause, b: sa.FromClause) -> sa.ColumnElement[bool]:
    return sa.and_(a.c.store_id == b.c.store_id, a.c.uri == b.c.uri)


def _same_content(a: sa.FromClause, b: sa.FromClause) -> sa.ColumnElement[bool]:
    """No fingerprints that are both known and differ."""
    return sa.or_(a.c.fingerprint == "", b.c.fingerprint == "", a.c.fingerprint == b.c.fingerprint)


def _write_seen_by(read: sa.FromClause) -> sa.ScalarSelect[Any]:
    """The id of the newest write of `read`'s URI made before it (NULL when none)."""
    write = schema.artifacts.alias("write_before")
    return (
        sa.select(write.c.id)
        .where(_same_place(write, read), _produced(write), _earlier(write, read))
        .order_by(write.c.create_time.desc(), write.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _next_write_time(written: sa.FromClause) -> sa.ColumnElement[Any]:
    """The create time of the first write of `written`'s URI after it; reads at or after
    it saw that one (or a later one), never `written`. Past every time when there is none."""
    later = schema.artifacts.alias("write_after")
    first = (
        sa.select(later.c.create_time)
        .where(_same_place(later, written), _produced(later), _earlier(written, later))
        .order_by(later.c.create_time, later.c.id)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(first, _UNBOUNDED)


_UNBOUNDED = 2**62
"""Past every create time (microseconds), and more rows than any walk reads."""


@functools.cache
def _same_data_statement(way: Way) -> sa.Select[Any]:
    """(from, to) pairs of records of the same data from the artifacts `:ids` (built once:
    building a statement costs more than running it). Each step is an index seek among the
    writes, or among the reads, of one URI: the cost follows the pairs, not how many records
    the URI has."""
    read = schema.artifacts.alias("read_record")
    written = schema.artifacts.alias("written_record")
    read_only = sa.and_(read.c.uri != "", _produced(read, False))
    if way == "upstream":  # from a read to the write it saw
        return (
            sa.select(read.c.id, written.c.id)
            .select_from(read)
            .join(written, written.c.id == _write_seen_by(read))
            .where(
                read.c.id.in_(sa.bindparam("ids", expanding=True)),
                read_only,
                _same_content(read, written),
            )
        )
    # from a write to the reads that saw it: those after it and before the next write
    return (
        sa.select(written.c.id, read.c.id)
        .select_from(written)
        .join(
            read,
            sa.and_(
                _same_place(read, written),
                read_only,
                read.c.create_time >= written.c.create_time,
                read.c.create_time <= _next_write_time(written),
            ),
        )
        .where(
            written.c.id.in_(sa.bindparam("ids", expanding=True)),
            written.c.uri != "",
            _produced(written),
            written.c.id == _write_seen_by(read),  # exact where times tie
            _same_content(read, written),
        )
    )


def _same_data(connection: Connection, ids: list[int], way: Way) -> list[tuple[int, int]]:
    statement = _same_data_statement(way)
    pairs: list[tuple[int, int]] = []
    for chunk in chunks(ids):
        pairs += [(a, b) for a, b in driver.rows(connection, statement, {"ids": chunk})]
    return pairs


@functools.cache
def _round_statement(way: Way) -> sa.Select[Any]:
    """One round's recursive query, from the seeds `:seed_ids` at `:seed_depth`, bounded by
    `:max_hops` (so it ends on cycles too). Built once."""
    events, artifacts = schema.events, schema.artifacts
    toward, away = ("OUTPUT", "INPUT") if way == "upstream" else ("INPUT", "OUTPUT")
    first, second = events.alias("first_hop"), events.alias("second_hop")
    seeds = sa.select(
        artifacts.c.id, sa.bindparam("seed_depth", type_=sa.Integer).label("depth")
    ).where(artifacts.c.id.in_(sa.bindparam("seed_ids", expanding=True)))
    walk = seeds.cte("walk", recursive=True)
    step = (
        sa.select(second.c.artifact_id, (walk.c.depth + 2).label("depth"))
        .select_from(walk)
        .join(first, sa.and_(first.c.artifact_id == walk.c.id, first.c.type == toward))
        .join(
            second,
            sa.and_(second.c.execution_id == first.c.execution_id, second.c.type == away),
        )
    )
    step = step.where(walk.c.depth + 2 <= sa.bindparam("max_hops", type_=sa.Integer))
    walk = walk.union(step)
    # No GROUP BY (the caller keeps each id's least depth), so that the LIMIT ends the
    # recursion once it has produced that many rows: SQLite and PostgreSQL both compute a
    # recursive query only as far as its reader fetches.
    return sa.select(walk.c.id, walk.c.depth).limit(sa.bindparam("row_cap", type_=sa.Integer))


ROWS_PER_NODE = 2
"""A round reads at most this many rows per artifact of the limit (plus its seeds) before
it stops: a node reached at several depths is one row per depth."""


def _events_round(
    connection: Connection, seeds: dict[int, int], max_hops: int, way: Way, limit: int
) -> dict[int, int]:
    """Artifacts reached from `seeds` (id -> depth) through executions, with depths; more
    than `limit` of them when the walk goes on past that many (then the nearest).

    The recursion runs breadth first, so from seeds of one depth its rows come out in the
    order of their depth, and a query cut off at its row cap holds the nearest artifacts:
    the work stays near the limit however large the lineage is within `max_hops`. Seeds of
    different depths (records of the same data met at different depths) would interleave
    farther rows with nearer ones, so each depth of seeds has a query of its own; the
    nearest `limit` of the round are among the nearest `limit` of each."""
    reached: dict[int, int] = {}
    by_depth: dict[int, list[int]] = {}
    for pk in sorted(seeds):
        by_depth.setdefault(seeds[pk], []).append(pk)
    statement = _round_statement(way)
    for depth, ids in sorted(by_depth.items()):
        for chunk in chunks(ids):
            cap = ROWS_PER_NODE * (limit + 1) + len(chunk)
            params: dict[str, Any] = {
                "seed_ids": chunk,
                "seed_depth": depth,
                "max_hops": max_hops,
                "row_cap": cap,
            }
            rows = driver.rows(connection, statement, params)
            found = _least_depths(rows)
            if len(rows) == cap and len(found) <= limit:  # mostly repeats: read it all
                params["row_cap"] = _UNBOUNDED
                found = _least_depths(driver.rows(connection, statement, params))
            for pk, depth_found in found.items():
                reached[pk] = min(depth_found, reached.get(pk, depth_found))
    return reached


def _least_depths(rows: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each id of the (id, depth) rows with its least depth."""
    least: dict[int, int] = {}
    for pk, depth in rows:
        least[pk] = min(depth, least.get(pk, depth))
    return least


def walk(
    connection: Connection, start: int, max_hops: int | None, way: Way, limit: int
) -> tuple[dict[int, int], dict[int, int], bool]:
    """Artifacts and executions reached from artifact `start` (id -> hops), and whether
    `limit` artifacts cut the walk short (then the nearest `limit` are kept).

    Each round stops reading once it has passed `limit` artifacts (`_events_round`), so the
    work stays near the size of what is returned, even when the whole lineage within
    `max_hops` is huge. With no `max_hops`, the walk deepens: 2 hops, 4, 8, ... until a
    bound adds nothing (the end is reached: every step is 2 hops, so a farther node would
    have a nearer one on its way) or reaches past `limit`; a bound also ends it on a cycle.
    """
    if max_hops is not None:
        artifacts = _rounds(connection, start, max_hops, way, limit)
    else:
        hops, before = 2, 0
        while True:
            artifacts = _rounds(connection, start, hops, way, limit)
            if len(artifacts) > limit or len(artifacts) == before:
                break
            hops, before = hops * 2, len(artifacts)
    truncated = len(artifacts) > limit
    if truncated:
        kept = sorted(artifacts.items(), key=lambda item: (item[1], item[0]))[:limit]
        artifacts = dict(kept)
    return artifacts, _executions(connection, artifacts, max_hops, way), truncated


def _rounds(
    connection: Connection, start: int, max_hops: int, way: Way, limit: int
) -> dict[int, int]:
    """The walk's rounds, stopped once more than `limit` artifacts are reached."""
    artifacts: dict[int, int] = {}
    seeds = {start: 0}
    while seeds and len(artifacts) <= limit:
        reached = _events_round(connection, seeds, max_hops, way, limit)
        fresh = {pk: d for pk, d in reached.items() if d < artifacts.get(pk, d + 1)}
        artifacts.update(fresh)
        seeds = {}
        for source, other in _same_data(connection, sorted(fresh), way):
            depth = artifacts[source]
            if depth < artifacts.get(other, depth + 1):
                artifacts[other] = seeds[other] = depth
    return artifacts


@functools.cache
def _executions_statement(way: Way) -> sa.Select[Any]:
    events = schema.events
    toward = "OUTPUT" if way == "upstream" else "INPUT"
    return sa.select(events.c.execution_id, events.c.artifact_id).where(
        events.c.artifact_id.in_(sa.bindparam("ids", expanding=True)), events.c.type == toward
    )


def _executions(
    connection: Connection, artifacts: dict[int, int], max_hops: int | None, way: Way
) -> dict[int, int]:
    """The executions one hop beyond the walked artifacts, in the walk's direction."""
    statement = _executions_statement(way)
    near = [pk for pk, depth in artifacts.items() if max_hops is None or depth + 1 <= max_hops]
    executions: dict[int, int] = {}
    for chunk in chunks(sorted(near)):
        rows = driver.rows(connection, statement, {"ids": chunk})
        for execution_id, artifact_id in rows:
            depth = artifacts[artifact_id] + 1
            executions[execution_id] = min(depth, executions.get(execution_id, depth))
    return executions


def chunks(ids: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    """Slices small enough to bind in one statement on every database."""
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
