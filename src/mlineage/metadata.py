"""`from mlineage import metadata`, the counterpart of `google.cloud.aiplatform.metadata`."""

from mlineage.sdk.experiments import Experiment, ExperimentRun
from mlineage.sdk.metadata_store import MetadataStore
from mlineage.sdk.resources import Artifact, Context, Execution
from mlineage.sdk.tracking import (
    end_run,
    get_experiment_df,
    log_classification_metrics,
    log_metrics,
    log_params,
    log_time_series_metrics,
    start_execution,
    start_run,
)

__all__ = [
    "Artifact",
    "Context",
    "Execution",
    "Experiment",
    "ExperimentRun",
    "MetadataStore",
    "end_run",
    "get_experiment_df",
    "log_classification_metrics",
    "log_metrics",
    "log_params",
    "log_time_series_metrics",
    "start_execution",
    "start_run",
]
