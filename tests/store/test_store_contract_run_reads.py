"""The store contract for the reads a runs table and a chart need, on every backend:
experiment rows with resource names and a filter, run counts, downsampled time series."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.store.base import MetadataStore
from mlineage.types import Context, StoreName, TimeSeriesPoint

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


@pytest.fixture
def experiment(store: MetadataStore, parent: StoreName) -> str:
    return store.create(parent, Context(schema_title="system.Experiment"), "exp").name


def _run(store: MetadataStore, parent: StoreName, experiment: str, run_id: str) -> str:
    context = Context(display_name=f"run {run_id}", schema_title="system.ExperimentRun")
    return store.create_run(parent, context, run_id, experiment=experiment).context.name


@pytest.fixture
def sweep(store: MetadataStore, parent: StoreName, experiment: str) -> list[str]:
    """Three runs: lr 0.1/0.01/0.001, accuracy 0.7/0.8/0.9, a `loss` series each."""
    names = []
    for i, (lr, accuracy) in enumerate([(0.1, 0.7), (0.01, 0.8), (0.001, 0.9)]):
        name = _run(store, parent, experiment, f"exp-{i}")
        store.log_params(name, {"lr": lr, "optimizer": "adam" if i else "sgd"})
        store.log_metrics(name, {"accuracy": accuracy})
        store.write_time_series(name, {"loss": 1.0 - accuracy})
        names.append(name)
    return names


# --- experiment rows and run counts ---


def test_experiment_rows_name_each_run_and_its_start(
    store: MetadataStore, experiment: str, sweep: list[str]
) -> None:
    rows = store.experiment_rows(experiment).items
    assert [r.name for r in rows] == sweep
    assert [r.run_name for r in rows] == ["run exp-0", "run exp-1", "run exp-2"]
    for row, name in zip(rows, sweep, strict=True):
        assert row.start_time == store.get_run(name).start_time


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ("param.lr < 0.05", [1, 2]),
        ('param.optimizer = "sgd"', [0]),
        ("metric.accuracy >= 0.8 AND param.lr > 0.005", [1]),
        ('display_name = "run exp-2"', [2]),
        ("metric.accuracy > 2", []),
    ],
)
def test_experiment_rows_keep_the_runs_a_filter_keeps(
    store: MetadataStore, experiment: str, sweep: list[str], filter: str, expected: list[int]
) -> None:
    rows = store.experiment_rows(experiment, filter=filter).items
    assert [r.name for r in rows] == [sweep[i] for i in expected]
    for row in rows:  # each kept row has all its values, not only those the filter named
        assert set(row.params) == {"lr", "optimizer"}
        assert set(row.metrics) == {"accuracy"}
        assert set(row.time_series) == {"loss"}
    assert store.count_runs(experiment, filter=filter) == len(expected)
    listed = [r.context.name for r in store.list_runs(experiment, filter=filter).items]
    assert listed == [r.name for r in rows]


def test_experiment_rows_show_each_series_value_at_its_last_step(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    many = _run(store, parent, experiment, "exp-many")
    _run(store, parent, experiment, "exp-none")
    one = _run(store, parent, experiment, "exp-one")
    store.write_time_series(many, {"b": 5.0, "a": 1.0}, step=5)
    store.write_time_series(many, {"b": 2.0, "c": 3.0}, step=2)  # earlier step, written later
    store.write_time_series(many, {"a": math.nan}, step=9)
    store.write_time_series(one, {"loss": 0.5}, step=0)
    rows = store.experiment_rows(experiment).items
    assert rows[0].time_series.keys() == {"a", "b", "c"}
    assert math.isnan(rows[0].time_series["a"])
    assert (rows[0].time_series["b"], rows[0].time_series["c"]) == (5.0, 3.0)
    assert rows[1].time_series == {}
    assert rows[2].time_series == {"loss": 0.5}


def test_runs_are_counted_per_experiment(
    store: MetadataStore, parent: StoreName, experiment: str, sweep: list[str]
) -> None:
    other = store.create(parent, Context(schema_title="system.Experiment"), "other").name
    _run(store, parent, other, "other-1")
    assert store.count_runs(experiment) == 3
    assert store.count_runs(other) == 1


def test_a_bad_filter_of_rows_or_counts_is_invalid(store: MetadataStore, experiment: str) -> None:
    with pytest.raises(InvalidArgumentError):
        store.experiment_rows(experiment, filter="metric.accuracy > ")
    with pytest.raises(InvalidArgumentError):
        store.count_runs(experiment, filter='metric.accuracy = "high"')


def test_counting_runs_of_an_unknown_experiment_is_not_found(
    store: MetadataStore, parent: StoreName
) -> None:
    with pytest.raises(NotFoundError):
        store.count_runs(f"{parent}/contexts/missing")


# --- downsampled time series ---


def _write_series(store: MetadataStore, run: str, key: str, values: list[float]) -> None:
    store.write_time_series_points(
        run,
        [
            TimeSeriesPoint(key, step, value, START + timedelta(seconds=step))
            for step, value in enumerate(values)
        ],
    )


@pytest.fixture
def run(store: MetadataStore, parent: StoreName, experiment: str) -> str:
    return _run(store, parent, experiment, "exp-long")


def _plain(points: list[TimeSeriesPoint]) -> list[tuple[object, ...]]:
    """Comparable points: NaN (never equal to itself) as None."""
    return [(p.key, p.step, None if math.isnan(p.value) else p.value, p.wall_time) for p in points]


def test_a_series_no_longer_than_max_points_is_read_whole(store: MetadataStore, run: str) -> None:
    _write_series(store, run, "loss", [1.0, math.nan, 0.5, 0.25])
    whole = _plain(store.read_time_series(run))
    assert len(whole) == 4
    assert _plain(store.read_time_series(run, max_points=4)) == whole


def test_without_max_points_every_point_of_a_long_series_is_read(
    store: MetadataStore, run: str
) -> None:
    """No backend caps a plain read (a server downsamples only when asked)."""
    _write_series(store, run, "loss", [1 / (step + 1) for step in range(12_000)])
    points = store.read_time_series(run)
    assert [p.step for p in points] == list(range(12_000))


def test_a_long_series_is_downsampled_keeping_its_ends_and_spikes(
    store: MetadataStore, run: str
) -> None:
    values = [1.0 / (step + 1) for step in range(1_000)]
    values[377] = 50.0  # a spike up
    values[601] = -50.0  # and one down
    _write_series(store, run, "loss", values)
    read = store.read_time_series(run, max_points=40)
    assert 20 <= len(read) <= 40
    steps = [p.step for p in read]
    assert steps == sorted(set(steps))
    assert {0, 377, 601, 999} <= set(steps)
    for point in read:  # real points, with their own value and wall time
        assert point.key == "loss"
        assert point.value == values[point.step]
        assert point.wall_time == START + timedelta(seconds=point.step)


def test_each_key_is_downsampled_on_its_own(store: MetadataStore, run: str) -> None:
    _write_series(store, run, "loss", [float(s % 7) for s in range(500)])
    _write_series(store, run, "acc", [0.5, 0.6, 0.7])
    read = store.read_time_series(run, max_points=20)
    acc = [p for p in read if p.key == "acc"]
    loss = [p for p in read if p.key == "loss"]
    assert [p.value for p in acc] == [0.5, 0.6, 0.7]
    assert 10 <= len(loss) <= 20
    values = [p.value for p in loss]
    # Five ranges of 100 steps: each gives its lowest (0) and highest (6) point.
    assert values.count(0.0) >= 5
    assert values.count(6.0) >= 5
    assert [p.key for p in read] == ["acc"] * 3 + ["loss"] * len(loss)
    only = store.read_time_series(run, ["loss"], max_points=20)
    assert only == loss


def test_sparse_steps_are_bucketed_by_step_not_by_position(store: MetadataStore, run: str) -> None:
    # 100 points at steps 0-99, then one at step 10**12: the far point stays, and the early
    # ones share the first range (min and max of it, plus its first and last).
    points = [TimeSeriesPoint("x", s, float(s), START) for s in range(100)]
    points.append(TimeSeriesPoint("x", 10**12, -1.0, START))
    store.write_time_series_points(run, points)
    read = store.read_time_series(run, max_points=8)
    assert [(p.step, p.value) for p in read] == [(0, 0.0), (99, 99.0), (10**12, -1.0)]


def test_a_range_of_nan_values_keeps_its_first_and_last_points(
    store: MetadataStore, run: str
) -> None:
    _write_series(store, run, "loss", [math.nan] * 100)
    read = store.read_time_series(run, max_points=8)
    assert 2 <= len(read) <= 8
    assert read[0].step == 0
    assert read[-1].step == 99
    assert all(math.isnan(p.value) for p in read)


@pytest.mark.parametrize("max_points", [0, 3, -10])
def test_max_points_below_four_is_invalid(store: MetadataStore, run: str, max_points: int) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.read_time_series(run, max_points=max_points)
    assert error.value.field == "max_points"
