"""The store contract: everything the SDK, CLI and server may ask of a metadata store.

One contract, several backends (a SQLite file, PostgreSQL, and later the REST client), all
held to the same contract test suite. Resources are addressed by resource name strings
(`projects/p/locations/l/metadataStores/s/artifacts/a1`); a method that receives a name of
the wrong form raises INVALID_ARGUMENT, an unknown one NOT_FOUND.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from mlineage.types import (
    Artifact,
    Context,
    Event,
    Execution,
    ExecutionState,
    LineageGraph,
    MetadataSchema,
    MetadataStoreInfo,
    Page,
    StoreName,
    TimeSeriesPoint,
)
from mlineage.validation import ParamValue

__all__ = [
    "DEFAULT_NODE_LIMIT",
    "MAX_NODE_LIMIT",
    "Direction",
    "ExperimentRow",
    "MetadataStore",
    "Node",
    "RunInfo",
    "ScalarPoint",
    "Tensorboard",
    "TensorboardExperiment",
    "TensorboardRun",
    "TensorboardStore",
    "TensorboardTimeSeries",
    "TimeSeriesData",
]

Node = TypeVar("Node", Artifact, Execution, Context)
DEFAULT_NODE_LIMIT = 10_000
"""Artifacts a lineage query walks when the caller sets no `node_limit`."""
MAX_NODE_LIMIT = 100_000
"""The largest `node_limit` a lineage query accepts."""
Direction = Literal["upstream", "downstream", "both"]


@dataclass(slots=True)
class RunInfo:
    """An experiment run (or pipeline run): its context plus run-level state."""

    context: Context
    experiment: str | None
    """Resource name of the experiment context, if any."""
    run_type: str
    state: ExecutionState
    provenance: dict[str, Any]
    start_time: datetime
    end_time: datetime | None


@dataclass(slots=True)
class ExperimentRow:
    """One run of an experiment, as `get_experiment_df` and a runs table show it."""

    run_name: str
    """The run's display name."""
    run_type: str
    state: ExecutionState
    params: dict[str, ParamValue] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    time_series: dict[str, float] = field(default_factory=dict)
    """The last value of each time-series metric."""
    name: str = ""
    """The run context's resource name."""
    start_time: datetime | None = None


