"""Opening a database and the two ways mlineage touches it: reads, and write transactions
retried while the database is busy (the settings of each dialect are in `store.dialects`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from mlineage.errors import InvalidArgumentError, UnavailableError
from mlineage.store import dialects

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
        dialect = self.dialect
        return dialects.is_retryable(dialect, exc) or dialects.is_unreachable(dialect, exc)

    def close(self) -> None:
        self.engine.dispose()
