"""Pipelines: KFP v2-shaped components that record their own lineage, with caching.

    from mlineage import dsl
    from mlineage.dsl import Input, Output, Dataset, Model, Metrics

    @dsl.component
    def train(data: Input[Dataset], model: Output[Model], lr: float = 0.1): ...

    @dsl.pipeline(name="churn")
    def churn(lr: float = 0.1):
        prepared = prepare()
        train(data=prepared.outputs["data"], lr=lr)

    run = dsl.run_pipeline(churn, arguments={"lr": 0.05}, pipeline_root="outputs")

Every run is a `system.PipelineRun` (in the current experiment, if `mlineage.init` set one),
every task a `system.ContainerExecution` with INPUT and OUTPUT events; see `runner` for the
order of things and `cache` for what the cache key covers.
"""

from mlineage.dsl.artifacts import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
)
from mlineage.dsl.component import Component, component
from mlineage.dsl.config import init
from mlineage.dsl.graph import PipelineTask, TaskOutput
from mlineage.dsl.packages import MissingPackageError
from mlineage.dsl.pipeline import Pipeline, pipeline
from mlineage.dsl.runner import PipelineRun, PipelineTaskError, run_pipeline

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Component",
    "Dataset",
    "Input",
    "Markdown",
    "Metrics",
    "MissingPackageError",
    "Model",
    "Output",
    "Pipeline",
    "PipelineRun",
    "PipelineTask",
    "PipelineTaskError",
    "TaskOutput",
    "component",
    "init",
    "pipeline",
    "run_pipeline",
]
