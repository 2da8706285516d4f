"""Vertex AI's TensorboardService, as views of mlineage's experiments, runs and time series.

Tensorboards are rows of their own (`schema.tensorboards`). Everything under one is a view
of the `default` metadata store of the tensorboard's project and location, so the two SDKs
read and write the same data:

- `{tensorboard}/experiments/{e}` is the experiment context `e` (`system.Experiment`);
- `{experiment}/runs/{r}` is the run context `{e}-{r}`, the id the Vertex SDK gives a run;
- `{run}/timeSeries/{id}` is the metric key `id` stands for among the run's time-series
  points. The id is the key itself when the key is a valid id (lowercase letters, digits and
  hyphens), otherwise `x--` and the key in lowercase base32, so ids always map back to keys.

A time series the Vertex SDK creates before writing to it is remembered in the run's record
(`provenance["tensorboard_time_series"]`) so it is listed while it has no points yet.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage import query
from mlineage.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mlineage.query.target import Field, FieldType, FilterTarget
from mlineage.store import codec, downsample, nodes, pagination, run_view, runs, schema
from mlineage.store.base import (
    ScalarPoint,
    Tensorboard,
    TensorboardExperiment,
    TensorboardRun,
    TensorboardTimeSeries,
    TimeSeriesData,
)
from mlineage.store.scope import StoreIds
from mlineage.types import Context, ExecutionState, StoreName, TimeSeriesPoint
from mlineage.validation import (
    MAX_DESCRIPTION_LENGTH,
    MAX_DISPLAY_NAME_LENGTH,
    check_key,
    check_labels,
    check_metrics,
    check_step,
    check_text,
)

__all__ = [
    "DECLARED_SERIES_KEY",
    "TensorboardName",
    "series_id",
    "series_key",
]

DECLARED_SERIES_KEY = "tensorboard_time_series"
"""The run-record provenance key listing series created before their first point."""

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_NAME_RE = re.compile(
    rf"^projects/(?P<project>{_SEGMENT})/locations/(?P<location>{_SEGMENT})"
    r"/tensorboards/(?P<tensorboard>[^/]+)"
    r"(?:/experiments/(?P<experiment>[^/]+)"
    r"(?:/runs/(?P<run>[^/]+)"
    r"(?:/timeSeries/(?P<series>[^/]+))?)?)?$"
)
_LOCATION_RE = re.compile(rf"^projects/(?P<project>{_SEGMENT})/locations/(?P<location>{_SEGMENT})$")
_LEVELS = ("tensorboard", "experiment", "run", "series")
_READABLE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?$")
_ENCODED_PREFIX = "x--"
_SHAPES = {
    "tensorboard": "projects/{p}/locations/{l}/tensorboards/{t}",
    "experiment": "projects/{p}/locations/{l}/tensorboards/{t}/experiments/{e}",
    "run": "projects/{p}/locations/{l}/tensorboards/{t}/experiments/{e}/runs/{r}",
    "series": "projects/{p}/locations/{l}/tensorboards/{t}/experiments/{e}/runs/{r}/timeSeries/{s}",
}


@dataclass(frozen=True, slots=True)
class TensorboardName:
    """A parsed tensorboard, experiment, run or time-series name."""

    project: str
    location: str
    tensorboard: str
    experiment: str = ""
    run: str = ""
    series: str = ""

    @classmethod
    def parse(cls, name: str, level: str, field: str = "name") -> TensorboardName:
        match = _NAME_RE.match(name) if isinstance(name, str) else None
        depth = _LEVELS.index(level)
        if match is None or any(
            (match[part] is not None) != (i <= depth) for i, part in enumerate(_LEVELS)
        ):
            raise InvalidArgumentError(
                field, f"{name!r} is not a name of the form {_SHAPES[level]}"
            )
        return cls(
            match["project"],
            match["location"],
            match["tensorboard"],
            match["experiment"] or "",
            match["run"] or "",
            match["series"] or "",
        )

    @property
    def store(self) -> StoreName:
        """The metadata store its experiments and runs live in."""
        return StoreName(self.project, self.location, "default")

    @property
    def tensorboard_name(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/tensorboards/{self.tensorboard}"

    @property
    def experiment_name(self) -> str:
        return f"{self.tensorboard_name}/experiments/{self.experiment}"

    @property
    def run_name(self) -> str:
        return f"{self.experiment_name}/runs/{self.run}"

    @property
    def experiment_context(self) -> str:
        return str(self.store.child("contexts", self.experiment))

    @property
    def run_context(self) -> str:
        return str(self.store.child("contexts", f"{self.experiment}-{self.run}"))


def parse_location(parent: str) -> tuple[str, str]:
    match = _LOCATION_RE.match(parent) if isinstance(parent, str) else None
    if match is None:
        raise InvalidArgumentError(
            "parent", f"{parent!r} is not a location name (projects/{{p}}/locations/{{l}})"
        )
    return match["project"], match["location"]


# -- time-series ids ---------------------------------------------------------------------------
def series_id(key: str) -> str:
    """The time-series id of metric `key` (see the module doc)."""
    if _READABLE_ID.match(key) and not key.startswith(_ENCODED_PREFIX):
        return key
    encoded = base64.b32encode(key.encode()).decode().rstrip("=").lower()
    return f"{_ENCODED_PREFIX}{encoded}"


def series_key(time_series_id: str, field: str = "time_series") -> str:
    """The metric key a time-series id stands for; INVALID_ARGUMENT for an id that is
    neither a key nor an encoded one."""
    if time_series_id.startswith(_ENCODED_PREFIX):
        text = time_series_id[len(_ENCODED_PREFIX) :].upper()
        try:
            key = base64.b32decode(text + "=" * (-len(text) % 8)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            key = ""
        if key and series_id(key) == time_series_id:
            return key
    elif _READABLE_ID.match(time_series_id):
        return time_series_id
    raise InvalidArgumentError(field, f"{time_series_id!r} is not a time series id of this server")


# -- tensorboards ----------------------------------------------------------------------------
_TB = schema.tensorboards
_TARGET = FilterTarget(
    "tensorboards",
    {
        name: column
        for names, column in (
            (("display_name", "displayName"), Field(_TB.c.display_name)),
            (
                ("is_default", "isDefault"),
                Field(
                    sa.case((_TB.c.is_default == 1, "true"), else_="false"),
                    FieldType.ENUM,
                    frozenset({"true", "false"}),
                ),
            ),
            (("create_time", "createTime"), Field(_TB.c.create_time, FieldType.TIME)),
            (("update_time", "updateTime"), Field(_TB.c.update_time, FieldType.TIME)),
        )
        for name in names
    },
)


def _tensorboard(row: Mapping[Any, Any]) -> Tensorboard:
    return Tensorboard(
        name=f"projects/{row['project']}/locations/{row['location']}"
        f"/tensorboards/{row['tensorboard_id']}",
        display_name=row["display_name"],
        description=row["description"],
        labels=dict(row["labels"]),
        is_default=bool(row["is_default"]),
        etag=str(row["etag"]),
        create_time=codec.from_micros(row["create_time"]),
        update_time=codec.from_micros(row["update_time"]),
    )


def create_tensorboard(
    connection: Connection, parent: str, tensorboard: Tensorboard
) -> Tensorboard:
    project, location = parse_location(parent)
    display_name = check_text(
        tensorboard.display_name, "tensorboard.display_name", MAX_DISPLAY_NAME_LENGTH
    )
    if not display_name:
        raise InvalidArgumentError("tensorboard.display_name", "must not be empty")
    values = {
        "project": project,
        "location": location,
        "display_name": display_name,
        "description": check_text(
            tensorboard.description, "tensorboard.description", MAX_DESCRIPTION_LENGTH
        ),
        "labels": check_labels(tensorboard.labels, "tensorboard.labels"),
        "is_default": 1 if tensorboard.is_default else 0,
        "etag": 1,
    }
    if tensorboard.is_default:  # one default per location, as in Vertex AI
        connection.execute(
            _TB.update()
            .where(_TB.c.project == project, _TB.c.location == location, _TB.c.is_default == 1)
            .values(is_default=0, etag=_TB.c.etag + 1, update_time=codec.now_micros())
        )
    now = codec.now_micros()
    tensorboard_id = str(10**18 + secrets.randbelow(9 * 10**18))  # numeric, as Vertex's are
    connection.execute(
        _TB.insert().values(
            **values, tensorboard_id=tensorboard_id, create_time=now, update_time=now
        )
    )
    return get_tensorboard(connection, f"{parent}/tensorboards/{tensorboard_id}")


def _tensorboard_row(connection: Connection, name: TensorboardName) -> Mapping[Any, Any]:
    row = (
        connection.execute(
            sa.select(_TB).where(
                _TB.c.project == name.project,
                _TB.c.location == name.location,
                _TB.c.tensorboard_id == name.tensorboard,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"Tensorboard {name.tensorboard_name} not found")
    return row


def get_tensorboard(connection: Connection, name: str) -> Tensorboard:
    return _tensorboard(_tensorboard_row(connection, TensorboardName.parse(name, "tensorboard")))


def list_tensorboards(
    connection: Connection,
    parent: str,
    *,
    filter: str | None,
    page_size: int | None,
    page_token: str | None,
) -> tuple[list[Tensorboard], str]:
    project, location = parse_location(parent)
    where = query.filter_clause(filter, _TARGET)
    limit = pagination.check_page_size(page_size)
    keys = [pagination.SortKey(_TB.c.create_time), pagination.SortKey(_TB.c.id)]
    fingerprint = pagination.query_fingerprint("tensorboards", parent, filter)
    statement = sa.select(_TB).where(_TB.c.project == project, _TB.c.location == location)
    if where is not None:
        statement = statement.where(where)
    if page_token:
        values = pagination.decode_token(page_token, fingerprint, len(keys))
        statement = statement.where(pagination.after(keys, values))
    statement = statement.order_by(_TB.c.create_time, _TB.c.id)
    if limit is not None:
        statement = statement.limit(limit + 1)
    rows = connection.execute(statement).mappings().all()
    token = ""
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        token = pagination.encode_token([rows[-1]["create_time"], rows[-1]["id"]], fingerprint)
    return [_tensorboard(row) for row in rows], token


# -- experiments -------------------------------------------------------------------------------
def _experiment(name: TensorboardName, context: Context) -> TensorboardExperiment:
    return TensorboardExperiment(
        name=name.experiment_name,
        display_name=context.display_name,
        description=context.description,
        labels=dict(context.labels),
        etag=context.etag,
        create_time=context.create_time,
        update_time=context.update_time,
    )


def _experiment_context(connection: Connection, stores: StoreIds, name: TensorboardName) -> Context:
    context: Context | None
    try:
        context = nodes.fetch(connection, stores, name.experiment_context, nodes.SPECS[Context])
    except (NotFoundError, InvalidArgumentError):
        context = None
    if context is None or context.schema_title != run_view.EXPERIMENT_TITLE:
        raise NotFoundError(f"TensorboardExperiment {name.experiment_name} not found")
    return context


def get_tensorboard_experiment(
    connection: Connection, stores: StoreIds, name: str
) -> TensorboardExperiment:
    parsed = TensorboardName.parse(name, "experiment")
    _tensorboard_row(connection, parsed)
    return _experiment(parsed, _experiment_context(connection, stores, parsed))


def create_tensorboard_experiment(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    parent: str,
    experiment: TensorboardExperiment,
    experiment_id: str,
) -> TensorboardExperiment:
    """Create the experiment context (as both SDKs' `Experiment.create` do)."""
    tensorboard = TensorboardName.parse(parent, "tensorboard", "parent")
    _tensorboard_row(connection, tensorboard)
    name = TensorboardName.parse(
        f"{tensorboard.tensorboard_name}/experiments/{experiment_id}", "experiment"
    )
    context = Context(
        schema_title=run_view.EXPERIMENT_TITLE,
        display_name=experiment.display_name or experiment_id,
        description=experiment.description,
        labels=experiment.labels,
        metadata={"experiment_deleted": False},
    )
    try:
        (created,) = nodes.insert(
            connection, store_pk, name.store, nodes.SPECS[Context], [context], [experiment_id]
        )
    except AlreadyExistsError:
        raise AlreadyExistsError(
            f"TensorboardExperiment {name.experiment_name} already exists"
        ) from None
    return _experiment(name, created)


# -- runs --------------------------------------------------------------------------------------
def _run(name: TensorboardName, context: Context) -> TensorboardRun:
    return TensorboardRun(
        name=name.run_name,
        display_name=context.display_name,
        description=context.description,
        labels=dict(context.labels),
        etag=context.etag,
        create_time=context.create_time,
        update_time=context.update_time,
    )


def _run_pk(
    connection: Connection, stores: StoreIds, name: TensorboardName, *, cached: bool = False
) -> int:
    """The run's row id; `cached` as in `runs.run_pk` (for writes only)."""
    try:
        return runs.run_pk(connection, stores, name.run_context, cached=cached)
    except (NotFoundError, InvalidArgumentError):
        raise NotFoundError(f"TensorboardRun {name.run_name} not found") from None


def get_tensorboard_run(connection: Connection, stores: StoreIds, name: str) -> TensorboardRun:
    parsed = TensorboardName.parse(name, "run")
    _tensorboard_row(connection, parsed)
    _experiment_context(connection, stores, parsed)
    _run_pk(connection, stores, parsed)
    context = nodes.fetch(connection, stores, parsed.run_context, nodes.SPECS[Context])
    return _run(parsed, context)


def create_tensorboard_run(
    connection: Connection,
    stores: StoreIds,
    store_pk: int,
    parent: str,
    run: TensorboardRun,
    run_id: str,
) -> TensorboardRun:
    """Create run `{e}-{run_id}` (a `system.ExperimentRun` context) in experiment `e`."""
    experiment = TensorboardName.parse(parent, "experiment", "parent")
    _tensorboard_row(connection, experiment)
    _experiment_context(connection, stores, experiment)
    name = TensorboardName.parse(f"{experiment.experiment_name}/runs/{run_id}", "run")
    context = Context(
        schema_title="system.ExperimentRun",
        display_name=run.display_name or run_id,
        description=run.description,
        labels=run.labels,
    )
    try:
        info = runs.create(
            connection,
            stores,
            store_pk,
            name.store,
            context,
            f"{name.experiment}-{name.run}",
            experiment=name.experiment_context,
            state=ExecutionState.RUNNING,
            provenance=None,
        )
    except AlreadyExistsError:
        raise AlreadyExistsError(f"TensorboardRun {name.run_name} already exists") from None
    return _run(name, info.context)


def delete_tensorboard_run(connection: Connection, stores: StoreIds, name: str) -> None:
    """Delete the run's time series (points and declarations). The run itself is the
    metadata run context, which stays until it is deleted as a context."""
    parsed = TensorboardName.parse(name, "run")
    _tensorboard_row(connection, parsed)
    run_pk = _run_pk(connection, stores, parsed)
    for table in (schema.time_series, schema.time_series_requests):
        connection.execute(table.delete().where(table.c.run_id == run_pk))
    _set_declared(connection, run_pk, {})


# -- time series -------------------------------------------------------------------------------
def _declared(connection: Connection, run_pk: int) -> dict[str, int]:
    """Series created before their first point: key -> creation time (micros)."""
    provenance = connection.execute(
        sa.select(schema.runs.c.provenance).where(schema.runs.c.context_id == run_pk)
    ).scalar_one()
    declared = provenance.get(DECLARED_SERIES_KEY, {})
    return dict(declared) if isinstance(declared, dict) else {}


def _set_declared(connection: Connection, run_pk: int, declared: dict[str, int]) -> None:
    table = schema.runs
    provenance = connection.execute(
        sa.select(table.c.provenance).where(table.c.context_id == run_pk)
    ).scalar_one()
    provenance = {k: v for k, v in provenance.items() if k != DECLARED_SERIES_KEY}
    if declared:
        provenance[DECLARED_SERIES_KEY] = declared
    connection.execute(
        table.update().where(table.c.context_id == run_pk).values(provenance=provenance)
    )


def _series_stats(
    connection: Connection, run_pk: int, keys: Sequence[str] | None = None
) -> dict[str, tuple[int, int, int]]:
    """key -> (first wall time, last wall time, max step) of the run's points."""
    table = schema.time_series
    statement = (
        sa.select(
            table.c.key,
            sa.func.min(table.c.wall_time),
            sa.func.max(table.c.wall_time),
            sa.func.max(table.c.step),
        )
        .where(table.c.run_id == run_pk)
        .group_by(table.c.key)
    )
    if keys is not None:
        statement = statement.where(table.c.key.in_(list(keys)))
    return {key: (first, last, step) for key, first, last, step in connection.execute(statement)}


def _series(
    run: TensorboardName, key: str, declared: int | None, stats: tuple[int, int, int] | None
) -> TensorboardTimeSeries:
    created = declared if declared is not None else stats[0] if stats else codec.now_micros()
    updated = stats[1] if stats else created
    return TensorboardTimeSeries(
        name=f"{run.run_name}/timeSeries/{series_id(key)}",
        display_name=key,
        create_time=codec.from_micros(created),
        update_time=codec.from_micros(max(created, updated)),
        max_step=stats[2] if stats else None,
        max_wall_time=codec.from_micros(stats[1]) if stats else None,
    )


def _run_of_series(
    connection: Connection, stores: StoreIds, name: TensorboardName
) -> tuple[int, TensorboardName]:
    _tensorboard_row(connection, name)
    return _run_pk(connection, stores, name), name


def create_tensorboard_time_series(
    connection: Connection, stores: StoreIds, parent: str, series: TensorboardTimeSeries
) -> TensorboardTimeSeries:
    run_pk, run = _run_of_series(connection, stores, TensorboardName.parse(parent, "run", "parent"))
    key = check_key(series.display_name, "tensorboard_time_series.display_name")
    if series.value_type != "SCALAR":
        raise InvalidArgumentError(
            "tensorboard_time_series.value_type",
            f"only SCALAR time series are stored, got {series.value_type}",
        )
    declared = _declared(connection, run_pk)
    if key in declared or _series_stats(connection, run_pk, [key]):
        raise AlreadyExistsError(
            f"TensorboardTimeSeries {run.run_name}/timeSeries/{series_id(key)} already exists"
        )
    now = codec.now_micros()
    _set_declared(connection, run_pk, {**declared, key: now})
    return _series(run, key, now, None)


def get_tensorboard_time_series(
    connection: Connection, stores: StoreIds, name: str
) -> TensorboardTimeSeries:
    parsed = TensorboardName.parse(name, "series")
    key = series_key(parsed.series, "name")
    run_pk, _ = _run_of_series(connection, stores, parsed)
    declared = _declared(connection, run_pk).get(key)
    stats = _series_stats(connection, run_pk, [key]).get(key)
    if declared is None and stats is None:
        raise NotFoundError(f"TensorboardTimeSeries {name} not found")
    return _series(parsed, key, declared, stats)


def list_tensorboard_time_series(
    connection: Connection,
    stores: StoreIds,
    parent: str,
    *,
    page_size: int | None,
    page_token: str | None,
) -> tuple[list[TensorboardTimeSeries], str]:
    run_pk, run = _run_of_series(connection, stores, TensorboardName.parse(parent, "run", "parent"))
    declared = _declared(connection, run_pk)
    stats = _series_stats(connection, run_pk)
    keys = sorted(set(declared) | set(stats))
    limit = pagination.check_page_size(page_size)
    fingerprint = pagination.query_fingerprint("timeSeries", parent)
    if page_token:
        (after,) = pagination.decode_token(page_token, fingerprint, 1)
        pagination.check_values([after], sa.String())
        keys = [k for k in keys if k > after]
    token = ""
    if limit is not None and len(keys) > limit:
        keys = keys[:limit]
        token = pagination.encode_token([keys[-1]], fingerprint)
    return [_series(run, k, declared.get(k), stats.get(k)) for k in keys], token


def write_run_data(
    connection: Connection, stores: StoreIds, run: str, data: Sequence[TimeSeriesData]
) -> None:
    """Write the points of `data` to run `run` (a TensorboardRun name). A series declared
    before its first point is listed from its points from then on (the declaration goes)."""
    parsed = TensorboardName.parse(run, "run", "tensorboard_run")
    _tensorboard_row(connection, parsed)
    run_pk = _run_pk(connection, stores, parsed, cached=True)
    points = []
    for i, d in enumerate(data):
        field = f"time_series_data[{i}]"
        key = series_key(d.time_series_id, f"{field}.tensorboard_time_series_id")
        for j, p in enumerate(d.values):
            try:
                step = check_step(p.step)
                (value,) = check_metrics({key: p.value}, f"{field}.values").values()
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"{field}.values[{j}]", exc.rule) from None
            points.append(TimeSeriesPoint(key, step, value, p.wall_time))
    runs.write_points(connection, stores, parsed.run_context, points)
    declared = _declared(connection, run_pk)
    if declared and any(p.key in declared for p in points):
        written = {p.key for p in points}
        _set_declared(connection, run_pk, {k: v for k, v in declared.items() if k not in written})


