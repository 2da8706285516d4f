"""`Experiment` and `ExperimentRun`: the classes, their logging and reading methods, state,
log_input/log_output lineage and run provenance."""

from __future__ import annotations

import math
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlineage as aiplatform
from mlineage.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.sdk import provenance
from mlineage.types import ExecutionState

STORE = "projects/default/locations/us-central1/metadataStores/default"
State = aiplatform.Execution.State


def _run(name: str = "run-1", experiment: str = "exp") -> aiplatform.ExperimentRun:
    aiplatform.Experiment.get_or_create(experiment)
    return aiplatform.ExperimentRun.create(name, experiment=experiment)


# == Experiment ==================================================================================


def test_experiment_create_and_get() -> None:
    created = aiplatform.Experiment.create("churn", description="churn models")
    assert created.name == "churn"
    assert created.resource_name == f"{STORE}/contexts/churn"
    read = aiplatform.Experiment("churn")
    assert read.name == "churn"
    assert read.description == "churn models"
    assert read.resource_name == created.resource_name
    context = aiplatform.Context("churn")
    assert context.schema_title == "system.Experiment"
    assert context.metadata["experiment_deleted"] is False
    found = aiplatform.Experiment.get("churn")
    assert found is not None
    assert found.resource_name == created.resource_name


def test_experiment_duplicate_is_already_exists() -> None:
    aiplatform.Experiment.create("churn", description="first")
    with pytest.raises(AlreadyExistsError, match="churn"):
        aiplatform.Experiment.create("churn", description="second")
    assert aiplatform.Experiment("churn").description == "first"


def test_unknown_experiment() -> None:
    assert aiplatform.Experiment.get("nope") is None
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.Experiment("nope")


def test_a_context_that_is_not_an_experiment_is_not_found() -> None:
    aiplatform.Context.create("system.Pipeline", resource_id="pipe")
    with pytest.raises(NotFoundError):
        aiplatform.Experiment("pipe")
    assert aiplatform.Experiment.get("pipe") is None
    with pytest.raises(AlreadyExistsError):
        aiplatform.Experiment.create("pipe")


def test_experiment_get_or_create() -> None:
    made = aiplatform.Experiment.get_or_create("churn", description="one")
    again = aiplatform.Experiment.get_or_create("churn", description="two")
    assert again.resource_name == made.resource_name
    assert again.description == "one"
    assert [e.name for e in aiplatform.Experiment.list()] == ["churn"]


