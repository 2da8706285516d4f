"""Downsampled time-series reads: a long series comes back as a few points that keep its shape.

A key with more than `max_points` points is cut into `max_points // 4` ranges of equal step
width; each range gives its first, last, lowest and highest point (so spikes survive, unlike
taking every n-th point, and the line between ranges is drawn as it was), which includes the
key's first and last points. The work is one SQL statement of index lookups: the keys (a
recursive skip scan), their first and last steps, whether each has more than `max_points`
points (is there a point at that offset), then per range its first and last step and one
walk of its points for the lowest and one for the highest. Nothing groups or sorts a whole
series and no Python runs per point: a key of a million points costs two walks of its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.validation import MIN_POINTS, check_max_points

__all__ = ["MIN_POINTS", "check_max_points", "downsampled_rows"]


def _keys(series: sa.Table, run_pk: int, keys: Sequence[str] | None) -> sa.CTE:
    """The run's keys (those among `keys`), one index seek each: a recursive skip scan."""

    def of_run(table: sa.FromClause) -> sa.ColumnElement[bool]:
        condition = table.c.run_id == run_pk
        return condition if keys is None else sa.and_(condition, table.c.key.in_(list(keys)))

    seed = series.alias("seed")
    names = sa.select(sa.func.min(seed.c.key).label("key")).where(of_run(seed))
    found = names.cte("names", recursive=True)
    later = series.alias("later")
    following = (
        sa.select(sa.func.min(later.c.key))
        .where(of_run(later), later.c.key > found.c.key)
        .scalar_subquery()
    )
    return found.union_all(sa.select(following).where(found.c.key.is_not(None)))


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
    names = _keys(series, run_pk, keys)
    point = series.alias("point")
    of_key = (point.c.run_id == run_pk, point.c.key == names.c.key)
    stats = (
        sa.select(
            names.c.key,
            sa.select(sa.func.min(point.c.step)).where(*of_key).scalar_subquery().label("first"),
            sa.select(sa.func.max(point.c.step)).where(*of_key).scalar_subquery().label("last"),
            sa.select(point.c.step)  # set when the key has more than max_points points
            .where(*of_key)
            .order_by(point.c.step)
            .limit(1)
            .offset(max_points)
            .scalar_subquery()
            .label("beyond"),
        )
        .where(names.c.key.is_not(None))
        .cte("stats")
    )
    numbers = sa.select(sa.literal(0, sa.BigInteger).label("i")).cte("numbers", recursive=True)
    numbers = numbers.union_all(sa.select(numbers.c.i + 1).where(numbers.c.i < buckets - 1))
    # Integer arithmetic that cannot overflow: ranges of `width` steps, at most `buckets`.
    span = stats.c.last - stats.c.first
    width = span // buckets + 1
    low_step = stats.c.first + numbers.c.i * width
    high_step = sa.case(
        (low_step > stats.c.last - width + 1, stats.c.last), else_=low_step + width - 1
    )
    ranges = (
        sa.select(stats.c.key, low_step.label("low"), high_step.label("high"))
        .where(stats.c.beyond.is_not(None), numbers.c.i * width <= span)
        .cte("ranges")
    )
    inside = (
        point.c.run_id == run_pk,
        point.c.key == ranges.c.key,
        point.c.step.between(ranges.c.low, ranges.c.high),
    )
    valued = (*inside, point.c.value.is_not(None))
    picks = sa.select(
        ranges.c.key,
        sa.select(sa.func.min(point.c.step)).where(*inside).scalar_subquery().label("first"),
        sa.select(sa.func.max(point.c.step)).where(*inside).scalar_subquery().label("last"),
        sa.select(point.c.step)
        .where(*valued)
        .order_by(point.c.value, point.c.step)
        .limit(1)
        .scalar_subquery()
        .label("lowest"),
        sa.select(point.c.step)
        .where(*valued)
        .order_by(point.c.value.desc(), point.c.step)
        .limit(1)
        .scalar_subquery()
        .label("highest"),
    ).cte("picks")
    chosen = sa.union(
        *(
            sa.select(picks.c.key, picks.c[column].label("step")).where(
                picks.c[column].is_not(None)
            )
            for column in ("first", "last", "lowest", "highest")
        )
    ).cte("chosen")
    columns = (series.c.key, series.c.step, series.c.value, series.c.wall_time)
    picked = sa.select(*columns).where(
        series.c.run_id == run_pk,
        sa.tuple_(series.c.key, series.c.step).in_(sa.select(chosen.c.key, chosen.c.step)),
    )
    short_keys = sa.select(stats.c.key).where(stats.c.beyond.is_(None))
    whole = sa.select(*columns).where(series.c.run_id == run_pk, series.c.key.in_(short_keys))
    statement = sa.union_all(picked, whole).subquery()
    return connection.execute(
        sa.select(statement).order_by(statement.c.key, statement.c.step)
    ).all()
