"""An experiment's runs, a page at a time: `list_runs`, `experiment_rows` and `count_runs`.

Both lists run oldest first (the run context's create time, then its row id) and page by
keyset (`store.pagination`): a token holds the last run served and a fingerprint of the
query (experiment, filter, and for rows `include_time_series`), and the next page starts
strictly after that run. A run created while a reader pages sorts after every run served
(or is left out by its filter), so it never repeats or shifts a page. Without a page size
every run is returned. Either way a page is a handful of queries whatever its size.

The order is read from `runs` alone: `runs.create_time` is a copy of the run context's
create time and `runs.context_id` is its row id, so the index on (experiment_id,
create_time, context_id) selects the experiment's runs, holds them in page order and
seeks to a token's run. A late page reads its own runs (and those its filter skips), not
every run of the experiment before it, and nothing is sorted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage import query
from mlineage.store import codec, filters, pagination, runs, schema
from mlineage.store.base import ExperimentRow, RunInfo
from mlineage.store.scope import StoreIds, resolve
from mlineage.types import ExecutionState, Page, ResourceName

__all__ = ["count_runs", "experiment_rows", "list_runs"]

_KEYS = (
    pagination.SortKey(schema.runs.c.create_time),
    pagination.SortKey(schema.runs.c.context_id),
)
_KEY_LABELS = ("page_key_time", "page_key_id")
"""The names of `_KEYS`' values in the rows of `_Window.ordered`, which a token holds."""


@dataclass(frozen=True, slots=True)
class _Window:
    """Where a page starts (`condition`, which also selects the experiment's runs that the
    filter keeps), how many runs it holds (None: all), and its tokens' fingerprint."""

    condition: sa.ColumnElement[bool]
    limit: int | None
    fingerprint: str

    def ordered(self, statement: sa.Select[Any]) -> sa.Select[Any]:
        """`statement` (of runs, `condition` applied) in page order, limited to this page
        plus one run, which tells whether another page follows; its rows end with the sort
        keys' values (`_KEY_LABELS`)."""
        keys = [key.column for key in _KEYS]
        statement = statement.add_columns(
            *(column.label(label) for column, label in zip(keys, _KEY_LABELS, strict=True))
        ).order_by(*keys)
        return statement if self.limit is None else statement.limit(self.limit + 1)

    def cut(self, rows: Sequence[Any]) -> tuple[Sequence[Any], str]:
        """The rows of this page (of `ordered`) and the token of the next page ("" on the
        last one)."""
        if self.limit is None or len(rows) <= self.limit:
            return rows, ""
        rows = rows[: self.limit]
        last = rows[-1]._mapping
        values = [last[label] for label in _KEY_LABELS]
        return rows, pagination.encode_token(values, self.fingerprint)


def _window(
    connection: Connection,
    stores: StoreIds,
    experiment: str,
    filter: str | None,
    page_size: int | None,
    page_token: str | None,
    *query_parts: str,
) -> _Window:
    """The page of `experiment`'s runs that `filter`, `page_size` and `page_token` ask for;
    the page arguments are checked before the experiment is looked up."""
    limit = pagination.check_page_size(page_size)
    fingerprint = pagination.query_fingerprint(*query_parts, experiment, filter)
    start = None
    if page_token:
        values = pagination.decode_token(page_token, fingerprint, len(_KEYS))
        start = pagination.after(_KEYS, values)
    condition = _in_experiment(connection, stores, experiment, filter)
    if start is not None:
        condition = sa.and_(condition, start)
    return _Window(condition, limit, fingerprint)


def _in_experiment(
    connection: Connection, stores: StoreIds, experiment: str, filter: str | None
) -> sa.ColumnElement[bool]:
    """The condition on `runs` joined to `contexts` selecting the experiment's runs that
    `filter` keeps."""
    condition = (
        schema.runs.c.experiment_id == resolve(connection, stores, experiment, "contexts").id
    )
    where = query.filter_clause(filter, filters.target("contexts"))
    return condition if where is None else sa.and_(condition, where)


