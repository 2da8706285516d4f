"""Everything that differs between SQLite and PostgreSQL, in one place.

- engines: SQLite runs in WAL mode with a busy timeout and starts every write transaction
  with `BEGIN IMMEDIATE`, so writers queue on the file lock instead of failing half-way.
  `synchronous` is NORMAL by default (a commit survives the process being killed; only an
  OS crash or power loss can lose the last commits) and FULL with `?synchronous=full`.
  The log is checkpointed by a thread after commits (`store.checkpoint`), and by SQLite
  itself only once it reaches `checkpoint.WAL_AUTOCHECKPOINT_PAGES`.
  PostgreSQL gets a connection pool sized for a multi-threaded server (`?pool_size=` and
  `?max_overflow=` in the store URL change it), checked before use (`pool_pre_ping`).
- JSON: PostgreSQL's `jsonb` keeps numbers as `numeric`, which prints `1e+20` back as an
  integer; floats are written in positional notation so they read back as floats.
- `INSERT ... ON CONFLICT`, which of the errors mean "retry the transaction", and how a
  migration takes the database's write lock.
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import json
import sqlite3
import time
import uuid
import weakref
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from mlineage.errors import InvalidArgumentError
from mlineage.store import checkpoint, driver

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PAGE_SIZE = 2048
"""The page size of a new SQLite store (SQLite's default is 4096; an existing file keeps its
own). Each commit writes every page it changed to the log, and a small write changes one
page of the table and of each index: halving the page halves those bytes. Measured on
record_execution: 7% faster with synchronous=NORMAL, 22% with FULL; scans ~unchanged."""
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 20
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
POSTGRES_POOL_RECYCLE_SECONDS = 3600
_SYNCHRONOUS_MODES = {"off", "normal", "full", "extra"}
_RETRYABLE_PG_STATES = {"40001", "40P01"}  # serialization failure, deadlock
_SHUTDOWN_PG_STATES = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now
_UNIQUE_VIOLATION = "23505"
_QUERY_CANCELED = "57014"
_MIGRATION_LOCK_KEY = 0x6D6C696E  # "mlin"


def create_engine(url: sa.URL) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, with mlineage's transaction settings."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return _postgres_engine(url)


# --- JSON ---


def _json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _json_loads(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)  # most labels and much metadata are empty


def _postgres_json_dumps(value: Any) -> str:
    text = _json_dumps(value)
    if "e+" not in text:  # the usual case: no float with a large exponent
        return text
    nonce = uuid.uuid4().hex
    numbers: list[str] = []

    def mark(item: Any) -> Any:
        if isinstance(item, float) and "e+" in repr(item):
            numbers.append(format(decimal.Decimal(repr(item)), "f") + ".0")
            return f"{nonce}{len(numbers) - 1}"
        if isinstance(item, dict):
            return {k: mark(v) for k, v in item.items()}
        if isinstance(item, list):
            return [mark(v) for v in item]
        return item

    text = _json_dumps(mark(value))
    for i, digits in enumerate(numbers):
        text = text.replace(f'"{nonce}{i}"', digits, 1)
    return text


def json_text(dialect: str, text: str) -> str:
    """Compact JSON `text` (as `json.dumps(..., separators=(",", ":"))` writes it) as the
    engine's own serializer would have written it, for statements run through the driver."""
    if dialect == "postgresql" and "e+" in text:
        return _postgres_json_dumps(json.loads(text))
    return text


# --- engines ---


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """`PRAGMA journal_mode=WAL`, retried while the file is locked. Processes opening a new
    file at once race to switch it; SQLite answers "database is locked" at once rather than
    wait when waiting could deadlock, so the busy timeout alone does not cover this."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _sqlite_engine(url: sa.URL) -> Engine:
    query = dict(url.query)
    synchronous = str(query.pop("synchronous", "normal")).lower()
    if synchronous not in _SYNCHRONOUS_MODES:
        raise InvalidArgumentError(
            "store", f"synchronous must be one of {sorted(_SYNCHRONOUS_MODES)}, got {synchronous!r}"
        )
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
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL creates the file
        _switch_to_wal(cursor)
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint.WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={checkpoint.JOURNAL_SIZE_LIMIT_BYTES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        raw = driver.sqlite_driver_connection(connection)
        if raw.in_transaction:  # a write's, begun on the driver (`driver.sqlite_write`)
            return
        # on the driver: exec_driver_sql costs more than BEGIN itself
        driver.sqlite_execute(raw, "BEGIN", connection.dialect)

    _SQLITE_SYNCHRONOUS[engine] = synchronous
    return engine


_SQLITE_SYNCHRONOUS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def checkpointer(engine: Engine) -> checkpoint.Checkpointer | None:
    """The background checkpointer for a SQLite engine made here; None for PostgreSQL."""
    synchronous = _SQLITE_SYNCHRONOUS.get(engine)
    if synchronous is None or engine.url.database is None:
        return None
    return checkpoint.Checkpointer(engine.url.database, synchronous)


def _int_setting(query: dict[str, Any], key: str, default: int) -> int:
    """A non-negative integer setting of the URL's query, taken out of it."""
    raw = query.pop(key, None)
    if raw is None:
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidArgumentError("store", f"{key} must be a non-negative integer, got {raw!r}")
    return value


