"""Opening a database: the engine settings of each dialect and write transactions with retry.

SQLite runs in WAL mode with a busy timeout; every write transaction starts with
`BEGIN IMMEDIATE`, so writers queue on the file lock instead of failing half-way, and a
write that still meets a lock is retried with backoff. Reads use deferred transactions,
which see one consistent snapshot. `synchronous` is NORMAL by default (a commit survives the
process being killed; only an OS crash or power loss can lose the last commits) and FULL
with `?synchronous=full` in the store URL.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from mlineage.errors import InvalidArgumentError, UnavailableError

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_RETRY_SECONDS = 120.0
_SYNCHRONOUS_MODES = {"off", "normal", "full", "extra"}
_RETRYABLE_PG_STATES = {"40001", "40P01"}  # serialization failure, deadlock
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


def _json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _json_loads(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)  # most labels and much metadata are empty


def create_engine(store: str) -> Engine:
    """An engine for `store`, with mlineage's transaction settings installed."""
    url = database_url(store)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        json_serializer=_json_dumps,
        json_deserializer=_json_loads,
    )


def _sqlite_engine(url: sa.URL) -> Engine:
    query = dict(url.query)
    synchronous = str(query.pop("synchronous", "normal")).lower()
    if synchronous not in _SYNCHRONOUS_MODES:
        raise InvalidArgumentError(
            "store", f"synchronous must be one of {sorted(_SYNCHRONOUS_MODES)}, got {synchronous!r}"
        )
    assert url.database is not None
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url.set(query=query),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        json_serializer=_json_dumps,
        json_deserializer=_json_loads,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get("mlineage_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """An engine plus the two ways mlineage touches it: `read()` and `write(work)`."""

    def __init__(self, engine: Engine, on_rollback: Callable[[], None] | None = None) -> None:
        """`on_rollback` runs whenever a write transaction fails (callers drop caches)."""
        self.engine = engine
        self.dialect = engine.dialect.name
        self._on_rollback = on_rollback

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot)."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except OperationalError as exc:
            if self._retryable(exc) or "unable to open" in str(exc.orig):
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
                options = {"mlineage_write": True}
                with self.engine.connect().execution_options(**options) as connection:
                    try:
                        with connection.begin():
                            return work(connection)
                    finally:
                        connection.info.pop(UNCOMMITTED_STORES, None)
            except BaseException as exc:
                if self._on_rollback is not None:
                    self._on_rollback()
                if not isinstance(exc, DBAPIError):
                    raise
                if not self._retryable(exc) or time.monotonic() > deadline:
                    if self._retryable(exc):
                        raise UnavailableError(f"the store stayed busy: {exc.orig}") from exc
                    raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)

    def _retryable(self, exc: DBAPIError) -> bool:
        if self.dialect == "sqlite":
            text = str(exc.orig).lower()
            return "locked" in text or "busy" in text
        state = getattr(exc.orig, "sqlstate", None)
        return state in _RETRYABLE_PG_STATES or exc.connection_invalidated

    def close(self) -> None:
        self.engine.dispose()