def list_runs(
    connection: Connection,
    stores: StoreIds,
    experiment: str,
    filter: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[RunInfo]:
    window = _window(connection, stores, experiment, filter, page_size, page_token, "runs")
    statement = window.ordered(runs.info_statement(window.condition))
    rows, token = window.cut(connection.execute(statement).all())
    return Page(runs.infos(connection, ResourceName.parse(experiment).parent, rows), token)


def count_runs(
    connection: Connection, stores: StoreIds, experiment: str, filter: str | None = None
) -> int:
    condition = _in_experiment(connection, stores, experiment, filter)
    runs_table, contexts = schema.runs, schema.contexts
    return int(
        connection.execute(
            sa.select(sa.func.count())
            .select_from(contexts)
            .join(runs_table, runs_table.c.context_id == contexts.c.id)
            .where(condition)
        ).scalar_one()
    )


def _last_values(runs_chosen: sa.Select[Any]) -> sa.Select[Any]:
    """(run id, key, value at the last step) of each series of the runs `runs_chosen`
    selects, by index seeks: each run's keys one after the other (a recursive skip scan),
    then each key's last point. A run's points are never scanned, however long its series."""
    series = schema.time_series
    chosen = runs_chosen.subquery("chosen")
    first_key = series.alias("first_key")
    pairs = sa.select(
        chosen.c.id.label("run_id"),
        sa.select(sa.func.min(first_key.c.key))
        .where(first_key.c.run_id == chosen.c.id)
        .scalar_subquery()
        .label("key"),
    ).cte("pairs", recursive=True)
    next_key = series.alias("next_key")
    pairs = pairs.union_all(
        sa.select(
            pairs.c.run_id,
            sa.select(sa.func.min(next_key.c.key))
            .where(next_key.c.run_id == pairs.c.run_id, next_key.c.key > pairs.c.key)
            .scalar_subquery(),
        ).where(pairs.c.key.is_not(None))
    )
    last = series.alias("last_point")
    value = (
        sa.select(last.c.value)
        .where(last.c.run_id == pairs.c.run_id, last.c.key == pairs.c.key)
        .order_by(last.c.step.desc())
        .limit(1)
        .scalar_subquery()
    )
    return sa.select(pairs.c.run_id, pairs.c.key, value).where(pairs.c.key.is_not(None))


def _tuples(connection: Connection, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them: for columns of ids, text and floats (which need
    no conversion) this costs half of building SQLAlchemy rows, and a big experiment has
    hundreds of thousands of values."""
    result = connection.execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def experiment_rows(
    connection: Connection,
    stores: StoreIds,
    experiment: str,
    include_time_series: bool,
    filter: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[ExperimentRow]:
    window = _window(
        connection,
        stores,
        experiment,
        filter,
        page_size,
        page_token,
        "experimentRows",
        "series" if include_time_series else "",
    )
    store = ResourceName.parse(experiment).parent
    runs_table, contexts = schema.runs, schema.contexts
    found, token = window.cut(
        connection.execute(
            window.ordered(
                sa.select(
                    contexts.c.id,
                    contexts.c.resource_id,
                    contexts.c.display_name,
                    runs_table.c.run_type,
                    runs_table.c.state,
                    runs_table.c.start_time,
                )
                .join(runs_table, runs_table.c.context_id == contexts.c.id)
                .where(window.condition)
            )
        ).all()
    )
    rows: dict[int, ExperimentRow] = {}
    for run_pk, resource_id, name, run_type, state, start, _, _ in found:  # and the sort keys
        rows[run_pk] = ExperimentRow(
            name,
            run_type,
            ExecutionState[state],
            name=f"{store}/contexts/{resource_id}",
            start_time=codec.from_micros(start),
        )
    if not rows:
        return Page([], token)
    if window.limit is None:  # every run the filter keeps: no list of ids however many
        chosen = (
            sa.select(contexts.c.id)
            .join(runs_table, runs_table.c.context_id == contexts.c.id)
            .where(window.condition)
        )
    else:  # the page's runs alone (at most `MAX_PAGE_SIZE` ids)
        chosen = sa.select(contexts.c.id).where(contexts.c.id.in_(list(rows)))
    in_page = chosen.scalar_subquery()
    # Aliases: a filter's EXISTS over run_params/run_metrics must not correlate with these.
    params = schema.run_params.alias("row_params")
    for run_pk, key, kind, text in _tuples(
        connection,
        sa.select(params.c.run_id, params.c.key, params.c.value_type, params.c.value_text).where(
            params.c.run_id.in_(in_page)
        ),
    ):
        rows[run_pk].params[key] = runs.param_value(kind, text)
    metrics = schema.run_metrics.alias("row_metrics")
    for run_pk, key, value in _tuples(
        connection,
        sa.select(metrics.c.run_id, metrics.c.key, metrics.c.value).where(
            metrics.c.run_id.in_(in_page)
        ),
    ):
        rows[run_pk].metrics[key] = math.nan if value is None else value
    if include_time_series:
        for run_pk, key, value in _tuples(connection, _last_values(chosen)):
            rows[run_pk].time_series[key] = math.nan if value is None else value
    return Page(list(rows.values()), token)