@pytest.mark.parametrize("bad", ["Churn", "churn_v2", "e" * 129, ""])
def test_experiment_name_rule(bad: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Experiment.create(bad)
    assert caught.value.field == "experiment_name"
    assert "experiment_name" in str(caught.value)
    assert aiplatform.Experiment.list() == []
    assert aiplatform.Context.list() == []


def test_experiment_list_only_lists_experiments_and_applies_the_filter() -> None:
    aiplatform.Experiment.create("exp-a")
    aiplatform.Experiment.create("exp-b")
    aiplatform.Context.create("system.Pipeline", resource_id="not-an-experiment")
    _run("r1", "exp-a")  # a run context is not an experiment either
    assert sorted(e.name for e in aiplatform.Experiment.list()) == ["exp-a", "exp-b"]
    assert all(isinstance(e, aiplatform.Experiment) for e in aiplatform.Experiment.list())
    assert [e.name for e in aiplatform.Experiment.list(filter='display_name = "exp-b"')] == [
        "exp-b"
    ]


def test_get_data_frame_of_an_empty_experiment() -> None:
    frame = aiplatform.Experiment.create("empty").get_data_frame()
    assert list(frame.columns) == ["experiment_name", "run_name", "run_type", "state"]
    assert len(frame) == 0


def test_get_data_frame() -> None:
    first = _run("r1")
    first.log_params({"lr": 0.1, "opt": "adam"})
    first.log_metrics({"acc": 0.9})
    first.log_time_series_metrics({"loss": 0.5}, step=0)
    first.log_time_series_metrics({"loss": 0.25}, step=1)
    first.end_run()
    second = _run("r2")
    second.log_params({"lr": 0.2})
    _run("other-run", "other-exp").log_metrics({"acc": 0.1})

    frame = aiplatform.Experiment("exp").get_data_frame()
    assert list(frame.columns) == [
        "experiment_name",
        "run_name",
        "run_type",
        "state",
        "param.lr",
        "param.opt",
        "metric.acc",
        "time_series_metric.loss",
    ]
    rows = {row["run_name"]: row for row in frame.to_dict("records")}
    assert set(rows) == {"r1", "r2"}
    assert rows["r1"]["experiment_name"] == "exp"
    assert rows["r1"]["run_type"] == "system.ExperimentRun"
    assert rows["r1"]["state"] == "COMPLETE"
    assert rows["r2"]["state"] == "RUNNING"
    assert rows["r1"]["param.lr"] == 0.1
    assert rows["r1"]["param.opt"] == "adam"
    assert rows["r2"]["param.lr"] == 0.2
    assert pd.isna(rows["r2"]["param.opt"])
    assert rows["r1"]["metric.acc"] == 0.9
    assert pd.isna(rows["r2"]["metric.acc"])
    assert rows["r1"]["time_series_metric.loss"] == 0.25
    without_series = aiplatform.Experiment("exp").get_data_frame(include_time_series=False)
    assert "time_series_metric.loss" not in without_series.columns
    assert len(without_series) == 2


def test_experiment_delete_deletes_its_runs() -> None:
    run = _run("r1")
    run.log_params({"lr": 0.1})
    run.log_metrics({"acc": 0.9})
    run.log_time_series_metrics({"loss": 1.0})
    _run("r2")
    _run("keep", "other")
    aiplatform.Experiment("exp").delete()

    assert aiplatform.Experiment.get("exp") is None
    assert aiplatform.Context.get("exp-r1") is None
    assert aiplatform.Context.get("exp-r2") is None
    assert [r.name for r in aiplatform.ExperimentRun.list(experiment="other")] == ["keep"]
    # a new experiment and run of the same names start empty
    aiplatform.Experiment.create("exp")
    assert aiplatform.ExperimentRun.list(experiment="exp") == []
    again = aiplatform.ExperimentRun.create("r1", experiment="exp")
    assert again.get_params() == {}
    assert again.get_metrics() == {}
    assert len(again.get_time_series_data_frame()) == 0
    assert len(aiplatform.Experiment("exp").get_data_frame()) == 1


def test_a_recreated_run_does_not_inherit_the_deleted_runs_lineage() -> None:
    old_data = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="old-data")
    old = _run("r1")
    old.log_input(old_data)
    old.end_run()
    aiplatform.Experiment("exp").delete()

    new_data = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="new-data")
    model = aiplatform.Artifact.create(schema_title="system.Model", resource_id="model")
    new = _run("r1")
    new.log_input(new_data)
    new.log_output(model)
    upstream = model.get_with_lineage_subgraph(direction="upstream")
    assert sorted(a.resource_id for a in upstream.artifacts) == ["model", "new-data"]
    (execution,) = new.get_executions()
    assert [a.name for a in execution.get_input_artifacts()] == ["new-data"]


# == ExperimentRun: identity =====================================================================


def test_run_create() -> None:
    experiment = aiplatform.Experiment.create("exp")
    run = aiplatform.ExperimentRun.create("run-1", experiment=experiment)
    assert run.name == "run-1"
    assert run.resource_id == "exp-run-1"
    assert run.resource_name == f"{STORE}/contexts/exp-run-1"
    assert run.experiment.name == "exp"
    assert run.state is ExecutionState.RUNNING
    assert run.get_state() == "RUNNING"
    context = aiplatform.Context("exp-run-1")
    assert context.schema_title == "system.ExperimentRun"
    assert context.display_name == "run-1"
    assert context.parent_contexts == [experiment.resource_name]


def test_run_create_in_an_unknown_experiment_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.ExperimentRun.create("run-1", experiment="nope")
    assert aiplatform.Context.list() == []


