"""`Experiment` and `ExperimentRun`, as in Vertex AI Experiments.

An experiment is a context (`system.Experiment`, id = experiment name); a run is a context
(`system.ExperimentRun`, id `{experiment}-{run}`) that is a child of its experiment. Params,
metrics and time series live in the store's run tables. `log_input`/`log_output` (the
reference walkthrough's calls) record INPUT/OUTPUT events on one execution per run, so the
run's lineage connects like any pipeline step's.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from mlineage import types
from mlineage.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mlineage.sdk import provenance
from mlineage.sdk.config import DEFAULT_EXPERIMENT, settings
from mlineage.sdk.exceptions import RunAlreadyExistsError
from mlineage.sdk.resources import Artifact, Context, Execution, Scope
from mlineage.store import MetadataStore, RunInfo
from mlineage.types import (
    MAX_RESOURCE_ID_LENGTH,
    ExecutionState,
    StoreName,
    validate_resource_id,
)
from mlineage.validation import ParamValue

if TYPE_CHECKING:
    import pandas as pd

EXPERIMENT_SCHEMA = "system.Experiment"
RUN_SCHEMA = "system.ExperimentRun"
RUN_EXECUTION_SCHEMA = "system.ContainerExecution"
CLASSIFICATION_METRICS_SCHEMA = "google.ClassificationMetrics"


def _store() -> MetadataStore:
    return settings.store()


def _parent(project: str | None, location: str | None) -> StoreName:
    return settings.store_name("default", project, location)


def _experiment_name(experiment: Experiment | str) -> str:
    name = experiment.name if isinstance(experiment, Experiment) else experiment
    return validate_resource_id(name, "experiment_name")


class Experiment:
    """A named group of runs."""

    def __init__(
        self,
        experiment_name: str,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> None:
        name = validate_resource_id(experiment_name, "experiment_name")
        try:
            self._context = Context(name, project=project, location=location)
        except NotFoundError:
            raise NotFoundError(f"Experiment {name} not found") from None
        if self._context.schema_title != EXPERIMENT_SCHEMA:
            raise NotFoundError(f"Experiment {name} not found (the context is not an experiment)")

    @classmethod
    def _wrap(cls, context: Context) -> Experiment:
        instance = cls.__new__(cls)
        instance._context = context
        return instance

    @classmethod
    def create(
        cls,
        experiment_name: str,
        *,
        description: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Experiment:
        name = validate_resource_id(experiment_name, "experiment_name")
        try:
            context = Context.create(
                EXPERIMENT_SCHEMA,
                resource_id=name,
                display_name=name,
                description=description,
                metadata={"experiment_deleted": False},
                project=project,
                location=location,
            )
        except AlreadyExistsError:
            raise AlreadyExistsError(f"Experiment {name} already exists") from None
        return cls._wrap(context)

    @classmethod
    def get(
        cls,
        experiment_name: str,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Experiment | None:
        try:
            return cls(experiment_name, project=project, location=location)
        except NotFoundError:
            return None

    @classmethod
    def get_or_create(
        cls,
        experiment_name: str,
        *,
        description: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Experiment:
        found = cls.get(experiment_name, project=project, location=location)
        if found is not None:
            return found
        try:
            return cls.create(
                experiment_name, description=description, project=project, location=location
            )
        except AlreadyExistsError:  # another process created it meanwhile
            return cls(experiment_name, project=project, location=location)

    @classmethod
    def list(
        cls,
        *,
        filter: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> builtins.list[Experiment]:
        clause = f'schema_title="{EXPERIMENT_SCHEMA}"'
        if filter:
            clause = f"{clause} AND ({filter})"
        return [
            cls._wrap(c) for c in Context.list(filter=clause, project=project, location=location)
        ]

    @property
    def name(self) -> str:
        return self._context.name

    @property
    def resource_name(self) -> str:
        return self._context.resource_name

    @property
    def description(self) -> str:
        return self._context.description

    @property
    def backing_tensorboard_resource_name(self) -> None:
        """Time series are stored natively; there is no backing TensorBoard."""
        return None

    def get_data_frame(self, *, include_time_series: bool = True) -> pd.DataFrame:
        """One row per run: experiment_name, run_name, run_type, state, param.*, metric.*,
        time_series_metric.* (the last value of each series)."""
        import pandas as pd  # imported here: it costs about a second of every start

        page = _store().experiment_rows(  # no page size: every run, over a server too
            self.resource_name, include_time_series=include_time_series
        )
        rows = page.items
        records = []
        for row in rows:
            record: dict[str, Any] = {
                "experiment_name": self.name,
                "run_name": row.run_name,
                "run_type": row.run_type,
                "state": row.state.name,
            }
            record.update({f"param.{k}": v for k, v in row.params.items()})
            record.update({f"metric.{k}": v for k, v in row.metrics.items()})
            record.update({f"time_series_metric.{k}": v for k, v in row.time_series.items()})
            records.append(record)
        frame = pd.DataFrame.from_records(records)
        if frame.empty:
            return pd.DataFrame(columns=["experiment_name", "run_name", "run_type", "state"])
        prefixes = ("param.", "metric.", "time_series_metric.")
        ordered = ["experiment_name", "run_name", "run_type", "state"] + [
            column
            for prefix in prefixes
            for column in sorted(c for c in frame.columns if c.startswith(prefix))
        ]
        return frame[ordered]

    def get_runs(self, *, filter: str | None = None) -> builtins.list[ExperimentRun]:
        """The runs of this experiment, oldest first; `filter` as in `ExperimentRun.list`."""
        return [
            ExperimentRun._wrap(info, self)
            for info in _store().list_runs(self.resource_name, filter=filter).items
        ]

    def delete(self, *, delete_backing_tensorboard_runs: bool = False) -> None:
        """Delete the experiment and its runs (their params, metrics and series)."""
        for run in self.get_runs():
            run.delete()
        self._context.delete()

    def __repr__(self) -> str:
        return f"<Experiment {self.resource_name}>"


def _wall_time(value: Any) -> datetime | None:
    """Accept a datetime, seconds since the epoch, or a protobuf Timestamp."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, UTC)
    if hasattr(value, "ToDatetime"):
        converted: datetime = value.ToDatetime(tzinfo=UTC)
        return converted
    raise InvalidArgumentError("wall_time", f"must be a datetime or epoch seconds, got {value!r}")


