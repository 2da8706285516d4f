"""The SQLite write path: the kept write connection, the checkpoint thread, and row ids
learnt without a lookup (see store.engine, store.checkpoint,
driver.insert_rows_returning_ids)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlineage.errors import AlreadyExistsError, InvalidArgumentError
from mlineage.store import checkpoint, dialects, driver
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Execution, StoreName

PARENT = StoreName("p", "us-central1")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(str(tmp_path / "store.db"))
    yield opened
    opened.close()


def _uris(store: SqlStore, execution: str) -> dict[str, str]:
    graph = store.query_execution_inputs_and_outputs(execution)
    by_name = {a.name: a.uri for a in graph.artifacts}
    return {by_name[e.artifact]: e.type.name for e in graph.events}


def test_new_outputs_get_their_own_events_after_gaps_in_the_ids(store: SqlStore) -> None:
    # Deleted rows leave gaps below the largest id: new ids must still match their rows.
    made = store.create_many(PARENT, [Artifact(uri=f"old-{i}") for i in range(5)])
    for artifact in made[1:4]:
        store.delete(artifact.name, Artifact)
    store.create(PARENT, Artifact(uri="taken"), "taken")
    execution, outputs = store.record_execution(
        PARENT,
        Execution(display_name="e"),
        inputs=[made[0].name, made[4].name],
        outputs=[Artifact(uri=f"new-{i}") for i in range(3)],
    )
    assert [o.uri for o in outputs] == ["new-0", "new-1", "new-2"]
    assert _uris(store, execution.name) == {
        "old-0": "INPUT",
        "old-4": "INPUT",
        "new-0": "OUTPUT",
        "new-1": "OUTPUT",
        "new-2": "OUTPUT",
    }
    for output in outputs:
        assert store.get(output.name, Artifact) == output


def test_a_batch_of_new_outputs_maps_each_row_to_its_own_id(store: SqlStore) -> None:
    # 70 rows go in as multi-row INSERTs of 64, 4 and 2 rows, after earlier rows.
    store.create_many(PARENT, [Artifact(uri=f"before-{i}") for i in range(30)])
    execution, outputs = store.record_execution(
        PARENT, Execution(), outputs=[Artifact(uri=f"out-{i}") for i in range(70)]
    )
    assert [o.uri for o in outputs] == [f"out-{i}" for i in range(70)]
    assert _uris(store, execution.name) == {f"out-{i}": "OUTPUT" for i in range(70)}


def test_a_record_mixes_given_and_drawn_ids(store: SqlStore) -> None:
    # The execution's and the new outputs' missing ids are drawn at once; given ones stay.
    execution, outputs = store.record_execution(
        PARENT,
        Execution(display_name="train"),
        "run-7",
        outputs=[Artifact(uri="m"), Artifact(name=f"{PARENT}/artifacts/model-7"), Artifact()],
    )
    assert execution.resource_id == "run-7"
    drawn = [outputs[0].resource_id, outputs[2].resource_id]
    assert outputs[1].resource_id == "model-7"
    assert len(set(drawn)) == 2
    assert not {"run-7", "model-7"} & set(drawn)
    for output in outputs:
        assert store.get(output.name, Artifact) == output
    assert store.get(execution.name, Execution) == execution


def test_an_id_given_twice_in_one_record_writes_nothing(store: SqlStore) -> None:
    twice = [Artifact(name=f"{PARENT}/artifacts/same"), Artifact(name=f"{PARENT}/artifacts/same")]
    with pytest.raises(InvalidArgumentError, match=r"resource_id.*given twice"):
        store.record_execution(PARENT, Execution(), "e-1", outputs=twice)
    assert store.list(PARENT, Artifact).items == []
    assert store.list(PARENT, Execution).items == []


def test_rows_go_to_the_driver_only_in_the_tables_column_order(store: SqlStore) -> None:
    # Rows are tuples handed to the driver as they are: a caller naming the columns in
    # another order than the statement binds them is refused, not written crosswise.
    store.db.write(lambda c: c.exec_driver_sql("CREATE TABLE pairs (a TEXT, b TEXT)"))
    table = sa.table("pairs", sa.column("a"), sa.column("b"))

    def insert(columns: tuple[str, ...]) -> None:
        store.db.write(lambda c: driver.insert_rows(c, sa.insert(table), columns, [("1", "2")]))

    with pytest.raises(ValueError, match="table's order"):
        insert(("b", "a"))
    insert(("a", "b"))
    with store.db.read() as connection:
        assert connection.exec_driver_sql("SELECT a, b FROM pairs").all() == [("1", "2")]


def test_a_statements_in_list_is_spelled_out_for_the_driver(store: SqlStore) -> None:
    store.db.write(lambda c: c.exec_driver_sql("CREATE TABLE kv (k INTEGER, v TEXT)"))
    store.db.write(
        lambda c: c.exec_driver_sql("INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (1, 'c')")
    )
    table = sa.table("kv", sa.column("k"), sa.column("v"))
    by_list = sa.select(table.c.v).where(
        table.c.k == sa.bindparam("k"), table.c.v.in_(sa.bindparam("vs", expanding=True))
    )
    list_first = sa.select(table.c.v).where(
        table.c.v.in_(sa.bindparam("vs", expanding=True)), table.c.k == sa.bindparam("k")
    )
    with store.db.read() as connection:
        sql = driver.in_list_sql(connection.dialect, by_list, 3)
        raw = driver.sqlite_driver_connection(connection)
        found = raw.execute(sql, (1, "a", "b", "c")).fetchall()
        assert sorted(v for (v,) in found) == ["a", "c"]
        # The list's values must come last: a statement binding them elsewhere is refused.
        with pytest.raises(ValueError, match="IN list"):
            driver.in_list_sql(connection.dialect, list_first, 3)
        with pytest.raises(ValueError, match="IN list"):
            driver.in_list_sql(connection.dialect, sa.select(table.c.v), 1)


def test_a_failed_write_leaves_the_store_writable(store: SqlStore) -> None:
    store.create(PARENT, Artifact(uri="a"), "a")
    with pytest.raises(AlreadyExistsError):
        store.create_many(PARENT, [Artifact(uri="b"), Artifact(name=f"{PARENT}/artifacts/a")])
    with pytest.raises(AlreadyExistsError):
        store.create(PARENT, Artifact(uri="again"), "a")
    made = store.create_many(PARENT, [Artifact(uri="c"), Artifact(uri="d")])
    assert [store.get(m.name, Artifact).uri for m in made] == ["c", "d"]
    assert len(store.list(PARENT, Artifact).items) == 3


def test_threads_writing_through_one_store_lose_nothing(store: SqlStore) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(40):
                store.record_execution(
                    PARENT,
                    Execution(display_name=f"w{worker}-{i}"),
                    outputs=[Artifact(uri=f"w{worker}-{i}")],
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    executions = store.list(PARENT, Execution).items
    assert len(executions) == 160
    for execution in executions[::16]:
        assert _uris(store, execution.name) == {execution.display_name: "OUTPUT"}


def test_a_new_store_has_small_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(old)) as made:  # as mlineage made stores before
        made.execute("PRAGMA page_size=4096")
        made.execute("PRAGMA journal_mode=WAL")
    for path, size in ((tmp_path / "new.db", dialects.SQLITE_PAGE_SIZE), (old, 4096)):
        store = SqlStore(str(path))
        try:
            artifact = store.create(PARENT, Artifact(uri="gs://b/x", metadata={"k": "v" * 5000}))
            assert store.get(artifact.name, Artifact).metadata == {"k": "v" * 5000}
        finally:
            store.close()
        with contextlib.closing(sqlite3.connect(path)) as reopened:
            assert reopened.execute("PRAGMA page_size").fetchone()[0] == size


def test_the_log_is_checkpointed_by_a_thread_and_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    store = SqlStore(str(path))
    try:
        with store.db.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            pragma = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            assert pragma == checkpoint.WAL_AUTOCHECKPOINT_PAGES
        checkpointer = store.db.checkpointer
        assert checkpointer is not None
        blob = {"text": "x" * 3000}  # about a page per artifact
        for start in range(0, 6000, 200):
            store.create_many(
                PARENT, [Artifact(uri=f"u{i}", metadata=blob) for i in range(start, start + 200)]
            )
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            store.create(PARENT, Artifact(uri="poke"))
            time.sleep(0.05)
        assert checkpointer.checkpoints > 0
        # ~6,000 pages were written; the log started over instead of growing past its cap
        # (plus the transaction that crossed it).
        wal = Path(f"{path}-wal").stat().st_size
        assert wal < checkpoint.JOURNAL_SIZE_LIMIT_BYTES + 300 * 4096 + 32
        assert len(store.list(PARENT, Artifact, page_size=10_000).items) >= 6000
    finally:
        store.close()
    assert not any(t.name == "mlineage-checkpoint" and t.is_alive() for t in threading.enumerate())


def test_the_checkpoint_thread_ends_when_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "IDLE_SECONDS", 0.1)
    store = SqlStore(str(tmp_path / "idle.db"))
    try:
        store.create(PARENT, Artifact(uri="a"))
        checkpointer = store.db.checkpointer
        assert checkpointer is not None
        thread = checkpointer._thread
        assert thread is not None
        thread.join(timeout=5)
        assert not thread.is_alive()
        assert checkpointer.checkpoints >= 1
        store.create(PARENT, Artifact(uri="b"))  # starts it again
        assert checkpointer._thread is not thread
        assert store.get(store.list(PARENT, Artifact).items[1].name, Artifact).uri == "b"
    finally:
        store.close()


def test_metadata_that_refers_to_itself_is_refused_by_name(store: SqlStore) -> None:
    circular: dict[str, object] = {}
    circular["self"] = circular
    with pytest.raises(InvalidArgumentError, match=r"metadata: .*Circular reference detected"):
        store.create(PARENT, Artifact(metadata=circular))
    assert store.list(PARENT, Artifact).items == []


def test_a_commit_is_not_run_again_when_the_connection_fails_to_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(str(tmp_path / "close.db"))
    try:
        store.create(PARENT, Artifact(uri="gs://b/first"))  # the store exists
        real_close = sa.engine.Connection.close
        failures: list[bool] = []

        def close_failing_once(connection: sa.engine.Connection) -> None:
            real_close(connection)
            if not failures:
                failures.append(True)  # as when the server goes away after the commit
                raise sa.exc.OperationalError("close", {}, sqlite3.OperationalError("busy"))

        monkeypatch.setattr(sa.engine.Connection, "close", close_failing_once)
        runs: list[int] = []

        def work(connection: sa.engine.Connection) -> None:
            runs.append(1)
            connection.exec_driver_sql("CREATE TABLE written_once (x INTEGER)")

        lock = store.db._writer_lock
        assert lock is not None
        with lock:  # the kept write connection is taken: the write uses a pooled one
            store.db.write(work)
        assert failures
        assert runs == [1]  # committed once, not retried as "busy"
    finally:
        monkeypatch.undo()
        store.close()


def _rows_of(store: SqlStore, table: str) -> list[tuple[int]]:
    with store.db.read() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(f"SELECT x FROM {table}")]


@pytest.mark.parametrize("fails", [False, True])
def test_statements_through_sqlalchemy_and_the_driver_share_the_write(
    store: SqlStore, fails: bool
) -> None:
    # A write begins on the driver; a statement run through SQLAlchemy joins it, so the
    # two kinds commit together, or roll back together when the work fails after both.
    store.db.write(lambda c: c.exec_driver_sql("CREATE TABLE shared (x INTEGER)"))
    table = sa.table("shared", sa.column("x"))
    insert = sa.insert(table).values(x=sa.bindparam("x"))

    def work(connection: sa.engine.Connection) -> None:
        driver.rows(connection, insert, {"x": 1})
        connection.execute(insert, {"x": 2})
        driver.rows(connection, insert, {"x": 3})
        if fails:
            raise ValueError("after the statements")

    if fails:
        with pytest.raises(ValueError, match="after the statements"):
            store.db.write(work)
    else:
        store.db.write(work)
    assert sorted(_rows_of(store, "shared")) == ([] if fails else [(1,), (2,), (3,)])
    store.db.write(lambda c: driver.rows(c, insert, {"x": 4}))  # the store is writable after
    assert (4,) in _rows_of(store, "shared")


def test_a_write_holds_the_write_lock_from_its_start(store: SqlStore, tmp_path: Path) -> None:
    # BEGIN IMMEDIATE: another writer waits for the whole transaction, not just its end,
    # so a write never fails half-way on a lock another took meanwhile.
    store.create(PARENT, Artifact(uri="gs://b/first"))
    other = sqlite3.connect(tmp_path / "store.db", timeout=0, isolation_level=None)
    seen: list[str] = []

    def work(connection: sa.engine.Connection) -> None:
        with pytest.raises(sqlite3.OperationalError, match="locked") as info:
            other.execute("BEGIN IMMEDIATE")
        seen.append(str(info.value))

    try:
        store.db.write(work)
        other.execute("BEGIN IMMEDIATE")  # free again once it committed
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert seen == ["database is locked"]


def test_a_write_waits_out_a_lock_held_past_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process holds the write lock for ten busy timeouts: BEGIN IMMEDIATE fails as
    # "database is locked" each time, and the write is retried until the lock is free,
    # instead of failing or writing half.
    monkeypatch.setattr(dialects, "SQLITE_BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "store.db"
    store = SqlStore(str(path))
    try:
        store.create(PARENT, Artifact(uri="gs://b/first"))
        with store.db.read() as connection:  # so the wait below outlasts it ten times
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 50
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        released = threading.Event()

        def release() -> None:
            other.execute("ROLLBACK")
            released.set()

        timer = threading.Timer(0.5, release)
        timer.start()
        try:
            made = store.record_execution(
                PARENT, Execution(display_name="late"), outputs=[Artifact(uri="gs://b/late")]
            )
        finally:
            timer.join()
            other.close()
        assert released.is_set()  # it committed only once the other writer let go
        execution, (output,) = made
        assert store.get(execution.name, Execution).display_name == "late"
        assert store.get(output.name, Artifact).uri == "gs://b/late"
    finally:
        store.close()
