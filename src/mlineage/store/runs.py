"""Experiment runs: run records, params, summary metrics and time-series points.

Each lives in its own narrow table keyed by the run's context row, so the DataFrame of an
experiment is four queries whatever the number of runs (`store.run_lists` reads them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.store import codec, dialects, downsample, nodes, schema
from mlineage.store.base import RunInfo
from mlineage.store.scope import StoreIds, resolve
from mlineage.types import Context, ExecutionState, StoreName, TimeSeriesPoint
from mlineage.validation import ParamValue, check_metadata

TERMINAL_STATES = {
    ExecutionState.COMPLETE,
    ExecutionState.FAILED,
    ExecutionState.CACHED,
    ExecutionState.CANCELLED,
}


def _upsert(
    connection: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    dialects.upsert_many(connection, table, rows, keys)


def create(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    store: StoreName,
    context: Context,
    run_id: str,
    *,
    experiment: str | None,
    state: ExecutionState,
    provenance: Mapping[str, Any] | None,
) -> RunInfo:
    experiment_pk = None
    if experiment is not None:
        experiment_ref = resolve(connection, stores, experiment, "contexts")
        if experiment_ref.store_pk != store_pk:
            raise InvalidArgumentError(
                "experiment", "must be in the same metadata store as the run"
            )
        experiment_pk = experiment_ref.id
    now = codec.now_micros()  # the context's create time, kept in its run record too
    ((run_pk, created),) = nodes.insert_with_ids(
        connection, store_pk, store, nodes.SPECS[Context], [context], [run_id], now=now
    )
    if experiment_pk is not None:
        connection.execute(
            schema.context_links.insert().values(parent_id=experiment_pk, child_id=run_pk)
        )
    connection.execute(
        schema.runs.insert().values(
            context_id=run_pk,
            experiment_id=experiment_pk,
            create_time=now,
            run_type=created.schema_title,
            state=state.name,
            provenance=check_metadata(provenance or {}, "provenance"),
            start_time=now,
            end_time=now if state in TERMINAL_STATES else None,
        )
    )
    return get(connection, stores, created.name)


def run_pk(connection: Connection, stores: StoreIds, run: str, *, cached: bool = False) -> int:
    """The row id of run `run`. With `cached`, a remembered id may be used: only for
    writes, where the foreign keys catch a run deleted meanwhile (ids are never reused)."""
    if cached:
        pk = stores.cached_run(run)
        if pk is not None:
            return pk
    ref = resolve(connection, stores, run, "contexts")
    runs = schema.runs
    found = connection.execute(sa.select(runs.c.context_id).where(runs.c.context_id == ref.id))
    if found.first() is None:
        raise NotFoundError(f"ExperimentRun {run} not found (the context is not a run)")
    stores.remember_run(run, ref.id)
    return ref.id


def info_statement(condition: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The columns `infos` reads, of the runs matching `condition` (a condition on
    `contexts` joined to `runs`), in no order."""
    runs, contexts = schema.runs, schema.contexts
    experiment = contexts.alias("experiment")
    return (
        sa.select(
            contexts,
            runs.c.experiment_id,
            runs.c.run_type,
            runs.c.state,
            runs.c.provenance,
            runs.c.start_time,
            runs.c.end_time,
            experiment.c.resource_id.label("experiment_resource_id"),
        )
        .join(runs, runs.c.context_id == contexts.c.id)
        .outerjoin(experiment, experiment.c.id == runs.c.experiment_id)
        .where(condition)
    )


def infos(connection: Connection, store: StoreName, rows: Sequence[Any]) -> list[RunInfo]:
    """The runs of `rows` (of `info_statement`), in their order: one more query for the
    contexts' parents whatever their number."""
    spec = nodes.SPECS[Context]
    run_contexts = nodes.with_parents(
        connection,
        spec,
        [(row.id, codec.context_from_row(row._mapping, store)) for row in rows],
    )
    return [
        RunInfo(
            context=context,
            experiment=(
                f"{store}/contexts/{row.experiment_resource_id}"
                if row.experiment_id is not None
                else None
            ),
            run_type=row.run_type,
            state=ExecutionState[row.state],
            provenance=row.provenance,
            start_time=codec.from_micros(row.start_time),
            end_time=codec.from_micros(row.end_time) if row.end_time is not None else None,
        )
        for context, row in zip(run_contexts, rows, strict=True)
    ]