def _postgres_engine(url: sa.URL) -> Engine:
    query = dict(url.query)
    pool_size = _int_setting(query, "pool_size", POSTGRES_POOL_SIZE)
    max_overflow = _int_setting(query, "max_overflow", POSTGRES_MAX_OVERFLOW)
    timeout_ms = _int_setting(query, "statement_timeout", 0)
    defaults: dict[str, Any] = {
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
        "application_name": "mlineage",
    }
    if timeout_ms:
        if "options" in query:
            raise InvalidArgumentError(
                "store", "give statement_timeout or options in the URL, not both"
            )
        defaults["options"] = f"-c statement_timeout={timeout_ms}"
    engine = sa.create_engine(
        url.set(query=query),
        connect_args={k: v for k, v in defaults.items() if k not in query},
        pool_pre_ping=True,  # a server restart or idle timeout leaves dead connections
        pool_size=max(pool_size, 1),
        max_overflow=max_overflow,
        pool_recycle=POSTGRES_POOL_RECYCLE_SECONDS,
        json_serializer=_postgres_json_dumps,
        json_deserializer=_json_loads,
    )
    _STATEMENT_TIMEOUT_MS[engine] = timeout_ms
    return engine


_STATEMENT_TIMEOUT_MS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def statement_timeout_ms(engine: Engine) -> int:
    """The `statement_timeout` a PostgreSQL engine made here sets (0: none)."""
    return _STATEMENT_TIMEOUT_MS.get(engine, 0)


# --- statements and errors ---


def insert(dialect: str, table: sa.Table) -> Any:
    """An INSERT for `table` that supports `on_conflict_do_update/_do_nothing`."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _pg_array_type(column: sa.Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, sa.BigInteger):
        return "bigint[]"
    if isinstance(kind, sa.Integer):
        return "integer[]"
    if isinstance(kind, sa.Float):
        return "double precision[]"
    if isinstance(kind, sa.String):
        return "text[]"
    raise TypeError(f"no array type for column {column.name} ({kind})")


@functools.lru_cache(maxsize=32)
def _pg_unnest_upsert(table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]) -> Any:
    arrays = ", ".join(f"CAST(:{c} AS {_pg_array_type(table.c[c])})" for c in columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return sa.text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(keys)}) {action}"
    )


@functools.lru_cache(maxsize=32)
def _upsert_statement(
    dialect: str, table: sa.Table, columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    statement = insert(dialect, table)
    updates = {c: statement.excluded[c] for c in columns if c not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates)


def upsert_many(
    connection: Connection, table: sa.Table, rows: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE for rows of one shape; of two rows with the
    same keys the later wins. PostgreSQL gets one statement over unnest()ed arrays (a batch
    of 1,000 rows is one round trip and one plan), SQLite an executemany."""
    if not rows:
        return
    columns = tuple(rows[0])
    dialect = connection.dialect.name
    if dialect == "postgresql" and len(rows) > 1:
        latest = {tuple(row[k] for k in keys): row for row in rows}
        arrays = {c: [row[c] for row in latest.values()] for c in columns}
        connection.execute(_pg_unnest_upsert(table, columns, keys), arrays)
        return
    connection.execute(_upsert_statement(dialect, table, columns, keys), rows)


def is_retryable(dialect: str, error: DBAPIError) -> bool:
    """Whether the failed transaction may succeed when run again (busy, deadlock...)."""
    if dialect == "sqlite":
        text = str(error.orig).lower()
        return "locked" in text or "busy" in text
    state = getattr(error.orig, "sqlstate", None)
    return state in _RETRYABLE_PG_STATES or error.connection_invalidated


def is_timed_out(dialect: str, error: DBAPIError) -> bool:
    """Whether PostgreSQL cancelled the statement at its `statement_timeout`."""
    return dialect == "postgresql" and getattr(error.orig, "sqlstate", None) == _QUERY_CANCELED


def is_unreachable(dialect: str, error: DBAPIError) -> bool:
    """Whether the database could not be reached at all (down, restarting, refusing
    connections): callers should see UNAVAILABLE and retry, not an internal error."""
    if dialect != "postgresql" or not isinstance(error, sa.exc.OperationalError):
        return False
    state = getattr(error.orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SHUTDOWN_PG_STATES


def is_unique_violation(error: DBAPIError) -> bool:
    """Whether `error` is a violated unique constraint (a taken id)."""
    if getattr(error.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
        return True
    return "unique constraint" in str(error.orig).lower()


def savepoint(connection: Connection) -> AbstractContextManager[Any]:
    """Make a statement's failure recoverable: PostgreSQL aborts the whole transaction on a
    failed statement unless it ran in a savepoint; SQLite needs none."""
    if connection.dialect.name == "postgresql":
        return connection.begin_nested()
    return _NO_SAVEPOINT


_NO_SAVEPOINT = contextlib.nullcontext()
"""Reusable: a `nullcontext` holds nothing between uses."""


def lock_for_migration(connection: Connection) -> None:
    """Hold the database's write lock until the transaction ends, so processes opening
    a store at the same moment never race on DDL (SQLite: `BEGIN IMMEDIATE` already has).
    A migration is not held to the URL's `statement_timeout`: it may rewrite large tables."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
