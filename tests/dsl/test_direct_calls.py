"""Calling a component outside a pipeline runs it at once, as a one-task pipeline run."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlineage
from mlineage import dsl, types
from mlineage.dsl import Dataset, Input, Model, Output
from mlineage.sdk.config import settings


@dsl.component
def fit(data: Input[Dataset], model: Output[Model], epochs: int = 1) -> str:
    with open(data.path, encoding="utf-8") as handle:
        content = handle.read()
    with open(model.path, "w", encoding="utf-8") as handle:
        handle.write(content * epochs)
    return "done"


def test_a_direct_call_runs_and_records_the_raw_input(tmp_path: Path, local_outputs: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text("x\n1\n")
    mlineage.init(experiment="direct")

    task = fit(data=Dataset(uri=str(raw), metadata={"source": "test"}), epochs=2)

    assert task.state is types.ExecutionState.COMPLETE
    assert task.outputs["Output"] == "done"
    model = task.outputs["model"]
    assert Path(model.path).read_text() == "x\n1\nx\n1\n"
    assert model.path.startswith(str(local_outputs / "fit-"))
    store = settings.store()
    graph = store.query_artifact_lineage_subgraph(model.resource_name, direction="upstream")
    raw_record = next(a for a in graph.artifacts if a.uri == str(raw))
    assert raw_record.fingerprint.startswith("sha256:")
    assert raw_record.metadata == {"source": "test"}
    frame = mlineage.get_experiment_df()
    assert frame["run_type"].tolist() == ["system.PipelineRun"]
    assert frame["param.epochs"].tolist() == [2]


def test_a_recorded_sdk_artifact_can_be_an_input(tmp_path: Path) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text("y\n")
    recorded = mlineage.Artifact.create(
        schema_title="system.Dataset", display_name="raw", uri=str(raw)
    )
    task = fit(data=recorded)
    graph = settings.store().query_execution_inputs_and_outputs(task.execution)
    inputs = [e.artifact for e in graph.events if e.type is types.EventType.INPUT]
    assert inputs == [recorded.resource_name]


def test_a_direct_call_that_fails_raises(tmp_path: Path) -> None:
    with pytest.raises(dsl.PipelineTaskError, match="FileNotFoundError"):
        fit(data=Dataset(uri=str(tmp_path / "missing.csv")))


def test_bad_calls_are_type_errors(tmp_path: Path) -> None:
    data = Dataset(uri=str(tmp_path / "x"))
    with pytest.raises(TypeError, match="keyword arguments only"):
        fit(data)
    with pytest.raises(TypeError, match="'model' is an output artifact"):
        fit(data=data, model=Model(uri="m"))
    with pytest.raises(TypeError, match="input artifact 'data' is required"):
        fit(epochs=2)
    with pytest.raises(TypeError, match="must be a task output or a Dataset"):
        fit(data=str(tmp_path / "x"))
    with pytest.raises(TypeError, match="expected int, got bool"):
        fit(data=data, epochs=True)
