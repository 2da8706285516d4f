"""Statements compiled once per dialect and run through the driver.

`connection.execute(statement)` costs about 100 us per call beyond the database's own work
(cache key, parameter processing, result set-up, and a fresh rendering of every `IN` list).
The hot paths (inserting rows, recording an execution, resolving names, walking and loading
lineage) run a fixed set of statements many times, so each is compiled here once per
dialect. On PostgreSQL it runs with `exec_driver_sql`, which keeps SQLAlchemy's events,
error wrapping and the invalidation of connections a server restart broke. On SQLite, where
even that costs several times the statement, it runs on the driver's connection inside
SQLAlchemy's transaction (begun first when none is), its errors raised as the SQLAlchemy
errors `exec_driver_sql` would raise (IntegrityError, OperationalError: retries see them).

Values go to the driver as given: a JSON column takes JSON text (`dialects.json_text`), and
rows come back as the driver gives them (JSON as text on SQLite and decoded on PostgreSQL:
`codec.json_value` reads both). The statement's own literals (`type = 'OUTPUT'`, a `LIMIT`)
are bound for the caller. An expanding `IN` parameter takes a non-empty list, padded to a
power of two by repeating its last value (which changes nothing in an `IN`), so a statement
has a handful of renderings instead of one per list length.

Statements are cached by identity: pass ones built once (module constants, `functools.cache`),
never one built per call.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

T = TypeVar("T")

_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+?)(~~[^\]]*~~)?\]")


@dataclass(slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None
    """Parameter names in placeholder order (positional paramstyles); None when named."""
    defaults: dict[str, Any]
    """Values of the statement's own literals, processed for the driver."""
    expanding: tuple[str, ...]
    """The names of the expanding (`IN` list) parameters, sorted."""
    renderings: dict[tuple[int, ...], str] = field(default_factory=dict)
    """The SQL of each combination of padded `IN` list sizes."""


_CACHE: dict[tuple[int, str, tuple[str, ...] | None], tuple[Any, _Compiled]] = {}


def _compile(
    dialect: Dialect, statement: sa.ClauseElement, column_keys: tuple[str, ...] | None
) -> _Compiled:
    key = (id(statement), dialect.name, column_keys)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached[1]
    compiled: Any = statement.compile(
        dialect=dialect, column_keys=list(column_keys) if column_keys else None
    )
    defaults: dict[str, Any] = {}
    expanding: set[str] = set()
    for bind, name in compiled.bind_names.items():
        if bind.expanding:
            expanding.add(name)
        elif not bind.required:
            process = bind.type.bind_processor(dialect)
            value = bind.effective_value
            defaults[name] = process(value) if process is not None else value
    missing = getattr(compiled, "insert_prefetch", None) or []
    if missing:  # SQLAlchemy would compute these defaults per execution; the caller must
        raise ValueError(f"driver: give a value for {[c.key for c in missing]}")
    for name, _ in _POSTCOMPILE.findall(compiled.string):
        if name not in expanding:
            raise ValueError(f"driver: {name!r} renders at execution time; it is not supported")
    positions = compiled.positiontup
    result = _Compiled(
        compiled.string,
        tuple(positions) if positions is not None else None,
        defaults,
        tuple(sorted(expanding)),
    )
    _CACHE[key] = (statement, result)  # the statement is kept: its id stays unique
    return result


def _padded_size(n: int) -> int:
    size = 1
    while size < n:
        size *= 2
    return size


def _render(compiled: _Compiled, dialect: Dialect, lists: dict[str, list[Any]]) -> str:
    """The SQL with each expanding parameter `name` spelled out as `len(lists[name])`
    placeholders (`name__0, name__1, ...` when named)."""
    key = tuple([len(lists[name]) for name in compiled.expanding])
    rendered = compiled.renderings.get(key)
    if rendered is not None:
        return rendered
    positional = compiled.names is not None
    sizes = dict(zip(compiled.expanding, key, strict=True))

    def spell(match: re.Match[str]) -> str:
        name = match.group(1)
        if positional:
            placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
            return ", ".join([placeholder] * sizes[name])
        return ", ".join(f"%({name}__{i})s" for i in range(sizes[name]))

    sql = _POSTCOMPILE.sub(spell, compiled.sql)
    compiled.renderings[key] = sql
    return sql


def in_list_sql(dialect: Dialect, statement: sa.Select[Any], size: int) -> str:
    """The SQL of `statement` for a positional driver, its one `IN` list spelled out as
    `size` placeholders: its parameters are the other values in order, then the list's.
    For a hot path that runs it on the driver's connection itself."""
    compiled = _compile(dialect, statement, None)
    names, expanding = compiled.names, compiled.expanding
    if names is None or len(expanding) != 1 or names[-1] != expanding[0] or compiled.defaults:
        raise ValueError("driver: in_list_sql takes a statement ending in its one IN list")
    return _render(compiled, dialect, {expanding[0]: [None] * size})


