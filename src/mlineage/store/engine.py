"""Opening a database and the two ways mlineage touches it: reads, and write transactions
retried while the database is busy (the settings of each dialect are in `store.dialects`).

SQLite has one writer at a time, so a `Database` over SQLite keeps one connection for
writing, taken by whichever thread writes when no other thread of the process is: checking a
connection out of the pool and back for every transaction costs as much as a small
transaction's statements. A thread that finds it taken (or a write started inside a write)
uses a pooled connection as before and waits for the database's lock like any other writer.

A process forked from one that has used a `Database` (multiprocessing's default on Linux)
opens connections of its own: SQLite and PostgreSQL connections must not cross a fork.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from mlineage.errors import DeadlineExceededError, InvalidArgumentError, UnavailableError
from mlineage.store import dialects, driver

T = TypeVar("T")

WRITE_RETRY_SECONDS = 120.0
UNCOMMITTED_STORES = "mlineage_uncommitted_stores"
"""`connection.info` key for ids a transaction must not cache (see store.scope)."""


def database_url(store: str) -> sa.URL:
    """Read a store setting: a file path, `sqlite:///path` or `postgresql://...`."""
    if "://" not in store:
        path = Path(store).expanduser()
        return sa.URL.create("sqlite", database=str(path.resolve()))
    try:
        url = sa.make_url(store)
    except sa.exc.ArgumentError:
        raise InvalidArgumentError("store", f"{store!r} is not a valid store URL") from None
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise InvalidArgumentError(
                "store", "an in-memory SQLite store is not supported; give a file path"
            )
        return url.set(database=str(Path(url.database).expanduser().resolve()))
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    raise InvalidArgumentError(
        "store",
        f"unsupported store URL scheme {url.drivername!r}; use a path, sqlite:// or postgresql://",
    )


def create_engine(store: str) -> Engine:
    """An engine for `store`, with mlineage's transaction settings installed."""
    url = database_url(store)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return dialects.create_engine(url)


def _close_quietly(connection: Connection) -> None:
    """Hand a connection back to the pool, ignoring a failure to: after a commit, an error
    here (a server gone meanwhile) must not make `write` run the work again, and after a
    failed transaction it must not hide that failure. The pool drops a broken connection."""
    with contextlib.suppress(Exception):
        connection.close()


class Database:
    """An engine plus the two ways mlineage touches it: `read()` and `write(work)`."""

    def __init__(self, engine: Engine, on_rollback: Callable[[], None] | None = None) -> None:
        """`on_rollback` runs whenever a write transaction fails (callers drop caches)."""
        self.engine = engine
        self.dialect = engine.dialect.name
        self._on_rollback = on_rollback
        self.checkpointer = dialects.checkpointer(engine)
        # PostgreSQL's default, READ COMMITTED, lets each statement of a read see commits made
        # since the one before: a read of several statements must see one snapshot. SQLite's
        # read transactions already do.
        self._read_engine = (
            engine.execution_options(isolation_level="REPEATABLE READ")
            if self.dialect == "postgresql"
            else engine
        )
        self._writer_lock = threading.Lock() if self.dialect == "sqlite" else None
        self._writer: Connection | None = None
        _DATABASES.add(self)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot)."""
        try:
            with self._read_engine.connect() as connection:
                yield connection
        except OperationalError as exc:
            self._raise_if_timed_out(exc)
            unreachable = dialects.is_unreachable(self.dialect, exc)
            if self._retryable(exc) or unreachable or "unable to open" in str(exc.orig):
                raise UnavailableError(f"the store cannot be read now: {exc.orig}") from exc
            raise

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction, retrying it when the database is busy.

        `work` must not have side effects outside the transaction: it may run again.
        """
        deadline = time.monotonic() + WRITE_RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                lock = self._writer_lock
                if lock is not None and lock.acquire(blocking=False):
                    try:
                        result = self._run_held(work)
                    finally:
                        lock.release()
                else:
                    connection = self.engine.connect()
                    try:
                        result = self._run(connection, work)
                    finally:
                        _close_quietly(connection)
            except BaseException as exc:
                if self._on_rollback is not None:
                    self._on_rollback()
                if not isinstance(exc, DBAPIError):
                    raise
                self._raise_if_timed_out(exc)
                if not self._retryable(exc) or time.monotonic() > deadline:
                    if self._retryable(exc):
                        raise UnavailableError(f"the store stayed busy: {exc.orig}") from exc
                    raise
            else:
                if self.checkpointer is not None:
                    self.checkpointer.committed()
                return result
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)

    def _run(self, connection: Connection, work: Callable[[Connection], T]) -> T:
        try:
            if self.dialect == "sqlite":
                return driver.sqlite_write(connection, work)
            with connection.begin():
                return work(connection)
        finally:
            connection.info.pop(UNCOMMITTED_STORES, None)

    def _run_held(self, work: Callable[[Connection], T]) -> T:
        """`_run` on the kept write connection (the caller holds `_writer_lock`)."""
        connection = self._writer
        if connection is None:
            connection = self._writer = self.engine.connect()
        try:
            return self._run(connection, work)
        except BaseException:
            self._writer = None  # a failed transaction may have broken the connection
            with contextlib.suppress(Exception):  # broken: the error that broke it is raised
                connection.close()
            raise

    def _forget_parent_connections(self) -> None:
        """In a forked child: the parent's connections (the kept write connection and the
        pool's) must not be used here, nor closed or rolled back, which would touch the
        parent's transactions. They are left alone, and the child opens its own."""
        if self._writer is not None:
            _INHERITED.append(self._writer)  # never released: releasing rolls it back
            self._writer = None
        if self._writer_lock is not None:
            self._writer_lock = threading.Lock()  # a parent's thread may have held it
        self.engine.dispose(close=False)

    def _raise_if_timed_out(self, exc: DBAPIError) -> None:
        if dialects.is_timed_out(self.dialect, exc):
            limit = dialects.statement_timeout_ms(self.engine)
            raise DeadlineExceededError(
                f"the store stopped the query at its statement_timeout ({limit} ms; "
                "set by the store URL's statement_timeout): narrow it or raise the limit"
            ) from exc

    def _retryable(self, exc: DBAPIError) -> bool:
        dialect = self.dialect
        return dialects.is_retryable(dialect, exc) or dialects.is_unreachable(dialect, exc)

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        lock = self._writer_lock
        if lock is not None:
            with lock:  # waits for a write in progress
                if self._writer is not None:
                    self._writer.close()
                self._writer = None
        self.engine.dispose()


_DATABASES: weakref.WeakSet[Database] = weakref.WeakSet()
_INHERITED: list[Connection] = []
"""In a forked child, the parent's kept write connections."""


def _forget_parent_connections_in_child() -> None:
    for database in list(_DATABASES):
        database._forget_parent_connections()


os.register_at_fork(after_in_child=_forget_parent_connections_in_child)