def test_run_duplicate_is_already_exists_mentioning_resume() -> None:
    run = _run("run-1")
    run.log_params({"lr": 0.1})
    with pytest.raises(AlreadyExistsError, match=r"resume=True"):
        aiplatform.ExperimentRun.create("run-1", experiment="exp")
    assert aiplatform.ExperimentRun("run-1", experiment="exp").get_params() == {"lr": 0.1}


def test_run_constructor_and_get() -> None:
    _run("run-1").log_metrics({"acc": 0.5})
    read = aiplatform.ExperimentRun("run-1", experiment="exp")
    assert read.resource_name == f"{STORE}/contexts/exp-run-1"
    assert read.get_metrics() == {"acc": 0.5}
    found = aiplatform.ExperimentRun.get("run-1", experiment="exp")
    assert found is not None
    assert found.resource_name == read.resource_name
    assert aiplatform.ExperimentRun("run-1", experiment=aiplatform.Experiment("exp")).name == (
        "run-1"
    )


def test_missing_run() -> None:
    aiplatform.Experiment.create("exp")
    with pytest.raises(NotFoundError, match="missing"):
        aiplatform.ExperimentRun("missing", experiment="exp")
    assert aiplatform.ExperimentRun.get("missing", experiment="exp") is None
    with pytest.raises(NotFoundError):
        aiplatform.ExperimentRun("missing", experiment="no-such-experiment")


def test_a_context_that_is_not_a_run_is_not_a_run() -> None:
    aiplatform.Experiment.create("exp")
    aiplatform.Context.create("system.Context", resource_id="exp-plain")
    with pytest.raises(NotFoundError):
        aiplatform.ExperimentRun("plain", experiment="exp")
    assert aiplatform.ExperimentRun.get("plain", experiment="exp") is None


def test_run_list() -> None:
    _run("r1")
    _run("r2")
    _run("r3", "other")
    runs = aiplatform.ExperimentRun.list(experiment="exp")
    assert sorted(r.name for r in runs) == ["r1", "r2"]
    assert all(isinstance(r, aiplatform.ExperimentRun) for r in runs)
    assert [r.name for r in aiplatform.ExperimentRun.list(experiment="other")] == ["r3"]


@pytest.mark.parametrize(
    ("experiment", "run_name"),
    [
        ("exp", "Run-1"),
        ("exp", "run_1"),
        ("exp", "r" * 125),  # "exp-" + 125 characters is over 128
        ("e" * 100, "r" * 28),
    ],
)
def test_run_name_rule(experiment: str, run_name: str) -> None:
    aiplatform.Experiment.create(experiment)
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.ExperimentRun.create(run_name, experiment=experiment)
    assert caught.value.field == "run_name"
    assert "run_name" in str(caught.value)
    assert aiplatform.ExperimentRun.list(experiment=experiment) == []


def test_run_delete() -> None:
    run = _run("r1")
    run.log_params({"a": 1})
    run.delete()
    assert aiplatform.ExperimentRun.get("r1", experiment="exp") is None
    assert aiplatform.ExperimentRun.list(experiment="exp") == []
    assert aiplatform.ExperimentRun.create("r1", experiment="exp").get_params() == {}


# == ExperimentRun: params and metrics =========================================================


def test_params_keep_their_types() -> None:
    run = _run()
    run.log_params({"lr": 0.01, "depth": 5, "early_stop": True, "optimizer": "adam"})
    run.log_params({"shuffle": False, "big": 2**60, "neg": -3, "zero": 0.0})
    params = aiplatform.ExperimentRun("run-1", experiment="exp").get_params()
    expected = {
        "lr": (0.01, float),
        "depth": (5, int),
        "early_stop": (True, bool),
        "optimizer": ("adam", str),
        "shuffle": (False, bool),
        "big": (2**60, int),
        "neg": (-3, int),
        "zero": (0.0, float),
    }
    assert set(params) == set(expected)
    for key, (value, kind) in expected.items():
        assert params[key] == value, key
        assert type(params[key]) is kind, key