class MetadataStore(Protocol):
    """The metadata store contract."""

    # -- metadata stores --------------------------------------------------------------
    def get_or_create_metadata_store(
        self, store: StoreName, description: str = ""
    ) -> MetadataStoreInfo: ...

    def get_metadata_store(self, store: StoreName) -> MetadataStoreInfo: ...

    def list_metadata_stores(
        self,
        project: str,
        location: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[MetadataStoreInfo]:
        """One page of the metadata stores of `project` and `location`, oldest first; an
        unknown project or location has none."""
        ...

    # -- artifacts, executions, contexts ----------------------------------------------
    def create(self, parent: StoreName, resource: Node, resource_id: str | None = None) -> Node:
        """Create `resource` under `parent`; a missing id is generated, a taken one is
        ALREADY_EXISTS. Metadata is validated against a registered schema of its title."""
        ...

    def create_many(self, parent: StoreName, resources: Sequence[Node]) -> list[Node]:
        """Create several resources of one kind in one transaction (ids from `.name`'s
        last segment when set, generated otherwise); all or nothing."""
        ...

    def get(self, name: str, kind: type[Node]) -> Node: ...

    def list(
        self,
        parent: StoreName,
        kind: type[Node],
        *,
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Node]:
        """One page of resources; pass `next_page_token` back for the next one."""
        ...

    def update(self, resource: Node) -> Node:
        """Replace the mutable fields (display_name, description, metadata, labels, state,
        uri, schema_version). A non-empty `resource.etag` that is stale is ABORTED."""
        ...

    def delete(self, name: str, kind: type[Node], etag: str | None = None) -> None:
        """Delete a resource. An artifact or execution that events reference is
        FAILED_PRECONDITION: lineage never points at nothing."""
        ...

    # -- context graph ------------------------------------------------------------------
    def add_context_artifacts_and_executions(
        self, context: str, artifacts: Sequence[str] = (), executions: Sequence[str] = ()
    ) -> None: ...

    def add_context_children(self, context: str, children: Sequence[str]) -> None:
        """Make `children` child contexts of `context`; a link that would close a cycle
        is INVALID_ARGUMENT and nothing is linked."""
        ...

    def remove_context_children(self, context: str, children: Sequence[str]) -> None: ...

    # -- events and lineage -------------------------------------------------------------
    def add_execution_events(
        self, execution: str, events: Sequence[Event], *, contexts: Sequence[str] = ()
    ) -> None:
        """Record INPUT/OUTPUT events; recording the same (artifact, type) again is a no-op.
        The artifacts also join `contexts` (mlineage's addition), in the same transaction."""
        ...

    def record_execution(
        self,
        parent: StoreName,
        execution: Execution,
        execution_id: str | None = None,
        *,
        inputs: Sequence[str] = (),
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        """Create `execution` with its INPUT events to `inputs` (artifact names), its OUTPUT
        events to `outputs` (names, or new Artifacts created here), and membership of
        `contexts`, all in one transaction (mlineage's addition; ml-metadata's
        put_execution). Returns the execution and the artifacts it created."""
        ...

    def finish_execution(
        self,
        execution: Execution,
        *,
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        """End `execution` in one transaction: create its new output Artifacts, record OUTPUT
        events to them and to the named `outputs`, add those to `contexts`, and write the
        execution's state and metadata (etag-checked when set). Returns both."""
        ...

    def query_execution_inputs_and_outputs(self, execution: str) -> LineageGraph: ...

    def query_artifact_lineage_subgraph(
        self,
        artifact: str,
        *,
        max_hops: int | None = None,
        filter: str | None = None,
        direction: Direction = "both",
        node_limit: int | None = None,
    ) -> LineageGraph:
        """The lineage around `artifact`. At most `node_limit` artifacts (default 10,000)
        are walked; beyond that the graph is cut and `truncated` is set."""
        ...

    def query_context_lineage_subgraph(self, context: str) -> LineageGraph: ...

    # -- metadata schemas ---------------------------------------------------------------
    def create_metadata_schema(
        self, parent: StoreName, schema: MetadataSchema, schema_id: str | None = None
    ) -> MetadataSchema: ...

    def get_metadata_schema(self, name: str) -> MetadataSchema: ...

    def list_metadata_schemas(
        self, parent: StoreName, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[MetadataSchema]: ...

    # -- experiment runs ----------------------------------------------------------------
    def create_run(
        self,
        parent: StoreName,
        context: Context,
        run_id: str,
        *,
        experiment: str | None,
        state: ExecutionState = ExecutionState.RUNNING,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        """Create a run context (child of `experiment` when given) and its run record."""
        ...

    def get_run(self, run: str) -> RunInfo: ...

    def list_runs(
        self,
        experiment: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[RunInfo]:
        """One page of the runs of an experiment (every run when `page_size` is None),
        oldest first (create time, then row id), in a fixed number of queries; `filter` is
        the context filter language plus `param.<key>` and `metric.<key>`. The contexts
        carry their own metadata only: Vertex's `_params`, `_metrics` and `_state` view is
        left out (read params and metrics with `experiment_rows`, or `get` the context)."""
        ...

    def count_runs(self, experiment: str, *, filter: str | None = None) -> int:
        """How many runs `list_runs` would return, in one query."""
        ...

    def update_run(
        self,
        run: str,
        *,
        state: ExecutionState | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        """Set the state (ending the run when it is terminal) and/or merge provenance."""
        ...

    def log_params(self, run: str, params: Mapping[str, ParamValue]) -> None: ...

    def log_metrics(self, run: str, metrics: Mapping[str, float]) -> None: ...

    def write_time_series(
        self,
        run: str,
        metrics: Mapping[str, float],
        *,
        step: int | None = None,
        wall_time: datetime | None = None,
        request_id: str | None = None,
    ) -> int:
        """Append one point per metric at `step` (default: the run's last step + 1) and
        return the step used. Writing a step again replaces its value. Without a step, a
        `request_id` (at most 64 characters) makes the write idempotent: a request id seen
        before for this run returns the step it chose, and nothing is written again."""
        ...

    def write_time_series_points(self, run: str, points: Sequence[TimeSeriesPoint]) -> None:
        """Write many points at once (one transaction)."""
        ...

    def get_params(self, run: str) -> dict[str, ParamValue]: ...

    def get_metrics(self, run: str) -> dict[str, float]: ...

    def read_time_series(
        self, run: str, keys: Sequence[str] | None = None, *, max_points: int | None = None
    ) -> builtins.list[TimeSeriesPoint]:
        """The run's points (of `keys`, default all), by key then step. With `max_points`
        (at least 4), a key with more points comes back downsampled to at most that many:
        its steps cut into equal ranges, each giving its first, last, lowest and highest
        point (spikes survive; a range whose values are all NaN gives its first and last)."""
        ...

    def experiment_rows(
        self,
        experiment: str,
        *,
        include_time_series: bool = True,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[ExperimentRow]:
        """One page of the runs of the experiment (every run when `page_size` is None; those
        `filter` keeps, as in `list_runs`) with their params, metrics and last series
        values, oldest first, in a handful of queries whatever the number of runs."""
        ...

    def close(self) -> None: ...


# -- Vertex AI TensorboardService ------------------------------------------------------------
@dataclass(slots=True)
class Tensorboard:
    """`projects/{p}/locations/{l}/tensorboards/{id}`: where the Vertex SDK sends time series.

    Its experiments, runs and time series are views of the experiments, runs and time-series
    points of the project's `default` metadata store (in the same location), not copies."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    is_default: bool = False
    etag: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None


@dataclass(slots=True)
class TensorboardExperiment:
    """`{tensorboard}/experiments/{e}`: the experiment context `e`."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None


@dataclass(slots=True)
class TensorboardRun:
    """`{experiment}/runs/{r}`: the run context `{e}-{r}` (the Vertex SDK's run id)."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None


@dataclass(slots=True)
class TensorboardTimeSeries:
    """`{run}/timeSeries/{id}`: one metric key of the run's time series; the display name is
    the key, and the id is derived from it (the key itself when it is a valid id)."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    value_type: str = "SCALAR"
    plugin_name: str = "scalars"
    create_time: datetime | None = None
    update_time: datetime | None = None
    max_step: int | None = None
    max_wall_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScalarPoint:
    step: int
    value: float
    wall_time: datetime


@dataclass(slots=True)
class TimeSeriesData:
    """The points of one time series, by its id (the last segment of its name)."""

    time_series_id: str
    values: builtins.list[ScalarPoint] = field(default_factory=list)


@runtime_checkable
class TensorboardStore(Protocol):
    """The subset of Vertex AI's TensorboardService the Vertex SDK uses for time series.

    Names are full resource names; parents are `projects/{p}/locations/{l}` for tensorboards,
    then the tensorboard, experiment and run names."""

    def create_tensorboard(self, parent: str, tensorboard: Tensorboard) -> Tensorboard:
        """Create a tensorboard with a generated id; a default one (`is_default`) makes the
        others of its location non-default."""
        ...

    def get_tensorboard(self, name: str) -> Tensorboard: ...

    def list_tensorboards(
        self,
        parent: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Tensorboard]:
        """Oldest first; `filter` over display_name, is_default, create_time, update_time."""
        ...

    def create_tensorboard_experiment(
        self, parent: str, experiment: TensorboardExperiment, experiment_id: str
    ) -> TensorboardExperiment:
        """Create the experiment context `experiment_id`; ALREADY_EXISTS when it exists."""
        ...

    def get_tensorboard_experiment(self, name: str) -> TensorboardExperiment: ...

    def create_tensorboard_run(
        self, parent: str, run: TensorboardRun, run_id: str
    ) -> TensorboardRun:
        """Create run `{experiment}-{run_id}` in the experiment; ALREADY_EXISTS when it exists."""
        ...

    def get_tensorboard_run(self, name: str) -> TensorboardRun: ...

    def delete_tensorboard_run(self, name: str) -> None:
        """Delete the run's time series; the run (a metadata context) stays."""
        ...

    def create_tensorboard_time_series(
        self, parent: str, series: TensorboardTimeSeries
    ) -> TensorboardTimeSeries:
        """Declare the SCALAR series `series.display_name` of a run (listed before it has
        points); ALREADY_EXISTS when the run has it."""
        ...

    def get_tensorboard_time_series(self, name: str) -> TensorboardTimeSeries: ...

    def list_tensorboard_time_series(
        self, parent: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[TensorboardTimeSeries]:
        """The run's series (declared, or with points), by key."""
        ...

    def write_tensorboard_run_data(self, run: str, data: Sequence[TimeSeriesData]) -> None:
        """Write points of the run's series (one transaction); a step written again is
        replaced."""
        ...

    def read_tensorboard_time_series_data(
        self, tensorboard: str, time_series: Sequence[str], *, max_points: int | None = None
    ) -> builtins.list[TimeSeriesData]:
        """The points of each named series of `tensorboard`, by step, in the order asked;
        with `max_points`, a longer series downsampled as `read_time_series` does."""
        ...