def _bind(compiled: _Compiled, dialect: Dialect, values: Mapping[str, Any]) -> tuple[str, Any]:
    """The SQL and the driver's parameters for one row of `values`."""
    merged = {**compiled.defaults, **values} if compiled.defaults else values
    names = compiled.names
    if not compiled.expanding:
        if names is None:
            return compiled.sql, merged
        return compiled.sql, tuple([merged[name] for name in names])
    lists: dict[str, list[Any]] = {}
    for name in compiled.expanding:
        items = list(merged[name])
        if not items:
            raise ValueError(f"driver: the IN list {name!r} is empty")
        items += [items[-1]] * (_padded_size(len(items)) - len(items))
        lists[name] = items
    sql = _render(compiled, dialect, lists)
    if names is not None:
        parameters: list[Any] = []
        for name in names:
            if name in lists:
                parameters += lists[name]
            else:
                parameters.append(merged[name])
        return sql, tuple(parameters)
    named = {name: value for name, value in merged.items() if name not in lists}
    for name, items in lists.items():
        named.update({f"{name}__{i}": item for i, item in enumerate(items)})
    return sql, named


def _run(connection: Connection, sql: str, parameters: Any, many: bool = False) -> list[Any]:
    """Run `sql` on the connection's transaction; every row it returns."""
    if connection.dialect.name != "sqlite":
        result = connection.exec_driver_sql(sql, parameters)
        return list(result.all()) if result.returns_rows else []
    raw = _sqlite_connection(connection)
    try:
        if many:
            raw.executemany(sql, parameters)
            return []
        return raw.execute(sql, parameters).fetchall()
    except sqlite3.Error as exc:
        raise wrap_sqlite_error(exc, sql, parameters, connection.dialect) from exc


def sqlite_driver_connection(connection: Connection) -> sqlite3.Connection:
    """The `sqlite3` connection under a SQLAlchemy connection (pysqlite's DB-API connection
    is the driver's own: a plain attribute, not the property chain of `driver_connection`)."""
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _sqlite_connection(connection: Connection) -> sqlite3.Connection:
    """The driver's connection, in a transaction: the driver's own (a write's, see
    `sqlite_write`) or SQLAlchemy's, begun first when there is none, as SQLAlchemy's
    autobegin would (one snapshot for a read)."""
    raw = sqlite_driver_connection(connection)
    if not raw.in_transaction and not connection.in_transaction():
        connection.begin()
    return raw


def sqlite_write(connection: Connection, work: Callable[[Connection], T]) -> T:
    """Run `work` in a write transaction that the driver's connection begins (`BEGIN
    IMMEDIATE`) and commits, or rolls back when `work` raises.

    SQLAlchemy's begin and commit around the same statements cost three times the empty
    transaction itself (~20 us of a small write). A statement that `work` runs through
    SQLAlchemy joins the transaction (the engine's "begin" event finds the driver in one
    and issues nothing), and SQLAlchemy then commits or rolls it back. Code that ends the
    transactions it begins (Alembic) must see one in progress: `connection.begin()` first."""
    raw = sqlite_driver_connection(connection)
    if raw.in_transaction or connection.in_transaction():
        raise RuntimeError("driver: a write transaction cannot begin inside another")
    sqlite_execute(raw, "BEGIN IMMEDIATE", connection.dialect)
    try:
        result = work(connection)
    except BaseException:
        with contextlib.suppress(Exception):  # the error that got here is the one to raise
            if connection.in_transaction():
                connection.rollback()
            elif raw.in_transaction:
                raw.rollback()
        raise
    if connection.in_transaction():
        connection.commit()
        return result
    if not raw.in_transaction:
        raise RuntimeError("driver: the work of a write transaction ended it")
    try:
        sqlite_execute(raw, "COMMIT", connection.dialect)
    except BaseException:
        with contextlib.suppress(Exception):
            raw.rollback()
        raise
    return result


def sqlite_execute(raw: sqlite3.Connection, sql: str, dialect: Dialect) -> None:
    """Run `sql` (no parameters) on the driver's connection, its error raised as
    `exec_driver_sql` would raise it (see `wrap_sqlite_error`)."""
    try:
        raw.execute(sql)
    except sqlite3.Error as exc:
        raise wrap_sqlite_error(exc, sql, (), dialect) from exc