def get(connection: Connection, stores: StoreIds, run: str) -> RunInfo:
    ref = resolve(connection, stores, run, "contexts")
    rows = connection.execute(info_statement(schema.contexts.c.id == ref.id)).all()
    found = infos(connection, ref.name.parent, rows)
    if not found:
        raise NotFoundError(f"ExperimentRun {run} not found (the context is not a run)")
    return found[0]


def update(
    connection: Connection,
    stores: StoreIds,
    run: str,
    *,
    state: ExecutionState | None,
    provenance: Mapping[str, Any] | None,
) -> RunInfo:
    pk = run_pk(connection, stores, run)
    runs = schema.runs
    values: dict[str, Any] = {}
    if state is not None:
        if not isinstance(state, ExecutionState):
            raise InvalidArgumentError("state", f"must be an ExecutionState, got {state!r}")
        values["state"] = state.name
        values["end_time"] = codec.now_micros() if state in TERMINAL_STATES else None
    if provenance:
        current = connection.execute(  # locked: concurrent merges must not lose keys
            sa.select(runs.c.provenance).where(runs.c.context_id == pk).with_for_update()
        ).scalar_one()
        values["provenance"] = check_metadata({**current, **provenance}, "provenance")
    if values:
        connection.execute(runs.update().where(runs.c.context_id == pk).values(**values))
    return get(connection, stores, run)


def _param_row(run_pk: int, key: str, value: ParamValue) -> dict[str, Any]:
    if isinstance(value, bool):
        return {
            "run_id": run_pk,
            "key": key,
            "value_type": "bool",
            "value_text": "true" if value else "false",
            "value_number": None,
        }
    if isinstance(value, int):
        return {
            "run_id": run_pk,
            "key": key,
            "value_type": "int",
            "value_text": str(value),
            "value_number": float(value) if abs(value) < 2**1023 else None,
        }
    if isinstance(value, float):
        return {
            "run_id": run_pk,
            "key": key,
            "value_type": "float",
            "value_text": repr(float(value)),
            "value_number": codec.nan_to_null(value),
        }
    return {
        "run_id": run_pk,
        "key": key,
        "value_type": "str",
        "value_text": value,
        "value_number": None,
    }


def param_value(value_type: str, text: str) -> ParamValue:
    if value_type == "bool":
        return text == "true"
    if value_type == "int":
        return int(text)
    if value_type == "float":
        return float(text)
    return text


def log_params(
    connection: Connection, stores: StoreIds, run: str, params: Mapping[str, ParamValue]
) -> None:
    pk = run_pk(connection, stores, run, cached=True)
    _upsert(
        connection,
        schema.run_params,
        [_param_row(pk, k, v) for k, v in params.items()],
        ("run_id", "key"),
    )


def log_metrics(
    connection: Connection, stores: StoreIds, run: str, metrics: Mapping[str, float]
) -> None:
    pk = run_pk(connection, stores, run, cached=True)
    now = codec.now_micros()
    rows = [
        {"run_id": pk, "key": k, "value": codec.nan_to_null(v), "update_time": now}
        for k, v in metrics.items()
    ]
    _upsert(connection, schema.run_metrics, rows, ("run_id", "key"))


_LOCK_RUN = (
    sa.select(schema.runs.c.context_id)
    .where(schema.runs.c.context_id == sa.bindparam("run_id"))
    .with_for_update()
)

_LAST_STEP = sa.select(sa.func.max(schema.time_series.c.step)).where(
    schema.time_series.c.run_id == sa.bindparam("run_id")
)


_RECORDED_STEP = sa.select(schema.time_series_requests.c.step).where(
    schema.time_series_requests.c.run_id == sa.bindparam("run_id"),
    schema.time_series_requests.c.request_id == sa.bindparam("request_id"),
)


