"""Downsampled time-series reads: a long series comes back as a few points that keep its shape.

A key with more than `max_points` points is cut into `(max_points - 2) // 2` buckets of equal
step ranges; each bucket gives its lowest and its highest point (so spikes survive, unlike
taking every n-th point), and the key's first and last points are always kept. The work is
done in SQL (two grouped passes over the key's rows and a lookup of the chosen ones), so a
series of a million points costs no Python per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError

__all__ = ["MIN_POINTS", "check_max_points", "downsampled_rows"]

MIN_POINTS = 4
"""The fewest points a downsampled key can be drawn with: first, last, one low, one high."""


def check_max_points(max_points: Any) -> int:
    if isinstance(max_points, bool) or not isinstance(max_points, int):
        raise InvalidArgumentError(
            "max_points", f"must be an integer, got {type(max_points).__name__}"
        )
    if max_points < MIN_POINTS:
        raise InvalidArgumentError("max_points", f"must be at least {MIN_POINTS}, got {max_points}")
    return max_points


def downsampled_rows(
    connection: Connection,
    series: sa.Table,
    run_pk: int,
    keys: Sequence[str] | None,
    max_points: int,
) -> Sequence[sa.Row[Any]]:
    """(key, step, value, wall_time) rows of run `run_pk`, by key then step: every point of
    a key that has at most `max_points`, a downsampled selection of the longer ones."""
    buckets = max_points // 4
    mine = series.c.run_id == run_pk
    if keys is not None:
        mine = sa.and_(mine, series.c.key.in_(list(keys)))
    stats = (
        sa.select(
            series.c.key,
            sa.func.min(series.c.step).label("first"),
            sa.func.max(series.c.step).label("last"),
            sa.func.count().label("points"),
        )
        .where(mine)
        .group_by(series.c.key)
        .cte("stats")
    )
    # Integer arithmetic that cannot overflow: buckets of `width` steps, at most `buckets`.
    width = (stats.c.last - stats.c.first) // buckets + 1
    bucket = (series.c.step - stats.c.first) // width
    long_keys = stats.c.points > max_points
    ranges = (
        sa.select(
            series.c.key,
            sa.func.min(series.c.step).label("first"),
            sa.func.max(series.c.step).label("last"),
            sa.func.min(series.c.value).label("low"),
            sa.func.max(series.c.value).label("high"),
        )
        .join(stats, stats.c.key == series.c.key)
        .where(mine, long_keys)
        .group_by(series.c.key, bucket)
        .cte("ranges")
    )
    # The step of a bucket's low (high) value: a range scan of the primary key per bucket.
    inner = series.alias("inner")

    def step_of(value: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return (
            sa.select(sa.func.min(inner.c.step))
            .where(
                inner.c.run_id == run_pk,
                inner.c.key == ranges.c.key,
                inner.c.step.between(ranges.c.first, ranges.c.last),
                inner.c.value == value,
            )
            .scalar_subquery()
        )

    extremes = sa.select(
        ranges.c.key,
        ranges.c.first,
        ranges.c.last,
        step_of(ranges.c.low).label("low_step"),
        step_of(ranges.c.high).label("high_step"),
    ).cte("extremes")
    chosen = sa.union(
        *(
            sa.select(extremes.c.key, extremes.c[column].label("step")).where(
                extremes.c[column].is_not(None)
            )
            for column in ("first", "last", "low_step", "high_step")
        )
    ).cte("chosen")
    columns = (series.c.key, series.c.step, series.c.value, series.c.wall_time)
    picked = sa.select(*columns).where(
        series.c.run_id == run_pk,
        sa.tuple_(series.c.key, series.c.step).in_(sa.select(chosen.c.key, chosen.c.step)),
    )
    short_keys = sa.select(stats.c.key).where(stats.c.points <= max_points)
    whole = sa.select(*columns).where(mine, series.c.key.in_(short_keys))
    statement = sa.union_all(picked, whole).subquery()
    return connection.execute(
        sa.select(statement).order_by(statement.c.key, statement.c.step)
    ).all()
