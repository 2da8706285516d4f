"""`Execution`: create, get, get_or_create, list, update, delete, the context manager and
input/output artifacts."""

from __future__ import annotations

import dataclasses
import math

import pytest

import mlineage as aiplatform
from mlineage import types
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.sql import SqlStore

STORE = "projects/default/locations/us-central1/metadataStores/default"
State = aiplatform.Execution.State


def _dataset(resource_id: str) -> aiplatform.Artifact:
    return aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id=resource_id, uri=f"gs://b/{resource_id}"
    )


# -- create / get ------------------------------------------------------------------------------


def test_create_defaults() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    assert execution.resource_name == f"{STORE}/executions/step"
    read = aiplatform.Execution("step")
    assert read.schema_title == "system.ContainerExecution"
    assert read.schema_version == "0.0.1"
    assert read.state is State.RUNNING
    assert read.metadata == {}
    assert read.etag
    assert read.create_time is not None


def test_create_reads_back_every_field() -> None:
    aiplatform.Execution.create(
        "system.CustomJobExecution",
        resource_id="job",
        state=State.NEW,
        display_name="training job",
        schema_version="0.0.3",
        metadata={"image": "trainer:1", "args": ["--epochs", "3"]},
        description="trains",
        labels={"owner": "ml"},
    )
    read = aiplatform.Execution(f"{STORE}/executions/job")
    assert read.schema_title == "system.CustomJobExecution"
    assert read.state is types.ExecutionState.NEW
    assert read.display_name == "training job"
    assert read.schema_version == "0.0.3"
    assert read.metadata == {"image": "trainer:1", "args": ["--epochs", "3"]}
    assert read.description == "trains"
    assert read.labels == {"owner": "ml"}


def test_duplicate_id_is_already_exists() -> None:
    aiplatform.Execution.create(resource_id="step", display_name="first")
    with pytest.raises(AlreadyExistsError, match="step"):
        aiplatform.Execution.create(resource_id="step", display_name="second")
    assert aiplatform.Execution("step").display_name == "first"


def test_unknown_execution() -> None:
    assert aiplatform.Execution.get("nope") is None
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.Execution("nope")


def test_get_or_create() -> None:
    made = aiplatform.Execution.get_or_create(
        resource_id="step", schema_title="system.ContainerExecution", metadata={"v": 1}
    )
    again = aiplatform.Execution.get_or_create(
        resource_id="step", schema_title="system.ContainerExecution", metadata={"v": 2}
    )
    assert again.resource_name == made.resource_name
    assert again.metadata == {"v": 1}
    assert len(aiplatform.Execution.list()) == 1
    found = aiplatform.Execution.get("step")
    assert found is not None
    assert found.metadata == {"v": 1}


@pytest.mark.parametrize("bad_id", ["Step", "my_step", "x" * 129])
def test_resource_id_rule(bad_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Execution.create(resource_id=bad_id)
    assert caught.value.field in ("resource_id", "execution_id")
    assert caught.value.field in str(caught.value)
    assert aiplatform.Execution.list() == []


@pytest.mark.parametrize(
    "metadata", [{"x": math.nan}, {"x": {1, 2}}, {"x": "y" * (200 * 1024 + 1)}]
)
def test_bad_metadata_is_refused(metadata: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError, match="metadata"):
        aiplatform.Execution.create(resource_id="step", metadata=metadata)
    assert aiplatform.Execution.list() == []


# -- list ---------------------------------------------------------------------------------------


@pytest.fixture
def three_executions() -> None:
    aiplatform.Execution.create(resource_id="a", display_name="prep", state=State.COMPLETE)
    aiplatform.Execution.create(resource_id="b", display_name="train", state=State.RUNNING)
    aiplatform.Execution.create(
        "system.CustomJobExecution",
        resource_id="c",
        display_name="eval",
        state=State.FAILED,
        metadata={"epochs": 5},
    )


@pytest.mark.usefixtures("three_executions")
@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (None, ["a", "b", "c"]),
        ("state = COMPLETE", ["a"]),
        ("state != COMPLETE", ["b", "c"]),
        ('schema_title = "system.CustomJobExecution"', ["c"]),
        ('display_name = "train"', ["b"]),
        ("metadata.epochs.number_value = 5", ["c"]),
    ],
)
def test_list_filter(filter_: str | None, expected: list[str]) -> None:
    assert [e.name for e in aiplatform.Execution.list(filter=filter_)] == expected


@pytest.mark.usefixtures("three_executions")
def test_list_order_by() -> None:
    names = [e.display_name for e in aiplatform.Execution.list(order_by="display_name")]
    assert names == ["eval", "prep", "train"]
    names = [e.display_name for e in aiplatform.Execution.list(order_by="display_name desc")]
    assert names == ["train", "prep", "eval"]


# -- update --------------------------------------------------------------------------------------


def test_update_state_metadata_and_description() -> None:
    execution = aiplatform.Execution.create(
        resource_id="step", metadata={"a": 1, "cfg": {"x": 1, "y": 2}}
    )
    execution.update(
        state=State.COMPLETE, description="done", metadata={"cfg": {"y": 3}, "b": True}
    )
    read = aiplatform.Execution("step")
    assert read.state is State.COMPLETE
    assert read.description == "done"
    assert read.metadata == {"a": 1, "b": True, "cfg": {"x": 1, "y": 3}}