def test_numpy_float_params_and_metrics_round_trip() -> None:
    # np.float64 is a float subclass, so it is accepted like a float (as Vertex accepts it);
    # it must then read back as the number it is.
    run = _run()
    run.log_params({"lr": np.float64(0.1), "decay": np.float64(1e-5)})
    run.log_metrics({"acc": np.float64(0.875)})
    params = aiplatform.ExperimentRun("run-1", experiment="exp").get_params()
    assert params == {"lr": 0.1, "decay": 1e-5}
    assert all(isinstance(v, float) for v in params.values())
    assert run.get_metrics() == {"acc": 0.875}
    (row,) = aiplatform.Experiment("exp").get_data_frame().to_dict("records")
    assert row["param.lr"] == 0.1


def test_logging_a_param_again_replaces_it() -> None:
    run = _run()
    run.log_params({"lr": 0.1, "depth": 3})
    run.log_params({"lr": "auto"})
    assert run.get_params() == {"lr": "auto", "depth": 3}


def test_metrics_round_trip_as_floats_and_merge() -> None:
    run = _run()
    run.log_metrics({"acc": 0.92, "epochs": 3})
    run.log_metrics({"acc": 0.95, "f1": 0.5})
    metrics = aiplatform.ExperimentRun("run-1", experiment="exp").get_metrics()
    assert metrics == {"acc": 0.95, "epochs": 3.0, "f1": 0.5}
    assert all(type(v) is float for v in metrics.values())


def test_a_new_run_has_no_params_or_metrics() -> None:
    run = _run()
    assert run.get_params() == {}
    assert run.get_metrics() == {}


def test_nan_and_inf_metrics_round_trip() -> None:
    run = _run()
    run.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
    metrics = aiplatform.ExperimentRun("run-1", experiment="exp").get_metrics()
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layers": [1, 2]}, "params.layers"),
        ({"cfg": {"a": 1}}, "params.cfg"),
        ({"nothing": None}, "params.nothing"),
        ({"": 1}, "params"),
        ({"k" * 251: 1}, "params"),
    ],
)
def test_bad_params_are_refused_before_writing(params: dict[str, object], field: str) -> None:
    run = _run()
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_params({"good": 1, **params})  # type: ignore[dict-item]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert run.get_params() == {}


@pytest.mark.parametrize(
    ("metrics", "field"),
    [
        ({"acc": "high"}, "metrics.acc"),
        ({"acc": True}, "metrics.acc"),
        ({"acc": None}, "metrics.acc"),
        ({"acc": [0.1]}, "metrics.acc"),
        ({"": 0.5}, "metrics"),
        ({"m" * 251: 0.5}, "metrics"),
    ],
)
def test_bad_metrics_are_refused_before_writing(metrics: dict[str, object], field: str) -> None:
    run = _run()
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_metrics({"good": 1.0, **metrics})  # type: ignore[dict-item]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert run.get_metrics() == {}


def test_a_250_character_key_is_accepted() -> None:
    run = _run()
    run.log_params({"p" * 250: 1})
    run.log_metrics({"m" * 250: 1.0})
    assert run.get_params() == {"p" * 250: 1}
    assert run.get_metrics() == {"m" * 250: 1.0}


# == ExperimentRun: time series ==================================================================


def test_time_series_data_frame() -> None:
    run = _run()
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for step in range(3):
        run.log_time_series_metrics(
            {"loss": 1.0 / (step + 1), "acc": step / 10},
            step=step,
            wall_time=t0.replace(minute=step),
        )
    frame = aiplatform.ExperimentRun("run-1", experiment="exp").get_time_series_data_frame()
    assert list(frame.columns)[:2] == ["step", "wall_time"]
    assert sorted(frame.columns[2:]) == ["acc", "loss"]
    assert list(frame["step"]) == [0, 1, 2]
    assert list(frame["loss"]) == [1.0, 0.5, pytest.approx(1 / 3)]
    assert list(frame["acc"]) == [0.0, 0.1, 0.2]
    assert [pd.Timestamp(w).to_pydatetime() for w in frame["wall_time"]] == [
        t0,
        t0.replace(minute=1),
        t0.replace(minute=2),
    ]


def test_time_series_data_frame_of_a_run_without_series() -> None:
    frame = _run().get_time_series_data_frame()
    assert list(frame.columns) == ["step", "wall_time"]
    assert len(frame) == 0


