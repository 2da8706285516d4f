"""Small components and helpers shared by the pipeline tests."""

from __future__ import annotations

from typing import NamedTuple

from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Metrics, Model, Output
from mlineage.sdk.config import settings


@dsl.component(base_image="python:3.11")
def generate(data: Output[Dataset], rows: int = 10, seed: int = 0) -> None:
    """Writes a CSV of `rows` rows."""
    with open(data.path, "w", encoding="utf-8") as handle:
        handle.write("x,label\n")
        for i in range(rows):
            handle.write(f"{i + seed},{(i + seed) % 2}\n")
    data.metadata["rows"] = rows


class TrainOutputs(NamedTuple):
    rows: int
    note: str


@dsl.component
def train(data: Input[Dataset], model: Output[Model], learning_rate: float = 0.1) -> TrainOutputs:
    with open(data.path, encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1
    with open(model.path, "w", encoding="utf-8") as handle:
        handle.write(f"model lr={learning_rate} rows={rows}")
    return (rows, "trained")


@dsl.component
def evaluate(model: Input[Model], data: Input[Dataset], metrics: Output[Metrics]) -> float:
    with open(model.path, encoding="utf-8") as handle:
        text = handle.read()
    learning_rate = float(text.split("lr=")[1].split()[0])
    metrics.log_metric("accuracy", round(0.5 + learning_rate, 6))
    return learning_rate


@dsl.pipeline(name="small-pipeline")
def small_pipeline(rows: int = 10, learning_rate: float = 0.1) -> None:
    generated = generate(rows=rows)
    trained = train(data=generated.outputs["data"], learning_rate=learning_rate)
    evaluate(model=trained.outputs["model"], data=generated.output)


def executions(run: dsl.PipelineRun) -> dict[str, types.Execution]:
    """The executions of a pipeline run, by task name."""
    store = settings.store()
    page = store.list(
        settings.store_name(), types.Execution, filter=f'in_context("{run.resource_name}")'
    )
    return {e.display_name: e for e in page.items}


def states(run: dsl.PipelineRun) -> dict[str, str]:
    return {name: e.state.name for name, e in executions(run).items()}
