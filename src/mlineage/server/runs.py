"""Experiment runs over REST: mlineage's custom methods on run contexts.

A run is a context with a run record; these methods are what the store contract offers for
runs and Vertex's MetadataService lacks (Vertex keeps params and metrics inside the run
context's metadata; mlineage keeps them in narrow tables and shows both).

    POST  {store}/contexts:createRun           create_run
    GET   {context}/run                        get_run (the run record of a context)
    PATCH {context}/run                        update_run (state, provenance)
    GET   {experiment}:listRuns?filter=&pageSize=&pageToken=
                                               list_runs
    GET   {experiment}:countRuns?filter=       count_runs
    POST  {run}:logParams / :logMetrics        log_params / log_metrics (batch upserts)
    POST  {run}:writeTimeSeries                write_time_series (one step, requestId)
    POST  {run}:writeTimeSeriesPoints          write_time_series_points (many, one transaction)
    GET   {run}:readParams / :readMetrics / :readTimeSeries?keys=&maxPoints=
    GET   {experiment}:experimentRows?includeTimeSeries=&filter=&pageSize=&pageToken=
                                               experiment_rows

The two lists page as every list of the API does (AIP-158): at most the server's
`max_page_size` runs per response, also when `pageSize` is absent, and a `nextPageToken`
while more follow.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from mlineage.server.app import store_of
from mlineage.server.rest import STORE_PATH, max_points_of, page_size_of, respond
from mlineage.store import MetadataStore
from mlineage.types import StoreName
from mlineage.wire.messages import (
    CountRunsResponse,
    CreateRunRequest,
    Empty,
    ExperimentRowsResponse,
    ListRunsResponse,
    LogMetricsRequest,
    LogParamsRequest,
    ReadMetricsResponse,
    ReadParamsResponse,
    ReadTimeSeriesResponse,
    UpdateRunRequest,
    WriteTimeSeriesPointsRequest,
    WriteTimeSeriesRequest,
    WriteTimeSeriesResponse,
)
from mlineage.wire.runs import (
    ExperimentRowJson,
    RunJson,
    TimeSeriesPointJson,
    params_from_json,
    params_to_json,
)

__all__ = ["router"]

router = APIRouter(tags=["Runs (mlineage)"])
Store = Annotated[MetadataStore, Depends(store_of)]
CONTEXT = f"{STORE_PATH}/contexts/{{context:rid}}"


def _context(project: str, location: str, store: str, context: str) -> str:
    return f"{StoreName(project, location, store)}/contexts/{context}"


@router.post(f"{STORE_PATH}/contexts:createRun", response_model=RunJson, name="CreateRun")
def create_run(
    request: Request, project: str, location: str, store: str, body: CreateRunRequest, db: Store
) -> Response:
    """Create a run context (a child of `experiment` when given) and its run record."""
    run = db.create_run(
        StoreName(project, location, store),
        body.context.to_domain(),
        body.run_id,
        experiment=body.experiment,
        state=body.state,
        provenance=body.provenance,
    )
    return respond(request, RunJson.from_domain(run))


@router.get(f"{CONTEXT}/run", response_model=RunJson, name="GetRun")
def get_run(
    request: Request, project: str, location: str, store: str, context: str, db: Store
) -> Response:
    return respond(
        request, RunJson.from_domain(db.get_run(_context(project, location, store, context)))
    )


@router.patch(f"{CONTEXT}/run", response_model=RunJson, name="UpdateRun")
def update_run(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: UpdateRunRequest,
    db: Store,
) -> Response:
    """Set the state (a terminal one ends the run) and/or merge provenance."""
    run = db.update_run(
        _context(project, location, store, context),
        state=body.state,
        provenance=body.provenance,
    )
    return respond(request, RunJson.from_domain(run))


@router.get(f"{CONTEXT}:listRuns", response_model=ListRunsResponse, name="ListRuns")
def list_runs(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    db: Store,
    filter: str | None = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    """One page of the runs of an experiment, oldest first; `filter` adds
    `param.<k>`/`metric.<k>`."""
    page = db.list_runs(
        _context(project, location, store, context),
        filter=filter or None,
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    found = [RunJson.from_domain(r) for r in page.items]
    return respond(request, ListRunsResponse(runs=found, next_page_token=page.next_page_token))


@router.get(f"{CONTEXT}:countRuns", response_model=CountRunsResponse, name="CountRuns")
def count_runs(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    db: Store,
    filter: str | None = None,
) -> Response:
    """How many runs ListRuns would return (the same `filter`), in one query."""
    count = db.count_runs(_context(project, location, store, context), filter=filter or None)
    return respond(request, CountRunsResponse(count=count))


@router.post(f"{CONTEXT}:logParams", response_model=Empty, name="LogParams")
def log_params(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: LogParamsRequest,
    db: Store,
) -> Response:
    db.log_params(_context(project, location, store, context), params_from_json(body.params))
    return respond(request, Empty())


@router.post(f"{CONTEXT}:logMetrics", response_model=Empty, name="LogMetrics")
def log_metrics(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: LogMetricsRequest,
    db: Store,
) -> Response:
    """Upsert summary metrics, all in one transaction."""
    db.log_metrics(_context(project, location, store, context), body.metrics)
    return respond(request, Empty())


@router.post(
    f"{CONTEXT}:writeTimeSeries", response_model=WriteTimeSeriesResponse, name="WriteTimeSeries"
)
def write_time_series(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: WriteTimeSeriesRequest,
    db: Store,
) -> Response:
    """One point per metric at `step` (default: last step + 1); returns the step used."""
    step = db.write_time_series(
        _context(project, location, store, context),
        body.metrics,
        step=body.step,
        wall_time=body.wall_time,
        request_id=body.request_id,
    )
    return respond(request, WriteTimeSeriesResponse(step=step))


@router.post(f"{CONTEXT}:writeTimeSeriesPoints", response_model=Empty, name="WriteTimeSeriesPoints")
def write_time_series_points(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: WriteTimeSeriesPointsRequest,
    db: Store,
) -> Response:
    """Many points (e.g. 1,000) in one request and one transaction."""
    points = [point.to_domain() for point in body.points]
    db.write_time_series_points(_context(project, location, store, context), points)
    return respond(request, Empty())


@router.get(f"{CONTEXT}:readParams", response_model=ReadParamsResponse, name="ReadParams")
def read_params(
    request: Request, project: str, location: str, store: str, context: str, db: Store
) -> Response:
    params = db.get_params(_context(project, location, store, context))
    return respond(request, ReadParamsResponse(params=params_to_json(params)))


@router.get(f"{CONTEXT}:readMetrics", response_model=ReadMetricsResponse, name="ReadMetrics")
def read_metrics(
    request: Request, project: str, location: str, store: str, context: str, db: Store
) -> Response:
    metrics = db.get_metrics(_context(project, location, store, context))
    return respond(request, ReadMetricsResponse(metrics=metrics))


@router.get(
    f"{CONTEXT}:readTimeSeries", response_model=ReadTimeSeriesResponse, name="ReadTimeSeries"
)
def read_time_series(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    db: Store,
    keys: Annotated[list[str] | None, Query(description="Metric keys (default: all)")] = None,
    max_points: Annotated[
        int | None,
        Query(
            alias="maxPoints",
            description="Downsample each longer key to at most this many points (>= 4, "
            "cap 10,000); default: every point",
        ),
    ] = None,
) -> Response:
    """A run's points by key then step: every point, as the store contract promises, or
    with `maxPoints` (capped at the server's `max_points_per_series`) each longer key
    downsampled to that many."""
    most = None if max_points is None else max_points_of(request, max_points, "max_points")
    points = db.read_time_series(_context(project, location, store, context), keys, max_points=most)
    return respond(
        request, ReadTimeSeriesResponse(points=[TimeSeriesPointJson.from_domain(p) for p in points])
    )


@router.get(
    f"{CONTEXT}:experimentRows", response_model=ExperimentRowsResponse, name="ExperimentRows"
)
def experiment_rows(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    db: Store,
    include_time_series: Annotated[bool, Query(alias="includeTimeSeries")] = True,
    filter: str | None = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    """One page of the runs of an experiment (or of those `filter` keeps), oldest first,
    with their params, metrics and last series values."""
    page = db.experiment_rows(
        _context(project, location, store, context),
        include_time_series=include_time_series,
        filter=filter or None,
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    rows = [ExperimentRowJson.from_domain(r) for r in page.items]
    return respond(request, ExperimentRowsResponse(rows=rows, next_page_token=page.next_page_token))