def test_time_series_default_step_is_last_plus_one() -> None:
    run = _run()
    assert run.log_time_series_metrics({"loss": 0.9}) == 0
    assert run.log_time_series_metrics({"loss": 0.8}) == 1
    assert run.log_time_series_metrics({"loss": 0.7}, step=10) == 10
    assert run.log_time_series_metrics({"loss": 0.6}) == 11
    frame = run.get_time_series_data_frame()
    assert list(frame["step"]) == [0, 1, 10, 11]
    assert list(frame["loss"]) == [0.9, 0.8, 0.7, 0.6]


def test_time_series_default_step_follows_the_runs_last_step_across_metrics() -> None:
    # The contract (store/base.py) and Vertex (ExperimentRun._get_latest_time_series_step)
    # both take the last step of all the run's series, not only of the keys being logged.
    run = _run()
    for step in range(3):
        run.log_time_series_metrics({"loss": float(step)}, step=step)
    assert run.log_time_series_metrics({"acc": 0.5}) == 3


def test_time_series_wall_time_as_epoch_seconds() -> None:
    run = _run()
    run.log_time_series_metrics({"loss": 1.0}, step=0, wall_time=1_700_000_000.5)
    frame = run.get_time_series_data_frame()
    assert pd.Timestamp(frame["wall_time"][0]).to_pydatetime() == datetime.fromtimestamp(
        1_700_000_000.5, UTC
    )


def test_time_series_nan_and_inf_round_trip() -> None:
    run = _run()
    run.log_time_series_metrics({"loss": math.nan, "grad": math.inf}, step=0)
    run.log_time_series_metrics({"loss": -math.inf, "grad": 1.0}, step=1)
    frame = run.get_time_series_data_frame().set_index("step")
    assert math.isnan(frame.loc[0, "loss"])
    assert frame.loc[1, "loss"] == -math.inf
    assert frame.loc[0, "grad"] == math.inf


