"""The module-level tracking API: init, start_run, end_run, log_*, get_experiment_df and
start_execution."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import mlineage as aiplatform
from mlineage.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.sdk.config import settings

State = aiplatform.Execution.State


def _read_run(name: str, experiment: str) -> aiplatform.ExperimentRun:
    return aiplatform.ExperimentRun(name, experiment=experiment)


# -- init ----------------------------------------------------------------------------------------


def test_init_sets_project_location_and_experiment() -> None:
    aiplatform.init(
        project="my-project",
        location="europe-west4",
        experiment="churn",
        experiment_description="churn models",
        credentials=object(),
        staging_bucket="gs://ignored",
        experiment_tensorboard=False,
    )
    assert aiplatform.get_experiment() == "churn"
    experiment = aiplatform.Experiment("churn")
    assert experiment.description == "churn models"
    assert experiment.resource_name == (
        "projects/my-project/locations/europe-west4/metadataStores/default/contexts/churn"
    )
    artifact = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    assert artifact.resource_name == (
        "projects/my-project/locations/europe-west4/metadataStores/default/artifacts/ds"
    )
    assert aiplatform.MetadataStore("default").resource_name == (
        "projects/my-project/locations/europe-west4/metadataStores/default"
    )


def test_init_twice_with_the_same_experiment_keeps_one() -> None:
    aiplatform.init(experiment="churn", experiment_description="first")
    aiplatform.init(experiment="churn", experiment_description="second")
    assert [e.name for e in aiplatform.Experiment.list()] == ["churn"]
    assert aiplatform.Experiment("churn").description == "first"


def test_init_switches_experiment() -> None:
    aiplatform.init(experiment="first")
    with aiplatform.start_run("r"):
        pass
    aiplatform.init(experiment="second")
    with aiplatform.start_run("r"):
        pass
    assert aiplatform.get_experiment() == "second"
    assert list(aiplatform.get_experiment_df()["experiment_name"]) == ["second"]
    assert list(aiplatform.get_experiment_df("first")["experiment_name"]) == ["first"]


def test_init_with_a_bad_experiment_name_sets_nothing() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.init(experiment="Bad_Name")
    assert caught.value.field == "experiment_name"
    assert aiplatform.get_experiment() is None
    assert aiplatform.Experiment.list() == []


def test_init_store_chooses_the_file(tmp_path: Path, store_path: Path) -> None:
    other = tmp_path / "other" / "store.db"
    other.parent.mkdir()
    aiplatform.init(store=str(other))
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="in-other")
    assert other.exists()
    aiplatform.init(store=str(store_path))
    assert aiplatform.Artifact.get("in-other") is None
    aiplatform.init(store=f"sqlite:///{other}")
    assert aiplatform.Artifact("in-other").name == "in-other"


def test_mlineage_store_environment_variable_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "env.db"
    monkeypatch.setenv("MLINEAGE_STORE", str(elsewhere))
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    assert elsewhere.exists()


@pytest.mark.parametrize("bad", ["", "sqlite://", "ftp://host/x"])
def test_init_with_a_bad_store_is_invalid_argument(bad: str) -> None:
    def use(store: str) -> None:
        aiplatform.init(store=store)
        aiplatform.Artifact.list()

    with pytest.raises(InvalidArgumentError) as caught:
        use(bad)
    assert caught.value.field == "store"


# -- start_run / end_run --------------------------------------------------------------------------


def test_start_run_as_a_context_manager_completes() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1") as run:
        assert isinstance(run, aiplatform.ExperimentRun)
        assert run.name == "run-1"
        assert run.get_state() == "RUNNING"
        aiplatform.log_params({"lr": 0.1})
    assert _read_run("run-1", "exp").get_state() == "COMPLETE"
    assert _read_run("run-1", "exp").get_params() == {"lr": 0.1}
    with pytest.raises(FailedPreconditionError):
        aiplatform.log_metrics({"acc": 1.0})


def test_a_run_that_raises_ends_failed() -> None:
    aiplatform.init(experiment="exp")

    def train() -> None:
        with aiplatform.start_run("run-1"):
            aiplatform.log_metrics({"loss": math.inf})
            raise RuntimeError("diverged")

    with pytest.raises(RuntimeError, match="diverged"):
        train()
    run = _read_run("run-1", "exp")
    assert run.get_state() == "FAILED"
    assert run.state is State.FAILED
    assert run.get_metrics() == {"loss": math.inf}
    assert settings.current_run is None
    assert list(aiplatform.get_experiment_df()["state"]) == ["FAILED"]


def test_start_run_without_an_experiment_uses_default() -> None:
    assert aiplatform.get_experiment() is None
    with aiplatform.start_run("run-1") as run:
        aiplatform.log_metrics({"acc": 0.5})
    assert run.experiment.name == "default"
    assert run.resource_id == "default-run-1"
    assert aiplatform.Experiment("default").name == "default"
    assert [r.name for r in aiplatform.ExperimentRun.list(experiment="default")] == ["run-1"]
    frame = aiplatform.get_experiment_df("default")
    assert list(frame["run_name"]) == ["run-1"]
    assert list(frame["metric.acc"]) == [0.5]
    assert aiplatform.ExperimentRun("run-1", experiment="default").get_state() == "COMPLETE"


def test_start_run_twice_without_resume_is_already_exists() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        pass
    with pytest.raises(AlreadyExistsError, match=r"resume=True"):
        aiplatform.start_run("run-1")
    assert _read_run("run-1", "exp").get_state() == "COMPLETE"


def test_start_run_resume_continues_the_run() -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    aiplatform.log_params({"lr": 0.1})
    aiplatform.log_time_series_metrics({"loss": 1.0})
    aiplatform.end_run()
    assert _read_run("run-1", "exp").get_state() == "COMPLETE"

    resumed = aiplatform.start_run("run-1", resume=True)
    assert resumed.get_state() == "RUNNING"
    assert _read_run("run-1", "exp").get_state() == "RUNNING"
    aiplatform.log_params({"epochs": 3})
    assert aiplatform.log_time_series_metrics({"loss": 0.5}) == 1
    aiplatform.end_run()
    run = _read_run("run-1", "exp")
    assert run.get_state() == "COMPLETE"
    assert run.get_params() == {"lr": 0.1, "epochs": 3}
    assert list(run.get_time_series_data_frame()["loss"]) == [1.0, 0.5]
    assert len(aiplatform.ExperimentRun.list(experiment="exp")) == 1


def test_resuming_an_unknown_run_is_not_found() -> None:
    aiplatform.init(experiment="exp")
    with pytest.raises(NotFoundError, match="ghost"):
        aiplatform.start_run("ghost", resume=True)
    assert aiplatform.ExperimentRun.list(experiment="exp") == []
    assert settings.current_run is None


def test_end_run_with_a_state() -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    aiplatform.end_run(state=State.CANCELLED)
    assert _read_run("run-1", "exp").get_state() == "CANCELLED"
    assert settings.current_run is None


def test_end_run_without_an_active_run_is_failed_precondition() -> None:
    with pytest.raises(FailedPreconditionError, match="start_run"):
        aiplatform.end_run()


@pytest.mark.parametrize(
    "call",
    [
        lambda: aiplatform.log_params({"a": 1}),
        lambda: aiplatform.log_metrics({"a": 1.0}),
        lambda: aiplatform.log_time_series_metrics({"a": 1.0}),
        lambda: aiplatform.log_classification_metrics(matrix=[[1]]),
    ],
    ids=["params", "metrics", "time-series", "classification"],
)
def test_logging_without_an_active_run_is_failed_precondition(call: object) -> None:
    aiplatform.init(experiment="exp")
    with pytest.raises(FailedPreconditionError):
        call()  # type: ignore[operator]
    assert aiplatform.Artifact.list() == []
    assert aiplatform.ExperimentRun.list(experiment="exp") == []


# -- log_params / log_metrics ---------------------------------------------------------------------


def test_log_params_and_metrics() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        aiplatform.log_params({"learning_rate": 0.01, "max_depth": 5, "bagging": True})
        aiplatform.log_params({"optimizer": "adam", "max_depth": 6})
        aiplatform.log_metrics({"accuracy": 0.92, "count": 7})
        aiplatform.log_metrics({"accuracy": 0.93})
    run = _read_run("run-1", "exp")
    params = run.get_params()
    assert params == {"learning_rate": 0.01, "max_depth": 6, "bagging": True, "optimizer": "adam"}
    assert type(params["max_depth"]) is int
    assert type(params["bagging"]) is bool
    assert type(params["learning_rate"]) is float
    assert run.get_metrics() == {"accuracy": 0.93, "count": 7.0}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layers": [64, 32]}, "params.layers"),
        ({"cfg": {"a": 1}}, "params.cfg"),
        ({"seed": None}, "params.seed"),
        ({"": "empty"}, "params"),
        ({"k" * 251: 1}, "params"),
    ],
)
def test_log_params_bad_input_writes_nothing(params: dict[str, object], field: str) -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.log_params({"ok": 1, **params})  # type: ignore[dict-item]
    assert caught.value.field == field
    assert str(caught.value).startswith(f"INVALID_ARGUMENT: {field}:")
    assert _read_run("run-1", "exp").get_params() == {}
    assert _read_run("run-1", "exp").get_state() == "RUNNING"


def test_log_params_not_a_dict() -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    with pytest.raises(InvalidArgumentError, match="params"):
        aiplatform.log_params([("a", 1)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metrics", "field"),
    [
        ({"accuracy": "0.9"}, "metrics.accuracy"),
        ({"accuracy": True}, "metrics.accuracy"),
        ({"accuracy": None}, "metrics.accuracy"),
        ({"accuracy": complex(1, 1)}, "metrics.accuracy"),
        ({"": 0.9}, "metrics"),
        ({"m" * 251: 0.9}, "metrics"),
    ],
)
def test_log_metrics_bad_input_writes_nothing(metrics: dict[str, object], field: str) -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.log_metrics({"ok": 1.0, **metrics})  # type: ignore[dict-item]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert _read_run("run-1", "exp").get_metrics() == {}


def test_nan_and_inf_metrics_are_accepted_and_round_trip() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        aiplatform.log_metrics({"nan": math.nan, "inf": math.inf, "ninf": -math.inf})
    metrics = _read_run("run-1", "exp").get_metrics()
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf
    assert metrics["ninf"] == -math.inf


# -- log_time_series_metrics ----------------------------------------------------------------------


def test_time_series_default_step_is_last_plus_one() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        assert aiplatform.log_time_series_metrics({"loss": 0.9, "acc": 0.1}) == 0
        assert aiplatform.log_time_series_metrics({"loss": 0.8, "acc": 0.2}) == 1
        assert aiplatform.log_time_series_metrics({"loss": 0.5, "acc": 0.5}, step=7) == 7
        assert aiplatform.log_time_series_metrics({"loss": 0.4, "acc": 0.6}) == 8
    frame = _read_run("run-1", "exp").get_time_series_data_frame()
    assert list(frame.columns)[:2] == ["step", "wall_time"]
    assert sorted(frame.columns[2:]) == ["acc", "loss"]
    assert list(frame["step"]) == [0, 1, 7, 8]
    assert list(frame["loss"]) == [0.9, 0.8, 0.5, 0.4]
    assert list(frame["acc"]) == [0.1, 0.2, 0.5, 0.6]


def test_time_series_default_step_counts_every_series_of_the_run() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        aiplatform.log_time_series_metrics({"loss": 1.0}, step=4)
        assert aiplatform.log_time_series_metrics({"val_loss": 1.0}) == 5


def test_time_series_explicit_wall_time() -> None:
    aiplatform.init(experiment="exp")
    when = datetime(2023, 6, 1, 12, 30, 15, 250000, tzinfo=UTC)
    naive_local = datetime(2023, 6, 2, 8, 0, 0)
    with aiplatform.start_run("run-1"):
        aiplatform.log_time_series_metrics({"loss": 1.0}, step=0, wall_time=when)
        aiplatform.log_time_series_metrics({"loss": 0.5}, step=1, wall_time=when.timestamp() + 60)
        aiplatform.log_time_series_metrics({"loss": 0.2}, step=2, wall_time=naive_local)
        before = datetime.now(UTC)
        aiplatform.log_time_series_metrics({"loss": 0.1}, step=3)
        after = datetime.now(UTC)
    frame = _read_run("run-1", "exp").get_time_series_data_frame()
    walls = [pd.Timestamp(w).to_pydatetime() for w in frame["wall_time"]]
    assert walls[0] == when
    assert walls[1] == when + timedelta(seconds=60)
    assert walls[2] == naive_local.astimezone(UTC)
    assert before - timedelta(seconds=1) <= walls[3] <= after + timedelta(seconds=1)


def test_time_series_nan_and_inf_round_trip() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        aiplatform.log_time_series_metrics({"loss": math.nan}, step=0)
        aiplatform.log_time_series_metrics({"loss": math.inf}, step=1)
        aiplatform.log_time_series_metrics({"loss": -math.inf}, step=2)
    frame = _read_run("run-1", "exp").get_time_series_data_frame()
    loss = list(frame["loss"])
    assert math.isnan(loss[0])
    assert loss[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize(
    ("metrics", "field"),
    [
        ({"loss": "low"}, "metrics.loss"),
        ({"loss": True}, "metrics.loss"),
        ({"": 1.0}, "metrics"),
        ({"l" * 251: 1.0}, "metrics"),
    ],
)
def test_time_series_bad_input_writes_nothing(metrics: dict[str, object], field: str) -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("run-1")
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.log_time_series_metrics({"ok": 1.0, **metrics})  # type: ignore[dict-item]
    assert caught.value.field == field
    assert field in str(caught.value)
    assert len(_read_run("run-1", "exp").get_time_series_data_frame()) == 0


# -- log_classification_metrics -------------------------------------------------------------------


def test_log_classification_metrics() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        artifact = aiplatform.log_classification_metrics(
            labels=["no", "yes"],
            matrix=[[50, 3], [4, 43]],
            fpr=[0.0, 0.05, 1.0],
            tpr=[0.0, 0.9, 1.0],
            threshold=[1.0, 0.5, 0.0],
            display_name="churn-cm",
        )
    assert isinstance(artifact, aiplatform.Artifact)
    assert aiplatform.Artifact(artifact.name).schema_title == "google.ClassificationMetrics"
    (metrics,) = _read_run("run-1", "exp").get_classification_metrics()
    assert metrics["display_name"] == "churn-cm"
    assert metrics["labels"] == ["no", "yes"]
    assert metrics["matrix"] == [[50.0, 3.0], [4.0, 43.0]]
    assert metrics["fpr"] == [0.0, 0.05, 1.0]
    assert metrics["tpr"] == [0.0, 0.9, 1.0]
    assert metrics["threshold"] == [1.0, 0.5, 0.0]


# -- get_experiment_df ----------------------------------------------------------------------------


def test_the_issue_example() -> None:
    aiplatform.init(project="my-project", location="us-central1", experiment="churn")
    with aiplatform.start_run("run-1") as run:
        ds = aiplatform.Artifact.create(
            schema_title="system.Dataset",
            display_name="train",
            uri="file:///data/train.csv",
            metadata={"rows": 100000},
        )
        run.log_input(ds)
        aiplatform.log_params({"learning_rate": 0.01, "max_depth": 5})
        for step in range(100):
            aiplatform.log_time_series_metrics({"loss": 1 / (step + 1)}, step=step)
        aiplatform.log_metrics({"accuracy": 0.92})
        model = aiplatform.Artifact.create(
            schema_title="system.Model", display_name="model", uri="file:///models/m1"
        )
        run.log_output(model)
    frame = aiplatform.get_experiment_df("churn")
    assert list(frame.columns) == [
        "experiment_name",
        "run_name",
        "run_type",
        "state",
        "param.learning_rate",
        "param.max_depth",
        "metric.accuracy",
        "time_series_metric.loss",
    ]
    (row,) = frame.to_dict("records")
    assert row == {
        "experiment_name": "churn",
        "run_name": "run-1",
        "run_type": "system.ExperimentRun",
        "state": "COMPLETE",
        "param.learning_rate": 0.01,
        "param.max_depth": 5,
        "metric.accuracy": 0.92,
        "time_series_metric.loss": 1 / 100,
    }
    upstream = model.get_with_lineage_subgraph(direction="upstream")
    assert sorted(a.uri for a in upstream.artifacts) == [
        "file:///data/train.csv",
        "file:///models/m1",
    ]
    assert len(upstream.executions) == 1


def test_get_experiment_df_columns_and_values_for_several_runs() -> None:
    aiplatform.init(experiment="sweep")
    with aiplatform.start_run("b-run"):
        aiplatform.log_params({"zeta": "z", "alpha": 1})
        aiplatform.log_metrics({"recall": 0.5, "auc": 0.7})
        aiplatform.log_time_series_metrics({"loss": 2.0, "acc": 0.1})
        aiplatform.log_time_series_metrics({"loss": 1.0})
    with aiplatform.start_run("a-run"):
        aiplatform.log_params({"alpha": 2, "beta": True})
        aiplatform.log_metrics({"auc": 0.8})
    aiplatform.start_run("c-run")  # still running, nothing logged

    frame = aiplatform.get_experiment_df()
    assert list(frame.columns) == [
        "experiment_name",
        "run_name",
        "run_type",
        "state",
        "param.alpha",
        "param.beta",
        "param.zeta",
        "metric.auc",
        "metric.recall",
        "time_series_metric.acc",
        "time_series_metric.loss",
    ]
    rows = {r["run_name"]: r for r in frame.to_dict("records")}
    assert set(rows) == {"a-run", "b-run", "c-run"}
    assert {r["experiment_name"] for r in rows.values()} == {"sweep"}
    assert {r["run_type"] for r in rows.values()} == {"system.ExperimentRun"}
    assert rows["a-run"]["state"] == "COMPLETE"
    assert rows["c-run"]["state"] == "RUNNING"
    assert rows["b-run"]["param.alpha"] == 1
    assert rows["a-run"]["param.alpha"] == 2
    assert rows["a-run"]["param.beta"] is True
    assert rows["b-run"]["param.zeta"] == "z"
    assert pd.isna(rows["a-run"]["param.zeta"])
    assert rows["b-run"]["metric.auc"] == 0.7
    assert rows["a-run"]["metric.auc"] == 0.8
    assert rows["b-run"]["metric.recall"] == 0.5
    assert pd.isna(rows["c-run"]["metric.auc"])
    assert rows["b-run"]["time_series_metric.loss"] == 1.0
    assert rows["b-run"]["time_series_metric.acc"] == 0.1
    assert pd.isna(rows["a-run"]["time_series_metric.loss"])

    no_series = aiplatform.get_experiment_df(include_time_series=False)
    assert [c for c in no_series.columns if c.startswith("time_series_metric.")] == []
    assert len(no_series) == 3


def test_get_experiment_df_sorts_by_metric_as_in_the_walkthrough() -> None:
    aiplatform.init(experiment="exp")
    for name, accuracy in [("r1", 0.7), ("r2", 0.9), ("r3", 0.8)]:
        with aiplatform.start_run(name):
            aiplatform.log_metrics({"accuracy": accuracy})
    frame = aiplatform.get_experiment_df("exp").sort_values("metric.accuracy", ascending=False)
    assert list(frame["run_name"]) == ["r2", "r3", "r1"]


def test_get_experiment_df_keeps_nan_and_inf() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        aiplatform.log_metrics({"nan": math.nan, "inf": math.inf})
        aiplatform.log_time_series_metrics({"loss": 1.0}, step=0)
        aiplatform.log_time_series_metrics({"loss": -math.inf}, step=1)
        aiplatform.log_time_series_metrics({"grad": math.nan}, step=0)
    (row,) = aiplatform.get_experiment_df().to_dict("records")
    assert math.isnan(row["metric.nan"])
    assert row["metric.inf"] == math.inf
    assert row["time_series_metric.loss"] == -math.inf
    assert math.isnan(row["time_series_metric.grad"])


def test_get_experiment_df_of_an_experiment_without_runs() -> None:
    aiplatform.init(experiment="exp")
    frame = aiplatform.get_experiment_df()
    assert list(frame.columns) == ["experiment_name", "run_name", "run_type", "state"]
    assert len(frame) == 0


def test_get_experiment_df_errors() -> None:
    with pytest.raises(FailedPreconditionError, match="experiment"):
        aiplatform.get_experiment_df()
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.get_experiment_df("nope")


# -- start_execution ------------------------------------------------------------------------------


def test_start_execution_outside_a_run() -> None:
    dataset = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    with aiplatform.start_execution(
        schema_title="system.ContainerExecution",
        display_name="prep",
        resource_id="prep",
        metadata={"image": "prep:1"},
        description="prepares data",
    ) as execution:
        assert aiplatform.Execution("prep").state is State.RUNNING
        execution.assign_input_artifacts([dataset])
        out = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="clean")
        execution.assign_output_artifacts([out])
    read = aiplatform.Execution("prep")
    assert read.state is State.COMPLETE
    assert read.display_name == "prep"
    assert read.metadata == {"image": "prep:1"}
    assert read.description == "prepares data"
    assert [a.name for a in read.get_input_artifacts()] == ["ds"]
    assert [a.name for a in read.get_output_artifacts()] == ["clean"]
    assert aiplatform.Context.list() == []


def test_start_execution_inside_a_run_joins_the_run_with_its_artifacts() -> None:
    aiplatform.init(experiment="exp")
    dataset = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    unrelated = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="other")
    with aiplatform.start_run("run-1"):
        with aiplatform.start_execution(
            schema_title="system.ContainerExecution", resource_id="train"
        ) as execution:
            execution.assign_input_artifacts([dataset])
            model = aiplatform.Artifact.create(schema_title="system.Model", resource_id="model")
            execution.assign_output_artifacts([model])
        assert execution.state is State.COMPLETE
    read = _read_run("run-1", "exp")
    assert [e.name for e in read.get_executions()] == ["train"]
    assert sorted(a.name for a in read.get_artifacts()) == ["ds", "model"]
    assert unrelated.name not in {a.name for a in read.get_artifacts()}
    graph = model.get_with_lineage_subgraph(direction="upstream")
    assert sorted(a.resource_id for a in graph.artifacts) == ["ds", "model"]
    assert [e.resource_id for e in graph.executions] == ["train"]


def test_start_execution_that_raises_fails() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("run-1"):
        with (
            pytest.raises(ValueError, match="bad data"),
            aiplatform.start_execution(schema_title="system.ContainerExecution", resource_id="s"),
        ):
            raise ValueError("bad data")
        assert aiplatform.Execution("s").state is State.FAILED
    assert _read_run("run-1", "exp").get_state() == "COMPLETE"


def test_start_execution_resume() -> None:
    aiplatform.Execution.create(resource_id="step", state=State.FAILED)
    execution = aiplatform.start_execution(resource_id="step", resume=True)
    assert execution.state is State.RUNNING
    assert aiplatform.Execution("step").state is State.RUNNING
    with pytest.raises(NotFoundError):
        aiplatform.start_execution(resource_id="ghost", resume=True)


def test_start_execution_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.start_execution(display_name="no schema")
    assert caught.value.field == "schema_title"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.start_execution(resume=True)
    assert caught.value.field == "resource_id"
    with pytest.raises(InvalidArgumentError, match="metadata"):
        aiplatform.start_execution(schema_title="system.ContainerExecution", metadata={"x": {1}})
    assert aiplatform.Execution.list() == []