def wrap_sqlite_error(exc: sqlite3.Error, sql: str, parameters: Any, dialect: Dialect) -> Any:
    """`exc` as the SQLAlchemy error (IntegrityError, OperationalError...) that
    `exec_driver_sql` would have raised, which callers and retries rely on."""
    return sa.exc.DBAPIError.instance(sql, parameters, exc, sqlite3.Error, dialect=dialect)


def rows(
    connection: Connection, statement: sa.ClauseElement, values: Mapping[str, Any] | None = None
) -> list[Any]:
    """Run `statement` once with `values` (bound as given; see the module's docstring) and
    return its rows (tuples). An INSERT sets the columns that `values` has."""
    values = values or {}
    keys = tuple(values) if isinstance(statement, sa.Insert) else None
    compiled = _compile(connection.dialect, statement, keys)
    sql, parameters = _bind(compiled, connection.dialect, values)
    return _run(connection, sql, parameters)


def scalar(
    connection: Connection, statement: sa.ClauseElement, values: Mapping[str, Any] | None = None
) -> Any:
    """The first column of the first row of `rows(...)`, or None when there is none."""
    found = rows(connection, statement, values)
    return found[0][0] if found else None


def insert_sql(
    dialect: Dialect, statement: sa.Insert, columns: tuple[str, ...]
) -> tuple[str, bool]:
    """The SQL of `statement` inserting `columns`, and whether the driver takes its rows as
    the given tuples (a positional paramstyle) or as dicts (a named one)."""
    compiled = _compile(dialect, statement, columns)
    if compiled.expanding or compiled.defaults:
        raise ValueError("driver: an INSERT of rows takes no IN lists and no literals")
    if compiled.names is None:
        return compiled.sql, False
    if compiled.names != columns:
        raise ValueError(f"driver: give the columns in the table's order, {compiled.names}")
    return compiled.sql, True


def _as_dicts(columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def insert_rows(
    connection: Connection,
    statement: sa.Insert,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Run an INSERT once per row of `rows`, in one executemany. A row is a tuple of the
    values of `columns`, which are in the table's order (a tuple goes to the driver as it
    is: no dict per row, no reordering)."""
    if not rows:
        return
    sql, positional = insert_sql(connection.dialect, statement, columns)
    _run(connection, sql, rows if positional else _as_dicts(columns, rows), many=True)


def insert_rows_returning_ids(
    connection: Connection,
    statement: sa.Insert,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
) -> list[int] | None:
    """`insert_rows` for a plain INSERT (no `ON CONFLICT`) into a table whose `id` is its
    rowid, returning the new rows' ids in the order of `rows` on SQLite (None elsewhere:
    the caller looks them up).

    SQLite numbers a new row one past the largest id the table has (or, with AUTOINCREMENT,
    has ever had), and a write transaction holds the database's only write lock, so the rows
    of one statement get consecutive ids, the last of them `last_insert_rowid()`."""
    if not rows:
        return []
    if connection.dialect.name != "sqlite":
        insert_rows(connection, statement, columns, rows)
        return None
    sql, _ = insert_sql(connection.dialect, statement, columns)
    raw = _sqlite_connection(connection)
    try:
        if len(rows) == 1:
            last = raw.execute(sql, rows[0]).lastrowid
        else:
            _insert_multirow(raw, sql, rows)
            last = raw.execute("SELECT last_insert_rowid()").fetchone()[0]
    except sqlite3.Error as exc:
        raise wrap_sqlite_error(exc, sql, rows, connection.dialect) from exc
    assert last is not None
    return list(range(last - len(rows) + 1, last + 1))


MULTIROW_ROWS = 64
"""The most rows one multi-row INSERT takes (64 rows of 15 columns stay under the 999
parameters older SQLite builds allow)."""


def _insert_multirow(raw: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> None:
    """Insert rows in order as INSERT ... VALUES (...), (...): a fifth less time per row
    than an executemany of the single-row statement (one statement step instead of one per
    row). Chunks of 64, 32, ..., 1 rows, so a table has a handful of statements in the
    driver's statement cache."""
    head, group = sql.rsplit(" VALUES ", 1)
    width = group.count("?")
    if group != f"({', '.join(['?'] * width)})" or width * MULTIROW_ROWS > 999:
        raw.executemany(sql, parameters)  # not a plain row of placeholders
        return
    start, total = 0, len(parameters)
    size = MULTIROW_ROWS
    while start < total:
        while size > total - start:
            size //= 2
        chunk = parameters[start : start + size]
        raw.execute(_multirow_sql(head, group, size), [v for row in chunk for v in row])
        start += size


@functools.lru_cache(maxsize=256)
def _multirow_sql(head: str, group: str, rows: int) -> str:
    return f"{head} VALUES {', '.join([group] * rows)}"