def test_time_series_rewriting_a_step_replaces_it() -> None:
    run = _run()
    run.log_time_series_metrics({"loss": 1.0}, step=5)
    run.log_time_series_metrics({"loss": 2.0}, step=5)
    frame = run.get_time_series_data_frame()
    assert list(frame["step"]) == [5]
    assert list(frame["loss"]) == [2.0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metrics": {"loss": "x"}}, "metrics.loss"),
        ({"metrics": {"loss": False}}, "metrics.loss"),
        ({"metrics": {"": 1.0}}, "metrics"),
        ({"metrics": {"loss": 1.0}, "step": -1}, "step"),
        ({"metrics": {"loss": 1.0}, "step": 1.5}, "step"),
        ({"metrics": {"loss": 1.0}, "wall_time": "yesterday"}, "wall_time"),
    ],
)
def test_bad_time_series_are_refused_before_writing(kwargs: dict[str, object], field: str) -> None:
    run = _run()
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_time_series_metrics(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert len(run.get_time_series_data_frame()) == 0
    assert run.log_time_series_metrics({"loss": 1.0}) == 0


# == ExperimentRun: classification metrics, artifacts, executions ================================


def test_classification_metrics_round_trip() -> None:
    run = _run()
    artifact = run.log_classification_metrics(
        labels=["cat", "dog"],
        matrix=[[9, 1], [2, 8]],
        fpr=[0.0, 0.1, 1.0],
        tpr=[0.0, 0.8, 1.0],
        threshold=[1.0, 0.5, 0.0],
        display_name="confusion",
    )
    assert artifact.schema_title == "google.ClassificationMetrics"
    (metrics,) = aiplatform.ExperimentRun("run-1", experiment="exp").get_classification_metrics()
    assert metrics == {
        "id": artifact.name,
        "display_name": "confusion",
        "labels": ["cat", "dog"],
        "matrix": [[9.0, 1.0], [2.0, 8.0]],
        "fpr": [0.0, 0.1, 1.0],
        "tpr": [0.0, 0.8, 1.0],
        "threshold": [1.0, 0.5, 0.0],
    }
    assert artifact.metadata["confusionMatrix"]["annotationSpecs"] == [
        {"displayName": "cat"},
        {"displayName": "dog"},
    ]
    assert [a.name for a in run.get_artifacts()] == [artifact.name]


def test_classification_metrics_only_a_matrix_or_only_a_curve() -> None:
    run = _run()
    run.log_classification_metrics(labels=["a", "b"], matrix=[[1, 0], [0, 1]], display_name="m")
    run.log_classification_metrics(fpr=[0.0, 1.0], tpr=[0.0, 1.0], threshold=[1.0, 0.0])
    by_name = {m["display_name"]: m for m in run.get_classification_metrics()}
    assert by_name["m"]["matrix"] == [[1.0, 0.0], [0.0, 1.0]]
    assert "fpr" not in by_name["m"]
    assert by_name[""]["fpr"] == [0.0, 1.0]
    assert "matrix" not in by_name[""]


def test_classification_metrics_of_another_run_are_not_returned() -> None:
    _run("r1").log_classification_metrics(matrix=[[1]], labels=["x"])
    assert _run("r2").get_classification_metrics() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"matrix": [[1, 2], [3]]}, "matrix"),
        ({"labels": ["a"], "matrix": [[1, 2], [3, 4]]}, "labels"),
        ({"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]}, "fpr"),
        ({"fpr": [0.0, 1.0], "tpr": [0.0], "threshold": [1.0, 0.0]}, "fpr"),
        ({}, "matrix"),
    ],
)
def test_bad_classification_metrics_are_refused(kwargs: dict[str, object], field: str) -> None:
    run = _run()
    with pytest.raises(InvalidArgumentError) as caught:
        run.log_classification_metrics(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert run.get_classification_metrics() == []
    assert aiplatform.Artifact.list() == []


def test_log_input_and_output_connect_the_runs_lineage() -> None:
    dataset = aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="train-data", uri="file:///data/train.csv"
    )
    model = aiplatform.Artifact.create(
        schema_title="system.Model", resource_id="model", uri="file:///models/m1"
    )
    run = _run()
    run.log_input(dataset)
    run.log_output(model.resource_name)

    assert sorted(a.name for a in run.get_artifacts()) == ["model", "train-data"]
    (execution,) = run.get_executions()
    assert [a.name for a in execution.get_input_artifacts()] == ["train-data"]
    assert [a.name for a in execution.get_output_artifacts()] == ["model"]

    upstream = model.get_with_lineage_subgraph(direction="upstream")
    assert sorted(a.resource_id for a in upstream.artifacts) == ["model", "train-data"]
    assert [e.name for e in upstream.executions] == [execution.resource_name]
    assert {(e.artifact, e.execution, e.type.name) for e in upstream.events} == {
        (dataset.resource_name, execution.resource_name, "INPUT"),
        (model.resource_name, execution.resource_name, "OUTPUT"),
    }
    downstream = aiplatform.Artifact.get_with_lineage_subgraph(
        resource_id="train-data", direction="downstream"
    )
    assert sorted(a.resource_id for a in downstream.artifacts) == ["model", "train-data"]

    run.end_run()
    assert aiplatform.Execution(execution.resource_name).state is State.COMPLETE


def test_several_inputs_share_one_run_execution() -> None:
    a = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="a")
    b = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="b")
    run = _run()
    run.log_input(a)
    run.log_input(b)
    run.log_input(a)
    (execution,) = run.get_executions()
    assert sorted(x.name for x in execution.get_input_artifacts()) == ["a", "b"]


def test_log_input_of_an_unknown_artifact_is_not_found() -> None:
    run = _run()
    with pytest.raises(NotFoundError, match="ghost"):
        run.log_input("ghost")
    assert run.get_artifacts() == []


def test_a_failed_run_fails_its_execution() -> None:
    dataset = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    run = _run()
    run.log_input(dataset)
    run.end_run(state=State.FAILED)
    (execution,) = aiplatform.ExperimentRun("run-1", experiment="exp").get_executions()
    assert execution.state is State.FAILED


def test_get_artifacts_and_executions_of_a_new_run_are_empty() -> None:
    run = _run()
    assert run.get_artifacts() == []
    assert run.get_executions() == []


# == ExperimentRun: state ========================================================================


