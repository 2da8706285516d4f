"""The module-level tracking API: `init`, `start_run`, `log_*`, `get_experiment_df`, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlineage.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from mlineage.sdk.config import endpoint_url, settings
from mlineage.sdk.exceptions import NoActiveRunError
from mlineage.sdk.experiments import Experiment, ExperimentRun
from mlineage.sdk.resources import Artifact, Execution
from mlineage.types import ExecutionState, StoreName
from mlineage.validation import ParamValue

if TYPE_CHECKING:
    import pandas as pd


def init(
    *,
    project: str | None = None,
    location: str | None = None,
    experiment: str | None = None,
    experiment_description: str | None = None,
    store: str | None = None,
    credentials: Any = None,
    api_endpoint: str | None = None,
    **ignored: Any,
) -> None:
    """Set the project, location, experiment and store for the calls that follow.

    `store` is a file path, `sqlite:///...` or `postgresql://...` URL, or an mlineage server
    (`http://host:8080`); default: `$MLINEAGE_STORE`, else `~/.mlineage/metadata.db`.
    `api_endpoint` (Vertex's name for it) also names a server; without a scheme it means
    https. `credentials` is a server token: a string or an object with `.token` (default
    `$MLINEAGE_TOKEN`). The Vertex-only settings (staging_bucket, experiment_tensorboard,
    ...) are accepted and ignored.
    """
    if store is not None and api_endpoint is not None:
        raise InvalidArgumentError("api_endpoint", "give either store or api_endpoint, not both")
    if api_endpoint is not None:
        store = endpoint_url(api_endpoint)
    if store is not None:
        if not isinstance(store, str) or not store:
            raise InvalidArgumentError("store", "must be a non-empty path or URL")
        settings.store_url = store
    if project is not None or location is not None:
        StoreName(project or settings.resolved_project, location or settings.resolved_location)
    if project is not None:
        settings.project = project
    if location is not None:
        settings.location = location
    settings.credentials = credentials
    if experiment is not None:
        Experiment.get_or_create(experiment, description=experiment_description)
        if settings.experiment != experiment:
            settings.current_run = None
        settings.experiment = experiment


def get_experiment() -> str | None:
    """The experiment set by `init`, if any."""
    return settings.experiment


def start_run(run: str, *, tensorboard: Any = None, resume: bool = False) -> ExperimentRun:
    """Start (or with `resume=True`, continue) run `run` in the current experiment.

    With no experiment set, the run joins the experiment `default`. Usable as a context
    manager: the run ends COMPLETE, or FAILED when the block raises.
    """
    if settings.current_run is not None:  # as Vertex does: a new run ends the active one
        end_run()
    if resume:
        current = ExperimentRun(run)
        current.update_state(ExecutionState.RUNNING)
    else:
        current = ExperimentRun.create(run)
    settings.current_run = current
    return current


def _current_run() -> ExperimentRun:
    if settings.current_run is None:
        raise NoActiveRunError("no run is active: call start_run() first")
    return settings.current_run


def end_run(state: ExecutionState = ExecutionState.COMPLETE) -> None:
    """End the active run with `state` (COMPLETE by default)."""
    run = _current_run()
    settings.current_run = None
    run.end_run(state=state)


def log_params(params: dict[str, ParamValue]) -> None:
    """Log parameters (str, int, float or bool values) to the active run."""
    _current_run().log_params(params)


def log_metrics(metrics: dict[str, float]) -> None:
    """Log summary metrics (numbers) to the active run; a key logged again is replaced."""
    _current_run().log_metrics(metrics)


def log_time_series_metrics(
    metrics: dict[str, float], step: int | None = None, wall_time: Any = None
) -> int:
    """Append a point per metric to the active run's time series; returns the step used."""
    return _current_run().log_time_series_metrics(metrics, step=step, wall_time=wall_time)


def log_classification_metrics(
    *,
    labels: Sequence[str] | None = None,
    matrix: Sequence[Sequence[float]] | None = None,
    fpr: Sequence[float] | None = None,
    tpr: Sequence[float] | None = None,
    threshold: Sequence[float] | None = None,
    display_name: str | None = None,
) -> Artifact:
    return _current_run().log_classification_metrics(
        labels=labels,
        matrix=matrix,
        fpr=fpr,
        tpr=tpr,
        threshold=threshold,
        display_name=display_name,
    )


def get_experiment_df(
    experiment: str | None = None, *, include_time_series: bool = True
) -> pd.DataFrame:
    """The runs of `experiment` (default: the current one) as a DataFrame."""
    name = experiment or settings.experiment
    if name is None:
        raise FailedPreconditionError("no experiment given and none set by init(experiment=...)")
    found = Experiment.get(name)
    if found is None:
        raise NotFoundError(f"Experiment {name} not found")
    return found.get_data_frame(include_time_series=include_time_series)


def start_execution(
    *,
    schema_title: str | None = None,
    display_name: str | None = None,
    resource_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    schema_version: str | None = None,
    description: str | None = None,
    resume: bool = False,
    project: str | None = None,
    location: str | None = None,
    credentials: Any = None,
) -> Execution:
    """Create (or resume) an execution, RUNNING; within a run it joins the run, and the
    artifacts assigned to it join the run too. Usable as a context manager."""
    if resume:
        if resource_id is None:
            raise InvalidArgumentError("resource_id", "is required with resume=True")
        execution = Execution(resource_id, project=project, location=location)
        execution.update(state=ExecutionState.RUNNING)
    else:
        if schema_title is None:
            raise InvalidArgumentError("schema_title", "is required to start a new execution")
        execution = Execution.create(
            schema_title,
            resource_id=resource_id,
            display_name=display_name,
            metadata=metadata,
            schema_version=schema_version,
            description=description,
            project=project,
            location=location,
        )
    run = settings.current_run
    if run is not None:
        run.associate_execution(execution)
        execution._run_context = run.resource_name
    return execution
