"""Run contexts as Vertex sees them: `_params`, `_metrics`, `_state` in the metadata, on
every backend, agreeing with the run tables whichever way was written."""

from __future__ import annotations

import math

import pytest

from mlineage.errors import AbortedError, InvalidArgumentError
from mlineage.store import MetadataStore
from mlineage.types import Context, ExecutionState, StoreName


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    return contract_store


def _experiment(store: MetadataStore, parent: StoreName) -> Context:
    return store.create(
        parent,
        Context(schema_title="system.Experiment", metadata={"experiment_deleted": False}),
        "exp",
    )


def _vertex_run(store: MetadataStore, parent: StoreName, run_id: str = "exp-run-1") -> Context:
    """A run created the way the Vertex SDK creates one: a plain CreateContext."""
    return store.create(
        parent,
        Context(
            schema_title="system.ExperimentRun",
            display_name="run-1",
            metadata={"_params": {}, "_metrics": {}, "_state": "RUNNING"},
        ),
        run_id,
    )


def test_a_context_created_as_a_run_is_a_run(store: MetadataStore, parent: StoreName) -> None:
    created = _vertex_run(store, parent)
    assert created.metadata == {"_params": {}, "_metrics": {}, "_state": "RUNNING"}
    info = store.get_run(created.name)
    assert info.state is ExecutionState.RUNNING
    assert info.run_type == "system.ExperimentRun"
    assert info.experiment is None


def test_whole_context_updates_write_the_run_tables(
    store: MetadataStore, parent: StoreName
) -> None:
    run = _vertex_run(store, parent)
    run.metadata = {
        "_params": {"lr": 0.1, "optimizer": "adam", "epochs": 3},
        "_metrics": {},
        "_state": "RUNNING",
        "note": "kept as plain metadata",
    }
    updated = store.update(run)
    assert store.get_params(run.name) == {"lr": 0.1, "optimizer": "adam", "epochs": 3}
    # The SDK merges client-side and sends everything again, with the etag it was given.
    updated.metadata = {**updated.metadata, "_metrics": {"accuracy": 0.9}, "_state": "COMPLETE"}
    store.update(updated)
    assert store.get_metrics(run.name) == {"accuracy": 0.9}
    info = store.get_run(run.name)
    assert info.state is ExecutionState.COMPLETE
    assert info.end_time is not None
    read = store.get(run.name, Context)
    assert read.metadata == {
        "_params": {"epochs": 3, "lr": 0.1, "optimizer": "adam"},
        "_metrics": {"accuracy": 0.9},
        "_state": "COMPLETE",
        "note": "kept as plain metadata",
    }


def test_a_stale_etag_is_aborted_with_the_text_the_vertex_sdk_retries_on(
    store: MetadataStore, parent: StoreName
) -> None:
    run = _vertex_run(store, parent)
    stale = store.get(run.name, Context)
    run.metadata = {**run.metadata, "_params": {"lr": 0.1}}
    store.update(run)
    stale.metadata = {**stale.metadata, "_params": {"lr": 0.2}}
    with pytest.raises(AbortedError, match=r"Specified Context `etag`: `1` does not match"):
        store.update(stale)
    assert store.get_params(run.name) == {"lr": 0.1}


def test_keys_left_out_keep_their_values(store: MetadataStore, parent: StoreName) -> None:
    run = _vertex_run(store, parent)
    run.metadata = {"_params": {"a": 1, "b": 2}}
    run = store.update(run)
    run.metadata = {"_params": {"b": 3}}
    store.update(run)
    assert store.get_params(run.name) == {"a": 1, "b": 3}


def test_sdk_logging_shows_in_the_context_metadata(store: MetadataStore, parent: StoreName) -> None:
    experiment = _experiment(store, parent)
    info = store.create_run(
        parent,
        Context(schema_title="system.ExperimentRun", display_name="r"),
        "exp-r",
        experiment=experiment.name,
    )
    store.log_params(info.context.name, {"lr": 0.5, "layers": 4, "name": "x", "on": True})
    store.log_metrics(info.context.name, {"loss": math.nan, "acc": 1.0})
    store.update_run(info.context.name, state=ExecutionState.FAILED)
    (listed,) = store.list(parent, Context, filter=f'parent_contexts:"{experiment.name}"').items
    assert listed.metadata == {
        "_params": {"layers": 4, "lr": 0.5, "name": "x", "on": True},
        "_metrics": {"acc": 1.0, "loss": "NaN"},
        "_state": "FAILED",
    }
    # Sent back unchanged (as the Vertex SDK does), NaN stays a float NaN.
    store.update(listed)
    assert math.isnan(store.get_metrics(info.context.name)["loss"])
    assert store.get_params(info.context.name)["name"] == "x"


def test_adding_a_run_to_an_experiment_sets_its_experiment(
    store: MetadataStore, parent: StoreName
) -> None:
    experiment = _experiment(store, parent)
    run = _vertex_run(store, parent)
    store.add_context_children(experiment.name, [run.name])
    assert store.get_run(run.name).experiment == experiment.name
    assert [i.context.name for i in store.list_runs(experiment.name).items] == [run.name]
    (row,) = store.experiment_rows(experiment.name).items
    assert row.run_name == "run-1"


def test_removing_a_run_from_its_experiment_unsets_it(
    store: MetadataStore, parent: StoreName
) -> None:
    experiment = _experiment(store, parent)
    run = _vertex_run(store, parent)
    store.add_context_children(experiment.name, [run.name])
    store.remove_context_children(experiment.name, [run.name])
    assert store.get_run(run.name).experiment is None
    assert store.list_runs(experiment.name).items == []


def test_a_non_experiment_parent_leaves_the_run_alone(
    store: MetadataStore, parent: StoreName
) -> None:
    pipeline = store.create(parent, Context(schema_title="system.Pipeline"), "pipe")
    run = _vertex_run(store, parent)
    store.add_context_children(pipeline.name, [run.name])
    assert store.get_run(run.name).experiment is None


def test_other_contexts_keep_run_keys_as_plain_metadata(
    store: MetadataStore, parent: StoreName
) -> None:
    created = store.create(
        parent, Context(schema_title="system.Context", metadata={"_params": {"x": [1]}}), "c1"
    )
    assert store.get(created.name, Context).metadata == {"_params": {"x": [1]}}


def test_bad_run_fields_name_the_field(store: MetadataStore, parent: StoreName) -> None:
    run = _vertex_run(store, parent)
    run.metadata = {"_state": "DONE"}
    with pytest.raises(InvalidArgumentError) as error:
        store.update(run)
    assert error.value.field == "metadata._state"
    run.metadata = {"_metrics": {"acc": "high"}}
    with pytest.raises(InvalidArgumentError) as error:
        store.update(run)
    assert error.value.field == "metadata._metrics.acc"


def test_a_page_of_runs_is_assembled_in_bulk(store: MetadataStore, parent: StoreName) -> None:
    experiment = _experiment(store, parent)
    names = []
    for i in range(5):
        run = _vertex_run(store, parent, f"exp-run-{i}")
        run.metadata = {"_params": {"i": i}, "_metrics": {"m": i / 2}}
        store.update(run)
        names.append(run.name)
    store.add_context_children(experiment.name, names)
    page = store.list(parent, Context, filter='schema_title="system.ExperimentRun"', page_size=3)
    assert [c.metadata["_params"] for c in page.items] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [c.metadata["_metrics"] for c in page.items] == [{"m": 0.0}, {"m": 0.5}, {"m": 1.0}]