def test_update_with_a_bad_state_is_invalid_argument() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    with pytest.raises(InvalidArgumentError) as caught:
        execution.update(state="DONE")  # type: ignore[arg-type]
    assert caught.value.field == "state"
    assert aiplatform.Execution("step").state is State.RUNNING


def test_stale_etag_is_aborted(store: SqlStore) -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    old = dataclasses.replace(execution.gca_resource)
    execution.update(state=State.COMPLETE)
    with pytest.raises(AbortedError, match="etag"):
        store.update(dataclasses.replace(old, state=State.FAILED))
    assert aiplatform.Execution("step").state is State.COMPLETE

    other = aiplatform.Execution("step")
    execution.update(description="first")
    with pytest.raises(AbortedError):
        other.update(description="second")
    assert aiplatform.Execution("step").description == "first"


# -- delete --------------------------------------------------------------------------------------


def test_delete() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    execution.delete()
    assert aiplatform.Execution.get("step") is None
    assert aiplatform.Execution.list() == []


def test_deleting_an_execution_with_events_is_failed_precondition() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    execution.assign_output_artifacts([_dataset("out")])
    with pytest.raises(FailedPreconditionError):
        execution.delete()
    assert aiplatform.Execution("step").name == "step"
    assert [a.name for a in aiplatform.Execution("step").get_output_artifacts()] == ["out"]


# -- context manager -----------------------------------------------------------------------------


def test_context_manager_completes() -> None:
    with aiplatform.Execution.create(resource_id="step", state=State.NEW) as execution:
        assert aiplatform.Execution("step").state is State.RUNNING
        assert execution.state is State.RUNNING
    assert execution.state is State.COMPLETE
    assert aiplatform.Execution("step").state is State.COMPLETE


def test_context_manager_fails_when_the_block_raises() -> None:
    with (
        pytest.raises(KeyError, match="boom"),
        aiplatform.Execution.create(resource_id="step") as execution,
    ):
        raise KeyError("boom")
    assert execution.state is State.FAILED
    assert aiplatform.Execution("step").state is State.FAILED


# -- inputs and outputs --------------------------------------------------------------------------


def test_assign_and_get_input_and_output_artifacts() -> None:
    train, test = _dataset("train-ds"), _dataset("test-ds")
    model = aiplatform.Artifact.create(schema_title="system.Model", resource_id="model")
    execution = aiplatform.Execution.create(resource_id="train")
    execution.assign_input_artifacts([train, test])
    execution.assign_output_artifacts([model])

    again = aiplatform.Execution("train")
    inputs = again.get_input_artifacts()
    outputs = again.get_output_artifacts()
    assert {a.name for a in inputs} == {"train-ds", "test-ds"}
    assert all(isinstance(a, aiplatform.Artifact) for a in inputs)
    assert [a.name for a in outputs] == ["model"]
    assert outputs[0].schema_title == "system.Model"


def test_assign_accepts_resource_names_and_ids() -> None:
    _dataset("a")
    _dataset("b")
    execution = aiplatform.Execution.create(resource_id="step")
    execution.assign_input_artifacts([f"{STORE}/artifacts/a"])
    execution.assign_output_artifacts(["b"])
    assert [a.name for a in execution.get_input_artifacts()] == ["a"]
    assert [a.name for a in execution.get_output_artifacts()] == ["b"]


def test_assigning_the_same_artifact_twice_records_one_event() -> None:
    dataset = _dataset("ds")
    execution = aiplatform.Execution.create(resource_id="step")
    execution.assign_input_artifacts([dataset])
    execution.assign_input_artifacts([dataset])
    assert [a.name for a in execution.get_input_artifacts()] == ["ds"]
    graph = dataset.get_with_lineage_subgraph(max_hops=1)
    assert len(graph.events) == 1


def test_an_artifact_can_be_both_input_and_output() -> None:
    checkpoint = _dataset("ckpt")
    execution = aiplatform.Execution.create(resource_id="resume")
    execution.assign_input_artifacts([checkpoint])
    execution.assign_output_artifacts([checkpoint])
    assert [a.name for a in execution.get_input_artifacts()] == ["ckpt"]
    assert [a.name for a in execution.get_output_artifacts()] == ["ckpt"]


def test_an_execution_without_events_has_no_artifacts() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    assert execution.get_input_artifacts() == []
    assert execution.get_output_artifacts() == []


def test_assigning_an_unknown_artifact_is_not_found_and_records_nothing() -> None:
    dataset = _dataset("ds")
    execution = aiplatform.Execution.create(resource_id="step")
    with pytest.raises(NotFoundError, match="ghost"):
        execution.assign_input_artifacts([dataset, "ghost"])
    assert execution.get_input_artifacts() == []


def test_assigning_something_that_is_not_an_artifact_is_invalid_argument() -> None:
    execution = aiplatform.Execution.create(resource_id="step")
    with pytest.raises(InvalidArgumentError, match="artifacts"):
        execution.assign_input_artifacts([42])
    assert execution.get_input_artifacts() == []