def read_time_series_data(
    connection: Connection,
    stores: StoreIds,
    tensorboard: str,
    time_series: Sequence[str],
    *,
    max_points: int | None = None,
) -> list[TimeSeriesData]:
    if max_points is not None:
        max_points = downsample.check_max_points(max_points)
    board = TensorboardName.parse(tensorboard, "tensorboard", "tensorboard")
    _tensorboard_row(connection, board)
    wanted: list[tuple[TensorboardName, str]] = []
    for i, name in enumerate(time_series):
        parsed = TensorboardName.parse(name, "series", f"time_series[{i}]")
        if parsed.tensorboard_name != board.tensorboard_name:
            raise InvalidArgumentError(
                f"time_series[{i}]", f"{name!r} is not a time series of {tensorboard}"
            )
        wanted.append((parsed, series_key(parsed.series, f"time_series[{i}]")))
    by_run: dict[str, list[str]] = defaultdict(list)
    run_pks: dict[str, int] = {}
    for parsed, key in wanted:
        if parsed.run_context not in run_pks:
            run_pks[parsed.run_context] = _run_pk(connection, stores, parsed)
        by_run[parsed.run_context].append(key)
    points: dict[tuple[str, str], list[ScalarPoint]] = defaultdict(list)
    table = schema.time_series
    for run_context, keys in by_run.items():  # one query per run, not per series
        unique = sorted(set(keys))
        rows: Any  # (key, step, value, wall_time) rows
        if max_points is not None:
            rows = downsample.downsampled_rows(
                connection, table, run_pks[run_context], unique, max_points
            )
        else:
            rows = connection.execute(
                sa.select(table.c.key, table.c.step, table.c.value, table.c.wall_time)
                .where(table.c.run_id == run_pks[run_context], table.c.key.in_(unique))
                .order_by(table.c.key, table.c.step)
            ).all()
        for key, step, value, wall_time in rows:
            points[(run_context, key)].append(
                ScalarPoint(step, codec.null_to_nan(value), codec.from_micros(wall_time))
            )
    return [
        TimeSeriesData(parsed.series, points.get((parsed.run_context, key), []))
        for parsed, key in wanted
    ]
