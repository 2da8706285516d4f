"""Many processes writing one SQLite file: no "database is locked", nothing lost."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mlineage
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, StoreName

WORKERS = 8
POINTS = 2000


def _log_points(store: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()  # all workers open the fresh file at the same moment
    mlineage.init(project="p", experiment="parallel", store=store)
    with mlineage.start_run(f"worker-{worker}"):
        for step in range(POINTS):
            mlineage.log_time_series_metrics({"loss": 1.0 / (step + 1)}, step=step)
            if step % 200 == 0:
                mlineage.log_metrics({"last_step": step})
        mlineage.log_params({"worker": worker})


@pytest.mark.slow
def test_parallel_writers_lose_nothing(tmp_path: Path) -> None:
    store = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_log_points, args=(store, i, start)) for i in range(WORKERS)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0] * WORKERS

    mlineage.init(project="p", store=store)
    frame = mlineage.get_experiment_df("parallel")
    assert sorted(frame["run_name"]) == sorted(f"worker-{i}" for i in range(WORKERS))
    assert set(frame["state"]) == {"COMPLETE"}
    assert sorted(frame["param.worker"]) == list(range(WORKERS))
    assert set(frame["metric.last_step"]) == {1800}
    for i in range(WORKERS):
        series = mlineage.ExperimentRun(f"worker-{i}", "parallel").get_time_series_data_frame()
        assert series["step"].tolist() == list(range(POINTS))
        assert series["loss"].iloc[-1] == pytest.approx(1.0 / POINTS)


def _log_an_input_of_one_run(
    store: str, worker: int, ready: multiprocessing.synchronize.Barrier
) -> None:
    mlineage.init(project="p", experiment="shared", store=store)
    run = mlineage.ExperimentRun("one-run", experiment="shared")
    shard = mlineage.Artifact.create(schema_title="system.Dataset", display_name=f"shard-{worker}")
    ready.wait()  # every worker has looked nothing up yet: they log at the same moment
    run.log_input(shard)


def test_processes_logging_inputs_of_one_run_record_them_on_one_execution(
    tmp_path: Path,
) -> None:
    """Workers of one distributed job each log their input to the same run: the run's
    lineage has one execution with every input, not one execution per worker."""
    store = str(tmp_path / "shared.db")
    mlineage.init(project="p", experiment="shared", store=store)
    mlineage.ExperimentRun.create("one-run", experiment="shared")
    workers_count = 4
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers_count)
    workers = [
        context.Process(target=_log_an_input_of_one_run, args=(store, i, ready))
        for i in range(workers_count)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * workers_count

    (execution,) = mlineage.ExperimentRun("one-run", experiment="shared").get_executions()
    shards = sorted(a.display_name for a in execution.get_input_artifacts())
    assert shards == [f"shard-{i}" for i in range(workers_count)]


def _kill_once_it_prints(script: str, line: str) -> None:
    """Run `script` in a new Python process and SIGKILL it as soon as it prints `line`."""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == line
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_logged_value_survives_the_process_being_killed(tmp_path: Path) -> None:
    store = str(tmp_path / "killed.db")
    script = textwrap.dedent(
        f"""
        import sys, time
        import mlineage
        mlineage.init(project="p", experiment="crash", store={store!r})
        run = mlineage.start_run("doomed")
        mlineage.log_params({{"lr": 0.5}})
        for step in range(3):
            mlineage.log_time_series_metrics({{"loss": 1.0 + step}}, step=step)
        mlineage.log_metrics({{"accuracy": 0.75}})
        print("logged", flush=True)
        time.sleep(60)
        """
    )
    _kill_once_it_prints(script, "logged")

    mlineage.init(project="p", store=store)
    run = mlineage.ExperimentRun("doomed", "crash")
    assert run.get_params() == {"lr": 0.5}
    assert run.get_metrics() == {"accuracy": 0.75}
    assert run.get_time_series_data_frame()["loss"].tolist() == [1.0, 2.0, 3.0]
    assert run.get_state() == "RUNNING"  # it never ended; nothing pretends it did


@pytest.mark.slow
def test_a_process_killed_inside_a_write_leaves_none_of_it_and_the_lock_free(
    tmp_path: Path,
) -> None:
    # The child inserts rows through the driver and through SQLAlchemy inside one write,
    # then is killed before it commits: none of its rows may be read, and the next writer
    # must not wait for a lock the dead process held.
    path = tmp_path / "killed-mid-write.db"
    script = textwrap.dedent(
        f"""
        import time
        from mlineage.store.sql import SqlStore
        from mlineage.store import nodes
        from mlineage.types import Artifact, StoreName

        store = SqlStore({str(path)!r})
        parent = StoreName("p", "us-central1")
        store.create(parent, Artifact(uri="gs://b/kept"), "kept")

        def work(connection):
            store_pk = store._store_pk(connection, parent)
            spec = nodes.SPECS[Artifact]
            batch = [Artifact(uri=f"gs://b/lost-{{i}}") for i in range(500)]
            nodes.insert(connection, store_pk, parent, spec, batch, [None] * 500)
            connection.exec_driver_sql("CREATE TABLE lost (x INTEGER)")
            print("inside", flush=True)
            time.sleep(60)

        store.db.write(work)
        """
    )
    _kill_once_it_prints(script, "inside")

    parent = StoreName("p", "us-central1")
    store = SqlStore(str(path))
    try:
        assert [a.uri for a in store.list(parent, Artifact, page_size=None).items] == [
            "gs://b/kept"
        ]
        with store.db.read() as connection:
            tables = connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars()
            assert "lost" not in set(tables)
        made = store.create(parent, Artifact(uri="gs://b/after"))  # the lock went with it
        assert store.get(made.name, Artifact).uri == "gs://b/after"
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_writes_on_connections_of_its_own_and_the_parent_goes_on(
    tmp_path: Path,
) -> None:
    # multiprocessing forks by default on Linux: a worker forked from a process that has
    # used a store must not use (or roll back, or close) the parent's SQLite connections.
    parent = StoreName("p", "us-central1")
    store = SqlStore(str(tmp_path / "forked.db"))
    try:
        store.create(parent, Artifact(uri="gs://b/before"))
        assert store.list(parent, Artifact).items  # a read connection is back in the pool
        writer, pool = store.db._writer, store.db.engine.pool
        checkpointer = store.db.checkpointer
        assert writer is not None
        assert checkpointer is not None
        thread = checkpointer._thread
        pid = os.fork()
        if pid == 0:  # the child: its exit code says what it found
            code = 1
            try:
                made = store.create(parent, Artifact(uri="gs://b/child"))
                own = store.db._writer is not writer and store.db.engine.pool is not pool
                ticking = checkpointer._thread is not thread and checkpointer._thread is not None
                read = store.get(made.name, Artifact).uri == "gs://b/child"
                code = 0 if own and ticking and read else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store.db._writer is writer  # the parent's connections are its own still
        store.create(parent, Artifact(uri="gs://b/after"))
        uris = sorted(a.uri for a in store.list(parent, Artifact).items)
        assert uris == ["gs://b/after", "gs://b/before", "gs://b/child"]
        with store.db.read() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    finally:
        store.close()
