"""mlineage: a self-hosted ML metadata and lineage store with a Vertex AI-shaped SDK.

`import mlineage as aiplatform` runs code written for Vertex AI ML Metadata and
Experiments against an embedded SQLite file (no set-up) or, later, an mlineage server.
"""

from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    MlineageError,
    NotFoundError,
)
from mlineage.sdk.diff import Diff, diff
from mlineage.sdk.experiments import Experiment, ExperimentRun
from mlineage.sdk.metadata_store import MetadataStore
from mlineage.sdk.resources import Artifact, Context, Execution
from mlineage.sdk.tracking import (
    end_run,
    get_experiment,
    get_experiment_df,
    init,
    log_classification_metrics,
    log_metrics,
    log_params,
    log_time_series_metrics,
    start_execution,
    start_run,
)
from mlineage.types import ArtifactState, EventType, ExecutionState, LineageGraph

__version__ = "0.1.0"

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "Artifact",
    "ArtifactState",
    "Context",
    "Diff",
    "EventType",
    "Execution",
    "ExecutionState",
    "Experiment",
    "ExperimentRun",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "LineageGraph",
    "MetadataStore",
    "MlineageError",
    "NotFoundError",
    "__version__",
    "diff",
    "end_run",
    "get_experiment",
    "get_experiment_df",
    "init",
    "log_classification_metrics",
    "log_metrics",
    "log_params",
    "log_time_series_metrics",
    "start_execution",
    "start_run",
]