def check_request_id(request_id: Any) -> str:
    if not isinstance(request_id, str) or not 1 <= len(request_id) <= 64:
        raise InvalidArgumentError("request_id", "must be a string of 1-64 characters")
    return request_id


def write_time_series(
    connection: Connection,
    stores: StoreIds,
    run: str,
    metrics: Mapping[str, float],
    step: int | None,
    wall_time: datetime | None,
    request_id: str | None = None,
) -> int:
    """Write one point per metric; returns the step. Without a step, a `request_id` seen
    before returns the step it chose then (a concurrent twin of the request fails on the
    primary key, and `SqlStore._run_write`'s retry finds the step recorded)."""
    pk = run_pk(connection, stores, run, cached=True)
    series = schema.time_series
    if step is None:
        # Writers without a step take turns per run (PostgreSQL; SQLite writes one at a
        # time): two reading the same last step would both write the next one.
        connection.execute(_LOCK_RUN, {"run_id": pk})
        if request_id is not None:
            recorded = connection.execute(
                _RECORDED_STEP, {"run_id": pk, "request_id": request_id}
            ).scalar()
            if recorded is not None:
                return int(recorded)
        last = connection.execute(_LAST_STEP, {"run_id": pk}).scalar()
        step = 0 if last is None else last + 1
        if request_id is not None:
            connection.execute(
                schema.time_series_requests.insert().values(
                    run_id=pk, request_id=request_id, step=step, create_time=codec.now_micros()
                )
            )
    when = codec.to_micros(wall_time) if wall_time is not None else codec.now_micros()
    rows = [
        {"run_id": pk, "key": k, "step": step, "value": codec.nan_to_null(v), "wall_time": when}
        for k, v in metrics.items()
    ]
    _upsert(connection, series, rows, ("run_id", "key", "step"))
    return step


def write_points(
    connection: Connection, stores: StoreIds, run: str, points: Sequence[TimeSeriesPoint]
) -> None:
    pk = run_pk(connection, stores, run, cached=True)
    rows = [
        {
            "run_id": pk,
            "key": p.key,
            "step": p.step,
            "value": codec.nan_to_null(p.value),
            "wall_time": codec.to_micros(p.wall_time),
        }
        for p in points
    ]
    _upsert(connection, schema.time_series, rows, ("run_id", "key", "step"))


def get_params(connection: Connection, stores: StoreIds, run: str) -> dict[str, ParamValue]:
    pk = run_pk(connection, stores, run)
    params = schema.run_params
    rows = connection.execute(
        sa.select(params.c.key, params.c.value_type, params.c.value_text)
        .where(params.c.run_id == pk)
        .order_by(params.c.key)
    )
    return {key: param_value(kind, text) for key, kind, text in rows}


def get_metrics(connection: Connection, stores: StoreIds, run: str) -> dict[str, float]:
    pk = run_pk(connection, stores, run)
    metrics = schema.run_metrics
    rows = connection.execute(
        sa.select(metrics.c.key, metrics.c.value)
        .where(metrics.c.run_id == pk)
        .order_by(metrics.c.key)
    )
    return {key: codec.null_to_nan(value) for key, value in rows}


def read_time_series(
    connection: Connection,
    stores: StoreIds,
    run: str,
    keys: Sequence[str] | None,
    max_points: int | None = None,
) -> list[TimeSeriesPoint]:
    pk = run_pk(connection, stores, run)
    series = schema.time_series
    if max_points is not None:
        rows: Sequence[Any] = downsample.downsampled_rows(connection, series, pk, keys, max_points)
    else:
        statement = sa.select(
            series.c.key, series.c.step, series.c.value, series.c.wall_time
        ).where(series.c.run_id == pk)
        if keys is not None:
            statement = statement.where(series.c.key.in_(list(keys)))
        rows = connection.execute(statement.order_by(series.c.key, series.c.step)).all()
    return [
        TimeSeriesPoint(k, s, codec.null_to_nan(v), codec.from_micros(w)) for k, s, v, w in rows
    ]
