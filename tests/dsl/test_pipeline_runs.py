"""A pipeline run: tasks in order, outputs under the pipeline root, everything recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlineage
from mlineage import dsl, types
from mlineage.sdk.config import settings
from tests.dsl.pipelines import executions, small_pipeline, states


def test_run_executes_tasks_and_places_outputs_under_the_root(tmp_path: Path) -> None:
    run = dsl.run_pipeline(small_pipeline, {"rows": 4}, pipeline_root=str(tmp_path / "root"))

    assert run.state is types.ExecutionState.COMPLETE
    assert list(run.tasks) == ["generate", "train", "evaluate"]
    data = run.tasks["generate"].outputs["data"]
    assert data.path == str(tmp_path / "root" / run.run_id / "generate" / "data")
    assert run.run_id.startswith("small-pipeline-")
    assert Path(data.path).read_text().count("\n") == 5
    assert run.tasks["train"].outputs["rows"] == 4
    assert run.tasks["train"].outputs["note"] == "trained"
    assert run.tasks["evaluate"].outputs["Output"] == pytest.approx(0.1)
    assert run.tasks["evaluate"].outputs["metrics"].metadata == {"accuracy": 0.6}


def test_every_task_is_an_execution_with_params_and_events(tmp_path: Path) -> None:
    run = dsl.run_pipeline(small_pipeline, {"learning_rate": 0.25}, pipeline_root=str(tmp_path))
    store = settings.store()
    recorded = executions(run)

    assert states(run) == {"generate": "COMPLETE", "train": "COMPLETE", "evaluate": "COMPLETE"}
    train = recorded["train"]
    assert train.schema_title == "system.ContainerExecution"
    assert train.metadata["learning_rate"] == 0.25
    assert train.metadata["_component"] == "train"
    assert train.metadata["_outputs"] == {"rows": 10, "note": "trained"}
    assert recorded["generate"].metadata["_local"] == {"not_applied": {"base_image": "python:3.11"}}
    graph = store.query_execution_inputs_and_outputs(train.name)
    by_name = {a.name: a for a in graph.artifacts}
    inputs = [by_name[e.artifact] for e in graph.events if e.type is types.EventType.INPUT]
    outputs = [by_name[e.artifact] for e in graph.events if e.type is types.EventType.OUTPUT]
    assert [(a.schema_title, a.display_name) for a in inputs] == [("system.Dataset", "data")]
    assert [(a.schema_title, a.display_name) for a in outputs] == [("system.Model", "model")]
    assert outputs[0].fingerprint.startswith("sha256:")
    assert outputs[0].uri == run.tasks["train"].outputs["model"].uri


def test_pipeline_run_is_a_run_of_the_current_experiment(tmp_path: Path) -> None:
    mlineage.init(experiment="pipelines")
    run = dsl.run_pipeline(small_pipeline, {"rows": 6}, pipeline_root=str(tmp_path))

    info = settings.store().get_run(run.resource_name)
    assert info.context.schema_title == "system.PipelineRun"
    assert info.state is types.ExecutionState.COMPLETE
    frame = mlineage.get_experiment_df()
    row = frame.set_index("run_name").loc[run.run_id]
    assert row["run_type"] == "system.PipelineRun"
    assert row["state"] == "COMPLETE"
    assert row["param.rows"] == 6
    assert row["param.learning_rate"] == 0.1
    assert row["metric.accuracy"] == pytest.approx(0.6)


def test_run_without_experiment_is_recorded_outside_any(tmp_path: Path) -> None:
    run = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))

    info = settings.store().get_run(run.resource_name)
    assert info.experiment is None
    assert settings.store().get_params(run.resource_name) == {"rows": 10, "learning_rate": 0.1}


def test_calling_a_pipeline_runs_it_with_dsl_init_defaults(tmp_path: Path) -> None:
    dsl.init(pipeline_root=str(tmp_path / "defaults"))
    run = small_pipeline(rows=3)
    assert run.root == str(tmp_path / "defaults" / run.run_id)
    assert run.tasks["train"].outputs["rows"] == 3


def test_lineage_reaches_from_the_model_back_to_the_first_task(tmp_path: Path) -> None:
    run = dsl.run_pipeline(small_pipeline, pipeline_root=str(tmp_path))
    metrics = run.tasks["evaluate"].outputs["metrics"]

    graph = settings.store().query_artifact_lineage_subgraph(
        metrics.resource_name, direction="upstream"
    )
    assert {e.display_name for e in graph.executions} == {"generate", "train", "evaluate"}
    assert {a.display_name for a in graph.artifacts} == {"data", "model", "metrics"}


def test_wiring_mistakes_are_clear_type_errors(tmp_path: Path) -> None:
    from tests.dsl.pipelines import generate, train

    @dsl.pipeline
    def wrong() -> None:
        generated = generate()
        train(data=generated.outputs["data"], learning_rate="fast")

    with pytest.raises(TypeError, match=r"learning_rate.*expected float, got str"):
        dsl.run_pipeline(wrong, pipeline_root=str(tmp_path))

    @dsl.pipeline
    def unknown() -> None:
        generate(rowz=3)

    with pytest.raises(TypeError, match="unknown argument 'rowz'"):
        dsl.run_pipeline(unknown, pipeline_root=str(tmp_path))

    @dsl.pipeline
    def missing_output() -> None:
        generate().outputs["nope"]

    with pytest.raises(KeyError, match="no output 'nope'"):
        dsl.run_pipeline(missing_output, pipeline_root=str(tmp_path))