def test_get_state_is_a_string_and_state_an_enum() -> None:
    run = _run()
    assert run.get_state() == "RUNNING"
    assert isinstance(run.get_state(), str)
    assert run.state is ExecutionState.RUNNING
    run.end_run()
    assert run.get_state() == "COMPLETE"
    assert run.state is ExecutionState.COMPLETE
    read = aiplatform.ExperimentRun("run-1", experiment="exp")
    assert read.get_state() == "COMPLETE"
    assert read.state is State.COMPLETE


def test_end_run_with_a_state() -> None:
    run = _run()
    run.end_run(state=State.CANCELLED)
    assert aiplatform.ExperimentRun("run-1", experiment="exp").get_state() == "CANCELLED"


def test_update_state() -> None:
    run = _run()
    run.update_state(State.COMPLETE)
    assert aiplatform.ExperimentRun("run-1", experiment="exp").state is State.COMPLETE
    run.update_state(State.RUNNING)
    assert aiplatform.ExperimentRun("run-1", experiment="exp").get_state() == "RUNNING"


def test_update_state_with_a_string_is_invalid_argument() -> None:
    run = _run()
    with pytest.raises(InvalidArgumentError) as caught:
        run.update_state("COMPLETE")  # type: ignore[arg-type]
    assert caught.value.field == "state"
    assert aiplatform.ExperimentRun("run-1", experiment="exp").get_state() == "RUNNING"


def test_a_run_as_a_context_manager() -> None:
    with _run("ok") as run:
        run.log_metrics({"acc": 1.0})
    assert aiplatform.ExperimentRun("ok", experiment="exp").get_state() == "COMPLETE"
    with pytest.raises(ZeroDivisionError), _run("bad"):
        _ = 1 / 0
    assert aiplatform.ExperimentRun("bad", experiment="exp").get_state() == "FAILED"


# == provenance ==================================================================================


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-commit git repository on branch `main`, made the working directory."""
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q")
    _git(path, "checkout", "-q", "-b", "main")
    (path / "train.py").write_text("print('train')\n")
    _git(path, "add", "train.py")
    _git(path, "commit", "-q", "-m", "first")
    monkeypatch.chdir(path)
    return path


def test_provenance_basics_are_recorded() -> None:
    run = _run()
    run.end_run()
    provenance.wait_for_pending()
    recorded = aiplatform.ExperimentRun("run-1", experiment="exp").provenance
    assert recorded["python"] == platform.python_version()
    assert recorded["command"] == list(sys.argv)
    assert recorded["cwd"] == str(Path.cwd())
    assert recorded["hostname"]
    assert recorded["platform"]
    assert recorded["packages"]["pandas"] == pd.__version__


def test_provenance_of_a_clean_git_tree(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    run = _run()
    run.end_run()
    provenance.wait_for_pending()
    git = aiplatform.ExperimentRun("run-1", experiment="exp").provenance["git"]
    assert git["commit"] == commit
    assert git["branch"] == "main"
    assert git["dirty"] is False


def test_provenance_of_a_dirty_git_tree(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('changed')\n")
    run = _run()
    run.end_run()
    provenance.wait_for_pending()
    git = aiplatform.ExperimentRun("run-1", experiment="exp").provenance["git"]
    assert git["commit"] == commit
    assert git["branch"] == "main"
    assert git["dirty"] is True


def test_provenance_follows_the_current_commit(repo: Path) -> None:
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('v2')\n")
    _git(repo, "commit", "-q", "-am", "second")
    second = _git(repo, "rev-parse", "HEAD")
    assert first != second
    run = _run()
    run.end_run()
    provenance.wait_for_pending()
    run = aiplatform.ExperimentRun("run-1", experiment="exp")
    assert run.provenance["git"]["commit"] == second
    assert run.provenance["git"]["dirty"] is False


def test_provenance_outside_a_git_tree_has_no_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    try:
        _git(plain, "rev-parse", "--git-dir")
    except subprocess.CalledProcessError:
        pass
    else:
        pytest.fail("tmp_path is inside a git repository; cannot test the no-git case")
    run = _run()
    run.end_run()
    assert "git" not in aiplatform.ExperimentRun("run-1", experiment="exp").provenance
