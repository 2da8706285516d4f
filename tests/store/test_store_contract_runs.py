"""The store contract for experiment runs, their values and time series, and metadata
schemas, on every backend."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from mlineage.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.base import MetadataStore, RunInfo
from mlineage.types import (
    Artifact,
    Context,
    Event,
    Execution,
    ExecutionState,
    MetadataSchema,
    SchemaType,
    StoreName,
    TimeSeriesPoint,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


@pytest.fixture
def experiment(store: MetadataStore, parent: StoreName) -> str:
    return store.create(parent, Context(schema_title="system.Experiment"), "exp").name


def _run(
    store: MetadataStore, parent: StoreName, experiment: str | None, run_id: str, **kwargs: object
) -> RunInfo:
    context = Context(display_name=run_id, schema_title="system.ExperimentRun")
    return store.create_run(parent, context, run_id, experiment=experiment, **kwargs)  # type: ignore[arg-type]


# --- runs ---


def test_a_run_is_created_running_under_its_experiment(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    info = _run(store, parent, experiment, "exp-r1", provenance={"git": "abc"})
    assert info.context.name == f"{parent}/contexts/exp-r1"
    assert (info.experiment, info.run_type) == (experiment, "system.ExperimentRun")
    assert (info.state, info.end_time, info.provenance) == (
        ExecutionState.RUNNING,
        None,
        {"git": "abc"},
    )
    assert info.context.parent_contexts == [experiment]
    assert store.get_run(info.context.name) == info


def test_a_run_may_stand_alone(store: MetadataStore, parent: StoreName) -> None:
    info = _run(store, parent, None, "lonely")
    assert info.experiment is None
    assert store.get_run(info.context.name).context.parent_contexts == []


def test_a_run_id_is_taken_once(store: MetadataStore, parent: StoreName, experiment: str) -> None:
    _run(store, parent, experiment, "exp-r1")
    with pytest.raises(AlreadyExistsError):
        _run(store, parent, experiment, "exp-r1")


def test_a_run_of_an_unknown_experiment_is_not_created(
    store: MetadataStore, parent: StoreName
) -> None:
    with pytest.raises(NotFoundError):
        _run(store, parent, f"{parent}/contexts/missing", "r")
    with pytest.raises(NotFoundError):
        store.get_run(f"{parent}/contexts/r")


def test_a_plain_context_is_not_a_run(store: MetadataStore, parent: StoreName) -> None:
    plain = store.create(parent, Context(display_name="plain"))
    with pytest.raises(NotFoundError):
        store.get_run(plain.name)
    with pytest.raises(NotFoundError):
        store.log_params(plain.name, {"a": 1})


def test_runs_are_listed_oldest_first(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    for run_id in ("exp-b", "exp-a", "exp-c"):
        _run(store, parent, experiment, run_id)
    _run(store, parent, None, "elsewhere")
    runs = store.list_runs(experiment).items
    assert [r.context.display_name for r in runs] == ["exp-b", "exp-a", "exp-c"]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("param.lr > 0.05", ["exp-b"]),
        ('param.optimizer = "adam"', ["exp-a"]),
        ("metric.accuracy >= 0.9", ["exp-b"]),
        ('metric.accuracy < 0.9 AND display_name = "exp-a"', ["exp-a"]),
        ('display_name:"exp-*"', ["exp-a", "exp-b"]),
    ],
)
def test_runs_filter_by_params_and_metrics(
    store: MetadataStore, parent: StoreName, experiment: str, filter: str, expected: list[str]
) -> None:
    a = _run(store, parent, experiment, "exp-a").context.name
    b = _run(store, parent, experiment, "exp-b").context.name
    store.log_params(a, {"lr": 0.01, "optimizer": "adam"})
    store.log_params(b, {"lr": 0.1, "optimizer": "sgd"})
    store.log_metrics(a, {"accuracy": 0.8})
    store.log_metrics(b, {"accuracy": 0.95})
    found = store.list_runs(experiment, filter=filter).items
    assert sorted(r.context.display_name for r in found) == expected


def test_ending_a_run_sets_its_end_time(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    run = _run(store, parent, experiment, "exp-r").context.name
    ended = store.update_run(run, state=ExecutionState.COMPLETE)
    assert ended.state is ExecutionState.COMPLETE
    assert ended.end_time is not None
    assert ended.end_time >= ended.start_time
    resumed = store.update_run(run, state=ExecutionState.RUNNING)
    assert resumed.end_time is None


def test_provenance_updates_merge(store: MetadataStore, parent: StoreName, experiment: str) -> None:
    run = _run(store, parent, experiment, "exp-r", provenance={"git": "abc", "host": "h"})
    updated = store.update_run(run.context.name, provenance={"host": "other", "pid": 7})
    assert updated.provenance == {"git": "abc", "host": "other", "pid": 7}


def test_update_of_an_unknown_run_is_not_found(store: MetadataStore, parent: StoreName) -> None:
    with pytest.raises(NotFoundError):
        store.update_run(f"{parent}/contexts/missing", state=ExecutionState.COMPLETE)


# --- params and metrics ---


@pytest.fixture
def run(store: MetadataStore, parent: StoreName, experiment: str) -> str:
    return _run(store, parent, experiment, "exp-run").context.name


def test_params_keep_their_types_and_the_last_value(store: MetadataStore, run: str) -> None:
    store.log_params(run, {"lr": 0.1, "epochs": 10, "name": "resnet", "pretrained": True})
    store.log_params(run, {"lr": 0.01, "big": 2**62, "empty": ""})
    params = store.get_params(run)
    assert params == {
        "lr": 0.01,
        "epochs": 10,
        "name": "resnet",
        "pretrained": True,
        "big": 2**62,
        "empty": "",
    }
    assert type(params["epochs"]) is int
    assert type(params["pretrained"]) is bool
    assert type(params["lr"]) is float


def test_metrics_keep_nan_and_infinities(store: MetadataStore, run: str) -> None:
    store.log_metrics(run, {"loss": math.nan, "ratio": math.inf, "low": -math.inf, "acc": 0.5})
    store.log_metrics(run, {"acc": 0.75})
    metrics = store.get_metrics(run)
    assert math.isnan(metrics["loss"])
    assert (metrics["ratio"], metrics["low"], metrics["acc"]) == (math.inf, -math.inf, 0.75)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"": 1}, "params"), ({"k": [1, 2]}, "params"), ({"k": "x" * 8001}, "params")],
)
def test_bad_params_name_the_field(
    store: MetadataStore, run: str, params: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.log_params(run, params)  # type: ignore[arg-type]
    assert error.value.field.startswith(field)
    assert store.get_params(run) == {}


def test_a_bad_metric_writes_none_of_its_batch(store: MetadataStore, run: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.log_metrics(run, {"good": 1.0, "bad": "high"})  # type: ignore[dict-item]
    assert error.value.field.startswith("metrics")
    assert store.get_metrics(run) == {}


# --- time series ---


def test_steps_default_to_the_next_one(store: MetadataStore, run: str) -> None:
    assert store.write_time_series(run, {"loss": 1.0}) == 0
    assert store.write_time_series(run, {"loss": 0.5}) == 1
    assert store.write_time_series(run, {"loss": 0.1}, step=10) == 10
    assert store.write_time_series(run, {"loss": 0.05}) == 11
    assert [p.step for p in store.read_time_series(run)] == [0, 1, 10, 11]


def test_writing_a_step_again_replaces_it(store: MetadataStore, run: str) -> None:
    store.write_time_series(run, {"loss": 1.0, "acc": 0.1}, step=3)
    store.write_time_series(run, {"loss": 0.9}, step=3)
    points = {(p.key, p.step): p.value for p in store.read_time_series(run)}
    assert points == {("acc", 3): 0.1, ("loss", 3): 0.9}


def test_points_round_trip_with_their_wall_time(store: MetadataStore, run: str) -> None:
    points = [
        TimeSeriesPoint("loss", 0, math.nan, WHEN),
        TimeSeriesPoint("loss", 1, math.inf, WHEN),
        TimeSeriesPoint("loss", 2, -math.inf, WHEN),
        TimeSeriesPoint("loss", 3, 1e-300, WHEN),
        TimeSeriesPoint("acc", 0, 0.25, WHEN),
    ]
    store.write_time_series_points(run, points)
    read = store.read_time_series(run)
    assert [(p.key, p.step) for p in read] == [("acc", 0)] + [("loss", s) for s in range(4)]
    assert all(p.wall_time == WHEN for p in read)
    assert math.isnan(read[1].value)
    assert [p.value for p in read[2:]] == [math.inf, -math.inf, 1e-300]


def test_a_step_written_twice_in_one_batch_keeps_the_later_value(
    store: MetadataStore, run: str
) -> None:
    store.write_time_series_points(run, [TimeSeriesPoint("loss", 0, 9.0, WHEN)])
    store.write_time_series_points(
        run,
        [
            TimeSeriesPoint("loss", 0, 1.0, WHEN),
            TimeSeriesPoint("loss", 1, 2.0, WHEN),
            TimeSeriesPoint("loss", 0, 3.0, WHEN),
        ],
    )
    assert [(p.step, p.value) for p in store.read_time_series(run)] == [(0, 3.0), (1, 2.0)]


def test_reading_chosen_keys(store: MetadataStore, run: str) -> None:
    store.write_time_series(run, {"loss": 1.0, "acc": 0.5, "lr": 0.1})
    assert {p.key for p in store.read_time_series(run, ["loss", "lr"])} == {"loss", "lr"}
    assert store.read_time_series(run, ["absent"]) == []


def test_time_series_are_kept_per_run(
    store: MetadataStore, parent: StoreName, experiment: str, run: str
) -> None:
    other = _run(store, parent, experiment, "exp-other").context.name
    store.write_time_series(run, {"loss": 1.0})
    assert store.write_time_series(other, {"loss": 2.0}) == 0
    assert [p.value for p in store.read_time_series(other)] == [2.0]


def test_a_request_id_makes_a_stepless_write_idempotent(store: MetadataStore, run: str) -> None:
    first = store.write_time_series(run, {"loss": 1.0}, request_id="req-1")
    again = store.write_time_series(run, {"loss": 1.0}, request_id="req-1")
    assert first == again == 0
    assert store.write_time_series(run, {"loss": 0.5}, request_id="req-2") == 1
    assert len(store.read_time_series(run)) == 2


@pytest.mark.parametrize("step", [-1, 2**63])
def test_a_step_out_of_range_is_invalid(store: MetadataStore, run: str, step: int) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.write_time_series(run, {"loss": 1.0}, step=step)
    assert error.value.field == "step"


def test_time_series_of_an_unknown_run_are_not_found(
    store: MetadataStore, parent: StoreName
) -> None:
    missing = f"{parent}/contexts/missing"
    with pytest.raises(NotFoundError):
        store.write_time_series(missing, {"loss": 1.0})
    with pytest.raises(NotFoundError):
        store.read_time_series(missing)


def test_experiment_rows_gather_every_run(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    a = _run(store, parent, experiment, "exp-a").context.name
    b = _run(store, parent, experiment, "exp-b").context.name
    store.log_params(a, {"lr": 0.1})
    store.log_metrics(a, {"acc": math.nan})
    store.write_time_series(a, {"loss": 1.0})
    store.write_time_series(a, {"loss": 0.25})
    store.update_run(b, state=ExecutionState.FAILED)
    rows = store.experiment_rows(experiment).items
    assert [(r.run_name, r.state) for r in rows] == [
        ("exp-a", ExecutionState.RUNNING),
        ("exp-b", ExecutionState.FAILED),
    ]
    assert rows[0].params == {"lr": 0.1}
    assert math.isnan(rows[0].metrics["acc"])
    assert rows[0].time_series == {"loss": 0.25}
    assert store.experiment_rows(experiment, include_time_series=False).items[0].time_series == {}


def test_an_experiment_without_runs_has_no_rows(store: MetadataStore, experiment: str) -> None:
    assert store.experiment_rows(experiment).items == []
    assert store.list_runs(experiment).items == []


def test_a_run_with_lineage_keeps_its_artifacts_deletable_only_without_events(
    store: MetadataStore, parent: StoreName, run: str
) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    train = store.create(parent, Execution(display_name="train"))
    store.add_execution_events(train.name, [Event(data.name)], contexts=[run])
    with pytest.raises(FailedPreconditionError):
        store.delete(data.name, Artifact)
    store.delete(run, Context)
    with pytest.raises(NotFoundError):
        store.get_run(run)
    assert store.get(data.name, Artifact).display_name == "data"


# --- metadata schemas ---


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (Artifact, "system.Model"),
        (Artifact, "google.ClassificationMetrics"),
        (Execution, "system.ContainerExecution"),
        (Context, "system.PipelineRun"),
    ],
)
def test_built_in_titles_take_any_metadata(
    store: MetadataStore, parent: StoreName, kind: type[Artifact], title: str
) -> None:
    created = store.create(parent, kind(schema_title=title, metadata={"anything": [1, {"a": 2}]}))
    assert store.get(created.name, kind).schema_title == title


def test_a_registered_schema_is_enforced_on_update(store: MetadataStore, parent: StoreName) -> None:
    store.create_metadata_schema(
        parent,
        MetadataSchema(
            "acme.Trainer",
            schema="type: object\nproperties:\n  gpus: {type: integer}\n",
            schema_type=SchemaType.EXECUTION_TYPE,
        ),
        "acme-trainer",
    )
    created = store.create(parent, Execution(schema_title="acme.Trainer", metadata={"gpus": 2}))
    created.metadata = {"gpus": "many"}
    with pytest.raises(InvalidArgumentError) as error:
        store.update(created)
    assert error.value.field == "metadata.gpus"
    assert store.get(created.name, Execution).metadata == {"gpus": 2}


def test_schemas_round_trip_and_list(store: MetadataStore, parent: StoreName) -> None:
    text = "type: object\n"
    created = store.create_metadata_schema(
        parent,
        MetadataSchema("acme.A", "1.0.0", text, SchemaType.CONTEXT_TYPE, description="d"),
        "acme-a",
    )
    assert created.name == f"{parent}/metadataSchemas/acme-a"
    read = store.get_metadata_schema(created.name)
    assert (read.schema_title, read.schema_version, read.schema) == ("acme.A", "1.0.0", text)
    assert (read.schema_type, read.description) == (SchemaType.CONTEXT_TYPE, "d")
    store.create_metadata_schema(parent, MetadataSchema("acme.B", schema=text))
    first = store.list_metadata_schemas(parent, page_size=1)
    second = store.list_metadata_schemas(parent, page_token=first.next_page_token)
    assert [s.schema_title for s in first.items + second.items] == ["acme.A", "acme.B"]


def test_an_unknown_schema_is_not_found(store: MetadataStore, parent: StoreName) -> None:
    with pytest.raises(NotFoundError):
        store.get_metadata_schema(f"{parent}/metadataSchemas/missing")
