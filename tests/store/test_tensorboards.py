"""TensorboardService over the store, on every backend: tensorboards of their own, and
experiments, runs and time series that are mlineage's own experiments, runs and points."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mlineage.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mlineage.store.base import (
    ScalarPoint,
    Tensorboard,
    TensorboardExperiment,
    TensorboardRun,
    TensorboardStore,
    TensorboardTimeSeries,
    TimeSeriesData,
)
from mlineage.store.sql import SqlStore
from mlineage.store.tensorboards import series_id, series_key
from mlineage.types import Context, StoreName
from tests.backends import BACKENDS
from tests.store.page_tokens import forged

LOCATION = "projects/p/locations/us-central1"
STORE = StoreName("p", "us-central1", "default")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """Each SQL backend (the REST client does not serve TensorboardService: the server does)."""
    with BACKENDS[request.param](request) as opened:
        assert isinstance(opened, SqlStore)
        assert isinstance(opened, TensorboardStore)
        yield opened


@pytest.fixture
def board(store: SqlStore) -> Tensorboard:
    return store.create_tensorboard(LOCATION, Tensorboard(display_name="tb", is_default=True))


def _mlineage_run(store: SqlStore, experiment: str = "exp", run: str = "r1") -> str:
    """An experiment and run made by mlineage's own SDK path; the run context's name."""
    exp = store.create(
        STORE, Context(schema_title="system.Experiment", display_name=experiment), experiment
    )
    info = store.create_run(
        STORE,
        Context(schema_title="system.ExperimentRun", display_name=run),
        f"{experiment}-{run}",
        experiment=exp.name,
    )
    return info.context.name


def test_tensorboards_are_created_read_and_listed(store: SqlStore) -> None:
    first = store.create_tensorboard(LOCATION, Tensorboard(display_name="a", is_default=True))
    assert first.name.startswith(f"{LOCATION}/tensorboards/")
    assert store.get_tensorboard(first.name) == first
    second = store.create_tensorboard(
        LOCATION, Tensorboard(display_name="b", description="d", labels={"k": "v"}, is_default=True)
    )
    # One default per location, as in Vertex AI: the newer one.
    assert not store.get_tensorboard(first.name).is_default
    defaults = store.list_tensorboards(LOCATION, filter="is_default=true").items
    assert [t.name for t in defaults] == [second.name]
    page = store.list_tensorboards(LOCATION, page_size=1)
    assert [t.display_name for t in page.items] == ["a"]
    rest = store.list_tensorboards(LOCATION, page_size=1, page_token=page.next_page_token)
    assert [t.display_name for t in rest.items] == ["b"]
    assert rest.next_page_token == ""
    assert store.list_tensorboards("projects/p/locations/europe-west4").items == []


def test_a_tensorboard_list_token_with_values_of_the_wrong_type_names_page_token(
    store: SqlStore,
) -> None:
    for name in ("a", "b"):
        store.create_tensorboard(LOCATION, Tensorboard(display_name=name))
    token = store.list_tensorboards(LOCATION, page_size=1).next_page_token
    with pytest.raises(InvalidArgumentError) as error:
        store.list_tensorboards(LOCATION, page_token=forged(token, ["not-a-time", "x"]))
    assert error.value.field == "page_token"


def test_bad_tensorboard_requests_name_the_field(store: SqlStore) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.create_tensorboard(LOCATION, Tensorboard(display_name=""))
    assert error.value.field == "tensorboard.display_name"
    with pytest.raises(InvalidArgumentError) as error:
        store.list_tensorboards(LOCATION, filter="is_default=maybe")
    assert error.value.field == "filter"
    with pytest.raises(InvalidArgumentError):
        store.get_tensorboard(f"{LOCATION}/somethingElse/1")
    with pytest.raises(NotFoundError):
        store.get_tensorboard(f"{LOCATION}/tensorboards/404")


def test_experiments_and_runs_are_mlineage_experiments_and_runs(
    store: SqlStore, board: Tensorboard
) -> None:
    run_context = _mlineage_run(store)
    experiment = store.get_tensorboard_experiment(f"{board.name}/experiments/exp")
    assert experiment.display_name == "exp"
    run = store.get_tensorboard_run(f"{board.name}/experiments/exp/runs/r1")
    assert run.display_name == "r1"
    with pytest.raises(AlreadyExistsError):
        store.create_tensorboard_experiment(board.name, TensorboardExperiment(), "exp")
    with pytest.raises(AlreadyExistsError):
        store.create_tensorboard_run(experiment.name, TensorboardRun(), "r1")
    with pytest.raises(NotFoundError):
        store.get_tensorboard_run(f"{board.name}/experiments/exp/runs/r2")
    assert store.get_run(run_context).context.display_name == "r1"


def test_creating_through_tensorboards_makes_mlineage_experiments_and_runs(
    store: SqlStore, board: Tensorboard
) -> None:
    experiment = store.create_tensorboard_experiment(
        board.name, TensorboardExperiment(display_name="Sweep", labels={"k": "v"}), "sweep"
    )
    run = store.create_tensorboard_run(experiment.name, TensorboardRun(), "trial-1")
    assert run.name == f"{experiment.name}/runs/trial-1"
    assert run.display_name == "trial-1"
    context = store.get(f"{STORE}/contexts/sweep", Context)
    assert (context.schema_title, context.display_name, context.labels) == (
        "system.Experiment",
        "Sweep",
        {"k": "v"},
    )
    (info,) = store.list_runs(context.name).items
    assert info.context.name == f"{STORE}/contexts/sweep-trial-1"


def test_experiments_under_a_missing_tensorboard_are_not_found(
    store: SqlStore, board: Tensorboard
) -> None:
    _mlineage_run(store)
    with pytest.raises(NotFoundError):
        store.get_tensorboard_experiment(f"{LOCATION}/tensorboards/404/experiments/exp")
    with pytest.raises(NotFoundError):
        store.get_tensorboard_experiment(f"{board.name}/experiments/nope")
    with pytest.raises(NotFoundError):  # a context that is not an experiment
        store.get_tensorboard_experiment(f"{board.name}/experiments/exp-r1")


def test_time_series_are_the_run_points(store: SqlStore, board: Tensorboard) -> None:
    run_context = _mlineage_run(store)
    store.write_time_series(run_context, {"loss": 0.5, "Val Loss": 1.5}, step=0)
    run = f"{board.name}/experiments/exp/runs/r1"
    listed = store.list_tensorboard_time_series(run).items
    assert [(s.display_name, s.max_step) for s in listed] == [("Val Loss", 0), ("loss", 0)]
    assert [s.name.rsplit("/", 1)[1] for s in listed] == [series_id("Val Loss"), "loss"]
    # The Vertex SDK declares a series, lists it, then writes to it.
    created = store.create_tensorboard_time_series(run, TensorboardTimeSeries(display_name="acc"))
    assert created.name == f"{run}/timeSeries/acc"
    assert [s.display_name for s in store.list_tensorboard_time_series(run).items] == [
        "Val Loss",
        "acc",
        "loss",
    ]
    with pytest.raises(AlreadyExistsError):
        store.create_tensorboard_time_series(run, TensorboardTimeSeries(display_name="loss"))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.write_tensorboard_run_data(
        run,
        [
            TimeSeriesData("acc", [ScalarPoint(1, 0.8, when), ScalarPoint(2, math.nan, when)]),
            TimeSeriesData(series_id("Val Loss"), [ScalarPoint(1, 1.25, when)]),
        ],
    )
    assert store.get_params(run_context) == {}
    points = {(p.key, p.step): p.value for p in store.read_time_series(run_context)}
    assert points[("acc", 1)] == 0.8
    assert math.isnan(points[("acc", 2)])
    assert points[("Val Loss", 1)] == 1.25
    # Once written, the declaration is gone from the run record: the points list it.
    assert "tensorboard_time_series" not in store.get_run(run_context).provenance
    (acc, val, loss) = store.read_tensorboard_time_series_data(
        board.name,
        [
            f"{run}/timeSeries/acc",
            f"{run}/timeSeries/{series_id('Val Loss')}",
            f"{run}/timeSeries/loss",
        ],
    )
    assert acc.time_series_id == "acc"
    assert [(p.step, p.wall_time) for p in acc.values] == [(1, when), (2, when)]
    assert [(p.step, p.value) for p in val.values] == [(0, 1.5), (1, 1.25)]
    assert [p.value for p in loss.values] == [0.5]
    series = store.get_tensorboard_time_series(f"{run}/timeSeries/acc")
    assert (series.display_name, series.max_step, series.max_wall_time) == ("acc", 2, when)


def test_deleting_a_tensorboard_run_deletes_its_time_series(
    store: SqlStore, board: Tensorboard
) -> None:
    run_context = _mlineage_run(store)
    store.write_time_series(run_context, {"loss": 0.5}, step=0)
    run = f"{board.name}/experiments/exp/runs/r1"
    store.create_tensorboard_time_series(run, TensorboardTimeSeries(display_name="acc"))
    store.delete_tensorboard_run(run)
    assert store.list_tensorboard_time_series(run).items == []
    assert store.read_time_series(run_context) == []
    assert store.get_run(run_context).context.display_name == "r1"  # the run stays


def test_time_series_writes_check_their_input(store: SqlStore, board: Tensorboard) -> None:
    _mlineage_run(store)
    run = f"{board.name}/experiments/exp/runs/r1"
    now = datetime.now(UTC)
    with pytest.raises(InvalidArgumentError) as error:
        store.write_tensorboard_run_data(run, [TimeSeriesData("x", [ScalarPoint(-1, 1.0, now)])])
    assert error.value.field == "time_series_data[0].values[0]"
    with pytest.raises(InvalidArgumentError) as error:
        store.write_tensorboard_run_data(run, [TimeSeriesData("Not An Id", [])])
    assert error.value.field == "time_series_data[0].tensorboard_time_series_id"
    with pytest.raises(NotFoundError):
        store.write_tensorboard_run_data(
            f"{board.name}/experiments/exp/runs/r9",
            [TimeSeriesData("x", [ScalarPoint(1, 1.0, now)])],
        )
    with pytest.raises(InvalidArgumentError) as error:
        store.create_tensorboard_time_series(
            run, TensorboardTimeSeries(display_name="img", value_type="TENSOR")
        )
    assert error.value.field == "tensorboard_time_series.value_type"
    with pytest.raises(InvalidArgumentError):
        store.read_tensorboard_time_series_data(
            board.name, [f"{LOCATION}/tensorboards/other/experiments/exp/runs/r1/timeSeries/x"]
        )


@pytest.mark.parametrize(
    "key", ["loss", "val-loss-2", "Val Loss", "train/loss", "x--tricky", "-lead", "é", "a" * 250]
)
def test_every_key_has_an_id_that_maps_back(key: str) -> None:
    identifier = series_id(key)
    assert series_key(identifier) == key
    assert all(c.islower() or c.isdigit() or c == "-" for c in identifier)


def test_a_time_series_id_that_is_no_key_is_refused() -> None:
    for bad in ("Loss", "x--!!!", "x--", "a_b"):
        with pytest.raises(InvalidArgumentError):
            series_key(bad)
