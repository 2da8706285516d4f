"""Many writers on one PostgreSQL database: one winner per id or etag, no point lost.

Each writer opens its own `SqlStore` (its own engine and connections), as separate
processes or server replicas would; a barrier releases them at the same moment.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

import mlineage
from mlineage.errors import AbortedError, AlreadyExistsError
from mlineage.store.sql import SqlStore
from mlineage.types import (
    Artifact,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    StoreName,
)

T = TypeVar("T")
WRITERS = 8


@pytest.fixture
def stores(postgres_url: str) -> Iterator[list[SqlStore]]:
    opened = [SqlStore(postgres_url) for _ in range(WRITERS)]
    yield opened
    for store in opened:
        store.close()


def _race(stores: list[SqlStore], work: Callable[[int, SqlStore], T]) -> list[T | Exception]:
    """Run `work(i, store)` on every store at once; each result or the error raised."""
    barrier = threading.Barrier(len(stores))
    results: list[T | Exception] = [RuntimeError("not run")] * len(stores)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i, stores[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _outcomes(results: list[object]) -> list[str]:
    return sorted(type(r).__name__ for r in results)


def test_one_id_created_at_once_in_a_new_store_has_one_winner(stores: list[SqlStore]) -> None:
    parent = StoreName("race", "us-central1")  # a new metadata store: its creation races too
    results = _race(stores, lambda i, s: s.create(parent, Artifact(display_name=f"w{i}"), "same"))
    assert _outcomes(results) == ["AlreadyExistsError"] * (WRITERS - 1) + ["Artifact"]
    winner = next(r for r in results if isinstance(r, Artifact))
    assert stores[0].get(f"{parent}/artifacts/same", Artifact).display_name == winner.display_name
    assert all("same" in str(r) for r in results if isinstance(r, AlreadyExistsError))


def test_one_run_id_created_at_once_has_one_winner(
    stores: list[SqlStore], parent: StoreName
) -> None:
    experiment = stores[0].create(parent, Context(schema_title="system.Experiment"), "exp")

    def create(_i: int, store: SqlStore) -> object:
        context = Context(schema_title="system.ExperimentRun")
        return store.create_run(parent, context, "exp-run", experiment=experiment.name)

    results = _race(stores, create)
    assert _outcomes(results) == ["AlreadyExistsError"] * (WRITERS - 1) + ["RunInfo"]
    assert len(stores[0].list_runs(experiment.name).items) == 1


def test_updates_from_one_etag_have_one_winner(stores: list[SqlStore], parent: StoreName) -> None:
    created = stores[0].create(parent, Execution(display_name="train"))

    def update(i: int, store: SqlStore) -> Execution:
        return store.update(
            Execution(
                name=created.name,
                etag=created.etag,
                display_name=f"writer-{i}",
                state=ExecutionState.COMPLETE,
            )
        )

    results = _race(stores, update)
    assert _outcomes(results) == ["AbortedError"] * (WRITERS - 1) + ["Execution"]
    winner = next(r for r in results if isinstance(r, Execution))
    assert stores[0].get(created.name, Execution).display_name == winner.display_name
    assert all(isinstance(r, AbortedError | Execution) for r in results)


def _run(store: SqlStore, parent: StoreName) -> str:
    context = Context(schema_title="system.ExperimentRun")
    return store.create_run(parent, context, "run", experiment=None).context.name


def test_stepless_writers_to_one_run_lose_no_point(
    stores: list[SqlStore], parent: StoreName
) -> None:
    run = _run(stores[0], parent)
    per_writer = 25

    def write(i: int, store: SqlStore) -> list[int]:
        return [store.write_time_series(run, {"loss": float(i)}) for _ in range(per_writer)]

    results = _race(stores, write)
    steps = [step for r in results if isinstance(r, list) for step in r]
    assert sorted(steps) == list(range(WRITERS * per_writer))
    points = stores[0].read_time_series(run)
    assert [p.step for p in points] == list(range(WRITERS * per_writer))


def test_writers_of_other_keys_and_params_lose_nothing(
    stores: list[SqlStore], parent: StoreName
) -> None:
    run = _run(stores[0], parent)

    def write(i: int, store: SqlStore) -> None:
        for step in range(20):
            store.write_time_series(run, {f"key-{i}": float(step)}, step=step)
        store.log_params(run, {f"param-{i}": i})
        store.log_metrics(run, {f"metric-{i}": float(i), "shared": float(i)})
        store.update_run(run, provenance={f"writer-{i}": i})

    assert all(r is None for r in _race(stores, write))
    points = stores[0].read_time_series(run)
    assert len(points) == WRITERS * 20
    assert stores[0].get_params(run) == {f"param-{i}": i for i in range(WRITERS)}
    metrics = stores[0].get_metrics(run)
    assert metrics["shared"] in {float(i) for i in range(WRITERS)}
    assert len(metrics) == WRITERS + 1
    assert stores[0].get_run(run).provenance == {f"writer-{i}": i for i in range(WRITERS)}


def test_links_made_at_once_are_all_kept(stores: list[SqlStore], parent: StoreName) -> None:
    context = stores[0].create(parent, Context(display_name="ctx"))
    artifacts = stores[0].create_many(parent, [Artifact(display_name=f"a{i}") for i in range(8)])

    def link(_i: int, store: SqlStore) -> None:
        store.add_context_artifacts_and_executions(
            context.name, artifacts=[a.name for a in artifacts]
        )

    assert all(r is None for r in _race(stores, link))
    members = stores[0].list(parent, Artifact, filter=f'in_context("{context.name}")').items
    assert len(members) == 8


def test_halves_of_a_cycle_added_at_once_never_close_it(
    stores: list[SqlStore], parent: StoreName
) -> None:
    pairs = [
        (stores[0].create(parent, Context(), f"a{i}"), stores[0].create(parent, Context(), f"b{i}"))
        for i in range(WRITERS // 2)
    ]

    def link(i: int, store: SqlStore) -> None:
        first, second = pairs[i // 2]
        if i % 2:
            first, second = second, first
        store.add_context_children(first.name, [second.name])

    results = _race(stores, link)
    assert _outcomes(results) == ["InvalidArgumentError"] * (WRITERS // 2) + ["NoneType"] * (
        WRITERS // 2
    )
    for a, b in pairs:
        links = (
            stores[0].get(a.name, Context).parent_contexts
            + stores[0].get(b.name, Context).parent_contexts
        )
        assert len(links) == 1


def test_the_same_events_recorded_at_once_are_kept_once(
    stores: list[SqlStore], parent: StoreName
) -> None:
    data = stores[0].create(parent, Artifact(display_name="data"))
    model = stores[0].create(parent, Artifact(display_name="model"))
    train = stores[0].create(parent, Execution(display_name="train"))
    events = [Event(data.name, type=EventType.INPUT), Event(model.name, type=EventType.OUTPUT)]
    results = _race(stores, lambda _i, s: s.add_execution_events(train.name, events))
    assert all(r is None for r in results)
    assert len(stores[0].query_execution_inputs_and_outputs(train.name).events) == 2


def _log_points(store: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    mlineage.init(project="p", experiment="parallel", store=store)
    with mlineage.start_run(f"worker-{worker}"):
        for step in range(200):
            mlineage.log_time_series_metrics({"loss": 1.0 / (step + 1)}, step=step)
        mlineage.log_params({"worker": worker})


@pytest.mark.slow
def test_processes_logging_runs_lose_nothing(postgres_url: str) -> None:
    """Four processes start runs in one new experiment at the same moment."""
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_log_points, args=(postgres_url, i, start)) for i in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0] * 4

    mlineage.init(project="p", store=postgres_url)
    frame = mlineage.get_experiment_df("parallel")
    assert sorted(frame["param.worker"]) == [0, 1, 2, 3]
    assert set(frame["state"]) == {"COMPLETE"}
    for i in range(4):
        series = mlineage.ExperimentRun(f"worker-{i}", "parallel").get_time_series_data_frame()
        assert series["step"].tolist() == list(range(200))


def test_a_read_sees_one_snapshot_while_others_commit(stores: list[SqlStore]) -> None:
    reader, writer = stores[0], stores[1]
    parent = StoreName("p", "us-central1")
    writer.create(parent, Artifact(uri="gs://b/first"))
    with reader.db.read() as connection:
        count = "SELECT count(*) FROM artifacts"
        assert connection.exec_driver_sql(count).scalar() == 1
        writer.create(parent, Artifact(uri="gs://b/second"))  # committed meanwhile
        assert connection.exec_driver_sql(count).scalar() == 1
    assert len(reader.list(parent, Artifact).items) == 2
