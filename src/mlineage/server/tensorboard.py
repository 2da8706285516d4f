"""TensorboardService: the subset the Vertex SDK uses for time-series metrics, following
Vertex AI's REST mapping. Experiments, runs and time series are views of mlineage's
experiments, runs and time-series points (see `store.tensorboards`).

Each route parses, makes one contract call and serialises.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from mlineage.errors import FailedPreconditionError, InvalidArgumentError
from mlineage.server.app import store_of
from mlineage.server.rest import max_points_of, operation, page_size_of, respond, settings_of
from mlineage.store import MetadataStore
from mlineage.store.base import TensorboardStore
from mlineage.store.tensorboards import series_id
from mlineage.wire.tensorboards import (
    BatchReadTensorboardTimeSeriesDataResponse,
    ListTensorboardsResponse,
    ListTensorboardTimeSeriesResponse,
    ReadTensorboardTimeSeriesDataResponse,
    TensorboardExperimentJson,
    TensorboardJson,
    TensorboardRunJson,
    TensorboardTimeSeriesJson,
    TimeSeriesDataJson,
    WriteTensorboardRunDataRequest,
    WriteTensorboardRunDataResponse,
)

__all__ = ["router"]

router = APIRouter(tags=["TensorboardService"])


def tensorboard_store_of(store: Annotated[MetadataStore, Depends(store_of)]) -> TensorboardStore:
    """The store behind the request, as a TensorboardStore (a FastAPI dependency)."""
    if not isinstance(store, TensorboardStore):
        raise FailedPreconditionError(
            f"this server's store ({type(store).__name__}) does not serve TensorboardService"
        )
    return store


Store = Annotated[TensorboardStore, Depends(tensorboard_store_of)]

LOCATION = "/v1/projects/{project:rid}/locations/{location:rid}"
TENSORBOARD = f"{LOCATION}/tensorboards/{{tensorboard:rid}}"
EXPERIMENT = f"{TENSORBOARD}/experiments/{{experiment:rid}}"
RUN = f"{EXPERIMENT}/runs/{{run:rid}}"
SERIES = f"{RUN}/timeSeries/{{series:rid}}"


def _location(project: str, location: str) -> str:
    return f"projects/{project}/locations/{location}"


def _tensorboard(project: str, location: str, tensorboard: str) -> str:
    return f"{_location(project, location)}/tensorboards/{tensorboard}"


def _experiment(project: str, location: str, tensorboard: str, experiment: str) -> str:
    return f"{_tensorboard(project, location, tensorboard)}/experiments/{experiment}"


def _run(project: str, location: str, tensorboard: str, experiment: str, run: str) -> str:
    return f"{_experiment(project, location, tensorboard, experiment)}/runs/{run}"


# -- tensorboards --------------------------------------------------------------------------
@router.post(
    f"{LOCATION}/tensorboards",
    name="CreateTensorboard",
    summary="Create a tensorboard (a done long-running operation)",
)
def create_tensorboard(
    request: Request, project: str, location: str, body: TensorboardJson, db: Store
) -> Response:
    created = db.create_tensorboard(_location(project, location), body.to_domain())
    response = TensorboardJson.from_domain(created).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    return respond(
        request, operation(created.name, "google.cloud.aiplatform.v1.Tensorboard", response)
    )


@router.get(
    f"{LOCATION}/tensorboards",
    response_model=ListTensorboardsResponse,
    name="ListTensorboards",
    summary="List tensorboards, oldest first; filter e.g. is_default=true",
)
def list_tensorboards(
    request: Request,
    project: str,
    location: str,
    db: Store,
    filter: str | None = None,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    page = db.list_tensorboards(
        _location(project, location),
        filter=filter or None,
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    return respond(
        request,
        ListTensorboardsResponse(
            tensorboards=[TensorboardJson.from_domain(t) for t in page.items],
            next_page_token=page.next_page_token,
        ),
    )


@router.get(
    f"{TENSORBOARD}:batchRead",
    response_model=BatchReadTensorboardTimeSeriesDataResponse,
    name="BatchReadTensorboardTimeSeriesData",
    summary="Read the points of several time series (full names in ?timeSeries=); a series "
    "of more than 1,000 points comes back downsampled to 1,000",
)
def batch_read(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    db: Store,
    time_series: Annotated[list[str] | None, Query(alias="timeSeries")] = None,
) -> Response:
    names = time_series or []
    most = settings_of(request).max_series_per_read
    if len(names) > most:
        raise InvalidArgumentError(
            "time_series", f"names {len(names)} time series; one call reads at most {most}"
        )
    data = db.read_tensorboard_time_series_data(
        _tensorboard(project, location, tensorboard),
        names,
        max_points=settings_of(request).points_per_series,
    )
    return respond(
        request,
        BatchReadTensorboardTimeSeriesDataResponse(
            time_series_data=[TimeSeriesDataJson.from_domain(d) for d in data]
        ),
    )


@router.get(TENSORBOARD, response_model=TensorboardJson, name="GetTensorboard")
def get_tensorboard(
    request: Request, project: str, location: str, tensorboard: str, db: Store
) -> Response:
    found = db.get_tensorboard(_tensorboard(project, location, tensorboard))
    return respond(request, TensorboardJson.from_domain(found))


# -- experiments ---------------------------------------------------------------------------
@router.post(
    f"{TENSORBOARD}/experiments",
    response_model=TensorboardExperimentJson,
    name="CreateTensorboardExperiment",
    summary="Create an experiment (?tensorboardExperimentId= is its id)",
)
def create_experiment(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    db: Store,
    body: TensorboardExperimentJson | None = None,
    experiment_id: Annotated[str | None, Query(alias="tensorboardExperimentId")] = None,
) -> Response:
    if not experiment_id:
        raise InvalidArgumentError("tensorboard_experiment_id", "is required")
    created = db.create_tensorboard_experiment(
        _tensorboard(project, location, tensorboard),
        (body or TensorboardExperimentJson()).to_domain(),
        experiment_id,
    )
    return respond(request, TensorboardExperimentJson.from_domain(created))


@router.get(EXPERIMENT, response_model=TensorboardExperimentJson, name="GetTensorboardExperiment")
def get_experiment(
    request: Request, project: str, location: str, tensorboard: str, experiment: str, db: Store
) -> Response:
    found = db.get_tensorboard_experiment(_experiment(project, location, tensorboard, experiment))
    return respond(request, TensorboardExperimentJson.from_domain(found))


# -- runs ----------------------------------------------------------------------------------
@router.post(
    f"{EXPERIMENT}/runs",
    response_model=TensorboardRunJson,
    name="CreateTensorboardRun",
    summary="Create a run of the experiment (?tensorboardRunId= is its id)",
)
def create_run(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    db: Store,
    body: TensorboardRunJson | None = None,
    run_id: Annotated[str | None, Query(alias="tensorboardRunId")] = None,
) -> Response:
    if not run_id:
        raise InvalidArgumentError("tensorboard_run_id", "is required")
    created = db.create_tensorboard_run(
        _experiment(project, location, tensorboard, experiment),
        (body or TensorboardRunJson()).to_domain(),
        run_id,
    )
    return respond(request, TensorboardRunJson.from_domain(created))


@router.post(
    f"{RUN}:write",
    response_model=WriteTensorboardRunDataResponse,
    name="WriteTensorboardRunData",
    summary="Write scalar points to the run's time series (a step written again is replaced)",
)
def write_run_data(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    body: WriteTensorboardRunDataRequest,
    db: Store,
) -> Response:
    data = [d.to_domain(f"time_series_data[{i}]") for i, d in enumerate(body.time_series_data)]
    db.write_tensorboard_run_data(_run(project, location, tensorboard, experiment, run), data)
    return respond(request, WriteTensorboardRunDataResponse())


@router.get(RUN, response_model=TensorboardRunJson, name="GetTensorboardRun")
def get_run(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    db: Store,
) -> Response:
    found = db.get_tensorboard_run(_run(project, location, tensorboard, experiment, run))
    return respond(request, TensorboardRunJson.from_domain(found))


@router.delete(
    RUN,
    name="DeleteTensorboardRun",
    summary="Delete the run's time series (a done long-running operation); the run context stays",
)
def delete_run(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    db: Store,
) -> Response:
    name = _run(project, location, tensorboard, experiment, run)
    db.delete_tensorboard_run(name)
    return respond(request, operation(name, "google.protobuf.Empty", {}))


# -- time series ---------------------------------------------------------------------------
@router.post(
    f"{RUN}/timeSeries",
    response_model=TensorboardTimeSeriesJson,
    name="CreateTensorboardTimeSeries",
    summary="Create a SCALAR time series; its id derives from its display name (the key)",
)
def create_time_series(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    body: TensorboardTimeSeriesJson,
    db: Store,
    series_id_given: Annotated[str | None, Query(alias="tensorboardTimeSeriesId")] = None,
) -> Response:
    series = body.to_domain()
    if (
        series_id_given
        and series.display_name
        and series_id_given != series_id(series.display_name)
    ):
        raise InvalidArgumentError(
            "tensorboard_time_series_id",
            f"must be {series_id(series.display_name)!r} (the id of the display name) or unset",
        )
    created = db.create_tensorboard_time_series(
        _run(project, location, tensorboard, experiment, run), series
    )
    return respond(request, TensorboardTimeSeriesJson.from_domain(created))


@router.get(
    f"{RUN}/timeSeries",
    response_model=ListTensorboardTimeSeriesResponse,
    name="ListTensorboardTimeSeries",
    summary="List the run's time series, by key",
)
def list_time_series(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    db: Store,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    page = db.list_tensorboard_time_series(
        _run(project, location, tensorboard, experiment, run),
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    return respond(
        request,
        ListTensorboardTimeSeriesResponse(
            tensorboard_time_series=[TensorboardTimeSeriesJson.from_domain(s) for s in page.items],
            next_page_token=page.next_page_token,
        ),
    )


@router.get(
    f"{SERIES}:read",
    response_model=ReadTensorboardTimeSeriesDataResponse,
    name="ReadTensorboardTimeSeriesData",
    summary="Read the points of one time series, by step: at most maxDataPoints (default "
    "1,000, at most 10,000; -1 is 10,000), a longer series downsampled",
)
def read_time_series(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    series: str,
    db: Store,
    max_data_points: Annotated[int | None, Query(alias="maxDataPoints")] = None,
) -> Response:
    name = f"{_run(project, location, tensorboard, experiment, run)}/timeSeries/{series}"
    max_points = max_points_of(request, max_data_points, "max_data_points")
    db.get_tensorboard_time_series(name)  # NOT_FOUND for a series the run does not have
    (data,) = db.read_tensorboard_time_series_data(
        _tensorboard(project, location, tensorboard), [name], max_points=max_points
    )
    return respond(
        request,
        ReadTensorboardTimeSeriesDataResponse(
            time_series_data=TimeSeriesDataJson.from_domain(data)
        ),
    )


@router.get(SERIES, response_model=TensorboardTimeSeriesJson, name="GetTensorboardTimeSeries")
def get_time_series(
    request: Request,
    project: str,
    location: str,
    tensorboard: str,
    experiment: str,
    run: str,
    series: str,
    db: Store,
) -> Response:
    name = f"{_run(project, location, tensorboard, experiment, run)}/timeSeries/{series}"
    return respond(
        request, TensorboardTimeSeriesJson.from_domain(db.get_tensorboard_time_series(name))
    )