class ExperimentRun:
    """One run of an experiment: params, metrics, time series, artifacts and state."""

    def __init__(
        self,
        run_name: str,
        experiment: Experiment | str | None = None,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> None:
        exp = _resolve_experiment(experiment, project, location)
        run_id = f"{exp.name}-{run_name}"
        parent = _parent(project, location)
        try:
            info = _store().get_run(str(parent.child("contexts", run_id)))
        except (NotFoundError, InvalidArgumentError):
            raise NotFoundError(
                f"ExperimentRun {run_name} not found in experiment {exp.name}"
            ) from None
        self._init(info, exp)

    def _init(self, info: RunInfo, experiment: Experiment) -> None:
        # The store this run lives in, even if init(store=...) changes the default later.
        self._store = settings.store()
        self._info = info
        self._experiment = experiment
        self._slow_provenance: provenance.SlowProvenance | None = None
        self._io_execution: Execution | None = None
        self._io_execution_looked_up = False

    @classmethod
    def _wrap(cls, info: RunInfo, experiment: Experiment) -> ExperimentRun:
        instance = cls.__new__(cls)
        instance._init(info, experiment)
        return instance

    @classmethod
    def create(
        cls,
        run_name: str,
        *,
        experiment: Experiment | str | None = None,
        tensorboard: Any = None,
        state: ExecutionState = ExecutionState.RUNNING,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> ExperimentRun:
        """Start a new run in `experiment` (the current one by default), recording provenance."""
        exp = _resolve_experiment(experiment, project, location)
        validate_resource_id(run_name, "run_name")
        run_id = validate_resource_id(f"{exp.name}-{run_name}", "run_name")
        quick = provenance.capture_quick()
        context = types.Context(schema_title=RUN_SCHEMA, display_name=run_name)
        try:
            info = _store().create_run(
                _parent(project, location),
                context,
                run_id,
                experiment=exp.resource_name,
                state=state,
                provenance=quick,
            )
        except AlreadyExistsError:
            raise RunAlreadyExistsError(
                f"Run {run_name} already exists in experiment {exp.name}; "
                "use start_run(..., resume=True) to continue it"
            ) from None
        run = cls._wrap(info, exp)
        run._slow_provenance = provenance.SlowProvenance(quick.get("git", {}).get("root"))
        run._io_execution_looked_up = True  # a new run has none yet
        return run

    @classmethod
    def get(
        cls,
        run_name: str,
        *,
        experiment: Experiment | str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> ExperimentRun | None:
        try:
            return cls(run_name, experiment, project=project, location=location)
        except NotFoundError:
            return None

    @classmethod
    def list(
        cls,
        *,
        experiment: Experiment | str | None = None,
        filter: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> builtins.list[ExperimentRun]:
        """The runs of `experiment` (default: the current one). `filter` is mlineage's
        addition: the context filter language plus `param.<key>` and `metric.<key>`,
        e.g. `metric.accuracy > 0.9 AND param.optimizer = "adam"`."""
        return _resolve_experiment(experiment, project, location).get_runs(filter=filter)

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The run name (without the experiment prefix)."""
        return self._info.context.display_name

    @property
    def resource_id(self) -> str:
        return self._info.context.resource_id

    @property
    def resource_name(self) -> str:
        return self._info.context.name

    @property
    def experiment(self) -> Experiment:
        return self._experiment

    @property
    def state(self) -> ExecutionState:
        return self._info.state

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self._info.provenance)

    def get_state(self) -> str:
        return self._info.state.name

    # -- logging --------------------------------------------------------------------------
    def log_params(self, params: dict[str, ParamValue]) -> None:
        self._store.log_params(self.resource_name, params)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        self._store.log_metrics(self.resource_name, metrics)

    def log_time_series_metrics(
        self, metrics: dict[str, float], step: int | None = None, wall_time: Any = None
    ) -> int:
        """Append one point per metric; `step` defaults to the last step + 1. Returns the step."""
        return self._store.write_time_series(
            self.resource_name, metrics, step=step, wall_time=_wall_time(wall_time)
        )

    def log_classification_metrics(
        self,
        *,
        labels: Sequence[str] | None = None,
        matrix: Sequence[Sequence[float]] | None = None,
        fpr: Sequence[float] | None = None,
        tpr: Sequence[float] | None = None,
        threshold: Sequence[float] | None = None,
        display_name: str | None = None,
    ) -> Artifact:
        """Record a confusion matrix and/or ROC curve as a google.ClassificationMetrics artifact."""
        metadata = classification_metadata(labels, matrix, fpr, tpr, threshold)
        artifact = Artifact.create(
            CLASSIFICATION_METRICS_SCHEMA,
            display_name=display_name,
            metadata=metadata,
            **self._scope(),
        )
        Context._wrap(self._info.context).add_artifacts_and_executions([artifact.resource_name])
        return artifact

    def _find_run_execution(self) -> Execution | None:
        """The execution carrying this run's log_input/log_output events, if any yet."""
        if self._io_execution is None and not self._io_execution_looked_up:
            found = Execution.list(
                filter=(
                    f'schema_title="{RUN_EXECUTION_SCHEMA}" '
                    f'AND in_context("{self.resource_name}") '
                    f'AND metadata.experiment_run.string_value="{self.resource_name}"'
                ),
                **self._scope(),
            )
            self._io_execution = found[0] if found else None
            self._io_execution_looked_up = True
        return self._io_execution

    def _run_execution(self) -> Execution:
        execution = self._find_run_execution()
        if execution is None:
            execution = self._io_execution = self._create_run_execution()
        execution._run_context = self.resource_name
        return execution

    def _create_run_execution(self) -> Execution:
        """The run's execution, under an id derived from the run's: processes logging
        inputs and outputs of one run at once all record them on the first one made."""
        run = types.ResourceName.parse(self.resource_name)
        execution_id = f"{run.resource_id}-io"
        if len(execution_id) <= MAX_RESOURCE_ID_LENGTH:
            try:
                return self._record_run_execution(run.parent, execution_id)
            except AlreadyExistsError:
                self._io_execution_looked_up = False
                found = self._find_run_execution()
                if found is not None:  # another process made it since this one looked
                    return found
                # else that id is an execution of a deleted run of the same name
        return self._record_run_execution(run.parent, None)

    def _record_run_execution(self, store: StoreName, execution_id: str | None) -> Execution:
        created, _ = self._store.record_execution(
            store,
            types.Execution(
                schema_title=RUN_EXECUTION_SCHEMA,
                display_name=self.name,
                metadata={"experiment_run": self.resource_name},
            ),
            execution_id,
            contexts=[self.resource_name],
        )
        return Execution._wrap(created)

    def log_input(self, artifact: Artifact | str) -> None:
        """Record `artifact` as an input of this run (an INPUT event on the run's execution)."""
        self._run_execution().assign_input_artifacts([artifact])

    def log_output(self, artifact: Artifact | str) -> None:
        """Record `artifact` as an output of this run (an OUTPUT event on the run's execution)."""
        self._run_execution().assign_output_artifacts([artifact])

    def associate_execution(self, execution: Execution) -> None:
        Context._wrap(self._info.context).add_artifacts_and_executions(
            execution_resource_names=[execution.resource_name]
        )

    # -- reading --------------------------------------------------------------------------
    def get_params(self) -> dict[str, ParamValue]:
        return self._store.get_params(self.resource_name)

    def get_metrics(self) -> dict[str, float]:
        return self._store.get_metrics(self.resource_name)

    def get_time_series_data_frame(self) -> pd.DataFrame:
        """Columns step, wall_time and one per metric; one row per step."""
        import pandas as pd  # imported here: it costs about a second of every start

        points = self._store.read_time_series(self.resource_name)
        if not points:
            return pd.DataFrame(columns=["step", "wall_time"])
        long = pd.DataFrame(
            {
                "step": [p.step for p in points],
                "wall_time": [p.wall_time for p in points],
                "key": [p.key for p in points],
                "value": [p.value for p in points],
            }
        )
        wide = long.pivot_table(
            index="step", columns="key", values="value", aggfunc="last", dropna=False
        )
        wall = long.groupby("step")["wall_time"].max()
        wide.insert(0, "wall_time", wall)
        wide.columns.name = None
        return wide.reset_index()

    def get_artifacts(self) -> builtins.list[Artifact]:
        return Context._wrap(self._info.context).get_artifacts()

    def get_executions(self) -> builtins.list[Execution]:
        return Context._wrap(self._info.context).get_executions()

    def get_classification_metrics(self) -> builtins.list[dict[str, Any]]:
        artifacts = Artifact.list(
            filter=(
                f'schema_title="{CLASSIFICATION_METRICS_SCHEMA}" '
                f'AND in_context("{self.resource_name}")'
            ),
            **self._scope(),
        )
        return [classification_from_metadata(a) for a in artifacts]

    # -- state ----------------------------------------------------------------------------
    def update_state(self, state: ExecutionState) -> None:
        if not isinstance(state, ExecutionState):
            raise InvalidArgumentError("state", f"must be an Execution.State, got {state!r}")
        self._info = self._store.update_run(self.resource_name, state=state)

    def end_run(self, *, state: ExecutionState = ExecutionState.COMPLETE) -> None:
        """Set the final state (also on the run's execution) and record the provenance
        facts worked out meanwhile (later, in the background, if they are not ready)."""
        slow, self._slow_provenance = self._slow_provenance, None
        facts = slow.ready() if slow is not None else None
        self._info = self._store.update_run(
            self.resource_name, state=state, provenance=self._slow_facts(facts or {})
        )
        if slow is not None and facts is None:
            slow.deliver_later(self._record_slow_provenance)
        execution = self._find_run_execution()
        if execution is not None:
            execution.sync_resource()  # another process may have changed it since
            if execution.state is not state:
                execution.update(state=state)

    def _slow_facts(self, slow: dict[str, Any]) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        if "git_dirty" in slow and "git" in self._info.provenance:
            facts["git"] = {**self._info.provenance["git"], "dirty": slow["git_dirty"]}
        if "packages" in slow:
            facts["packages"] = slow["packages"]
        return facts

    def _record_slow_provenance(self, slow: dict[str, Any]) -> None:
        self._store.update_run(self.resource_name, provenance=self._slow_facts(slow))

    def delete(self, *, delete_backing_tensorboard_run: bool = False) -> None:
        Context._wrap(self._info.context).delete()

    def _scope(self) -> Scope:
        return Context._wrap(self._info.context)._scope()

    # -- context manager --------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        state = ExecutionState.FAILED if exc_type else ExecutionState.COMPLETE
        if settings.current_run is self:
            settings.current_run = None
        self.end_run(state=state)

    def __repr__(self) -> str:
        return f"<ExperimentRun {self.resource_name} {self.get_state()}>"


def _resolve_experiment(
    experiment: Experiment | str | None, project: str | None, location: str | None
) -> Experiment:
    if isinstance(experiment, Experiment):
        return experiment
    if experiment is None:
        name = settings.experiment or DEFAULT_EXPERIMENT
        if name == DEFAULT_EXPERIMENT:
            return Experiment.get_or_create(name, project=project, location=location)
        return Experiment(name, project=project, location=location)
    return Experiment(_experiment_name(experiment), project=project, location=location)


def classification_metadata(
    labels: Sequence[str] | None,
    matrix: Sequence[Sequence[float]] | None,
    fpr: Sequence[float] | None,
    tpr: Sequence[float] | None,
    threshold: Sequence[float] | None,
) -> dict[str, Any]:
    """Vertex's google.ClassificationMetrics metadata, after checking shapes."""
    metadata: dict[str, Any] = {}
    if matrix is not None:
        size = len(matrix)
        if any(len(row) != size for row in matrix):
            raise InvalidArgumentError("matrix", "must be square")
        if labels is not None and len(labels) != size:
            raise InvalidArgumentError("labels", f"must have {size} entries, one per matrix row")
        metadata["confusionMatrix"] = {
            "annotationSpecs": [{"displayName": str(label)} for label in (labels or [])],
            "rows": [[float(v) for v in row] for row in matrix],
        }
    if fpr is not None or tpr is not None or threshold is not None:
        if fpr is None or tpr is None or threshold is None:
            raise InvalidArgumentError("fpr", "fpr, tpr and threshold must be given together")
        if not len(fpr) == len(tpr) == len(threshold):
            raise InvalidArgumentError("fpr", "fpr, tpr and threshold must have the same length")
        metadata["confidenceMetrics"] = [
            {"confidenceThreshold": float(t), "falsePositiveRate": float(f), "recall": float(r)}
            for f, r, t in zip(fpr, tpr, threshold, strict=True)
        ]
    if not metadata:
        raise InvalidArgumentError("matrix", "give a confusion matrix, an ROC curve, or both")
    return metadata


def classification_from_metadata(artifact: Artifact) -> dict[str, Any]:
    metadata = artifact.metadata
    result: dict[str, Any] = {"id": artifact.name, "display_name": artifact.display_name}
    if "confusionMatrix" in metadata:
        matrix = metadata["confusionMatrix"]
        result["labels"] = [spec["displayName"] for spec in matrix.get("annotationSpecs", [])]
        result["matrix"] = matrix.get("rows", [])
    if "confidenceMetrics" in metadata:
        points = metadata["confidenceMetrics"]
        result["fpr"] = [p["falsePositiveRate"] for p in points]
        result["tpr"] = [p["recall"] for p in points]
        result["threshold"] = [p["confidenceThreshold"] for p in points]
    return result
