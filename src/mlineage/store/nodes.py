"""Artifacts, executions and contexts: create, get, list, update, delete.

The three kinds share one table layout (see `schema._node_table`), so one set of functions
serves them, parameterised by a `Spec`.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage import query
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
)
from mlineage.ids import new_ids
from mlineage.store import codec, dialects, driver, filters, pagination, schema, schemas, scope
from mlineage.store.base import Node
from mlineage.store.scope import NodeRef, StoreIds, resolve
from mlineage.types import (
    Artifact,
    ArtifactState,
    Context,
    Execution,
    ExecutionState,
    Page,
    ResourceKind,
    ResourceName,
    StoreName,
    validate_resource_id,
)
from mlineage.validation import (
    MAX_DESCRIPTION_LENGTH,
    MAX_DISPLAY_NAME_LENGTH,
    check_labels,
    check_text,
    encode_metadata,
)

_JSON = ("metadata", "labels")


@dataclass(frozen=True)
class Spec(Generic[Node]):
    kind: ResourceKind
    cls: type[Node]
    table: sa.Table
    from_rows: codec.RowsDecoder[Node]
    """(id, node) of rows of `columns`."""
    own_values: Callable[[Node], tuple[Any, ...]]
    """The values of the columns only this kind has (`codec.OWN_COLUMNS`), validated."""

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return codec.COMMON_COLUMNS + codec.OWN_COLUMNS[self.kind]

    @functools.cached_property
    def insert_names(self) -> tuple[str, ...]:
        """The columns a new row is inserted with (in the table's order): `names`, with the
        store's id in place of the row's own."""
        return ("store_id", *self.names[1:])

    @functools.cached_property
    def insert_names_produced(self) -> tuple[str, ...]:
        """`insert_names` and `produced` (artifacts an execution wrote)."""
        return (*self.insert_names, "produced")

    @functools.cached_property
    def columns(self) -> list[sa.ColumnElement[Any]]:
        """The columns a node is read from, in `names` order; JSON as the driver reads it
        (`codec.json_value` decodes it once, without SQLAlchemy's per-value processing)."""
        table = self.table
        return [
            sa.type_coerce(table.c[name], sa.Text()) if name in _JSON else table.c[name]
            for name in self.names
        ]

    @functools.cached_property
    def by_ids(self) -> sa.Select[Any]:
        """The nodes of the ids `:ids`."""
        return sa.select(*self.columns).where(
            self.table.c.id.in_(sa.bindparam("ids", expanding=True))
        )


def _state(value: Any, enum: type[ArtifactState] | type[ExecutionState]) -> str:
    if isinstance(value, enum):
        return value._name_  # `.name` is a descriptor call, several times slower
    if isinstance(value, str) and value in enum.__members__:
        return value
    raise InvalidArgumentError("state", f"must be one of {[s.name for s in enum]}, got {value!r}")


def _text(value: Any, field_name: str, max_length: int) -> str:
    """`check_text`, inline for the usual case (a short enough string)."""
    if type(value) is str and len(value) <= max_length:
        return value
    return check_text(value, field_name, max_length)


def _artifact_values(artifact: Artifact) -> tuple[Any, ...]:
    return (
        _text(artifact.uri, "uri", 4096),
        _state(artifact.state, ArtifactState),
        _text(artifact.fingerprint, "fingerprint", 80),
    )


def _execution_values(execution: Execution) -> tuple[Any, ...]:
    return (_state(execution.state, ExecutionState),)


SPECS: dict[type[Any], Spec[Any]] = {
    Artifact: Spec(
        "artifacts", Artifact, schema.artifacts, codec.artifacts_from_rows, _artifact_values
    ),
    Execution: Spec(
        "executions",
        Execution,
        schema.executions,
        codec.executions_from_rows,
        _execution_values,
    ),
    Context: Spec("contexts", Context, schema.contexts, codec.contexts_from_rows, lambda _: ()),
}


def spec_of(kind: type[Node]) -> Spec[Node]:
    try:
        return SPECS[kind]
    except KeyError:
        raise InvalidArgumentError(
            "kind", f"must be Artifact, Execution or Context, got {kind!r}"
        ) from None


_LABELS_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""`json.dumps(labels, separators=...)` without building an encoder per call."""


_Fields = tuple[str, str, str, str, str, str]
"""A resource's display_name, schema_title, schema_version, description, metadata and
labels, validated, metadata and labels as JSON text (what the driver binds)."""


def _fields(spec: Spec[Node], resource: Node) -> _Fields:
    if not isinstance(resource, spec.cls):
        raise InvalidArgumentError(
            "resource", f"expected {spec.cls.__name__}, got {type(resource).__name__}"
        )
    title = resource.schema_title
    if not isinstance(title, str) or not title or len(title) > 128:
        raise InvalidArgumentError(
            "schema_title", "must be a non-empty string of at most 128 chars"
        )
    labels = resource.labels
    if type(labels) is dict and not labels:
        labels_text = "{}"
    else:
        labels = check_labels(labels)
        labels_text = _LABELS_ENCODER.encode(labels) if labels else "{}"
    return (
        _text(resource.display_name, "display_name", MAX_DISPLAY_NAME_LENGTH),
        title,
        _text(resource.schema_version, "schema_version", 64),
        _text(resource.description, "description", MAX_DESCRIPTION_LENGTH),
        encode_metadata(resource.metadata),
        labels_text,
    )


def insert(
    connection: Connection,
    store_pk: int,
    store: StoreName,
    spec: Spec[Node],
    resources: Sequence[Node],
    resource_ids: Sequence[str | None],
) -> list[Node]:
    """Insert new rows; ALREADY_EXISTS when any id is taken (nothing is inserted)."""
    return [
        n
        for _, n in insert_with_ids(
            connection, store_pk, store, spec, resources, resource_ids, ids=False
        )
    ]


def fresh_ids(resource_ids: Sequence[str | None]) -> Iterator[str]:
    """New ids for the resources of `resource_ids` without one, drawn at once (one clock
    reading and one draw of random bytes for a whole record)."""
    missing = len(resource_ids) - sum(map(bool, resource_ids))
    return iter(new_ids(missing) if missing else ())


@codec.gc_paused()  # a batch makes a few objects per row that outlive it: see gc_paused
def insert_with_ids(
    connection: Connection,
    store_pk: int,
    store: StoreName,
    spec: Spec[Node],
    resources: Sequence[Node],
    resource_ids: Sequence[str | None],
    *,
    ids: bool = True,
    now: int | None = None,
    produced: bool = False,
) -> list[tuple[int, Node]]:
    """`insert`, also returning each new row's id (0 when `ids` is False, except on SQLite).
    `now` (microseconds) is their create time when given, else the current time; `produced`
    marks new artifacts as an execution's outputs."""
    if now is None:
        now = codec.now_micros()
    fresh = fresh_ids(resource_ids)
    rows = new_rows(connection.dialect.name, store_pk, spec, resources, resource_ids, now, fresh)
    schemas.validate_metadata(connection, store_pk, metadata_of(rows))
    pks = write_rows(connection, store_pk, store, spec, rows, produced=produced, ids=ids)
    return read_back(spec, store, pks, rows)


def new_rows(
    dialect: str,
    store_pk: int,
    spec: Spec[Any],
    resources: Sequence[Any],
    resource_ids: Sequence[str | None],
    now: int,
    fresh: Iterator[str],
) -> list[tuple[Any, ...]]:
    """The validated values of new rows made at `now`, tuples of `spec.insert_names`; ids
    not given come from `fresh` (see `fresh_ids`). Their metadata is checked against the
    registered schemas by `schemas.validate_metadata(..., metadata_of(rows))`."""
    field_name = f"{spec.kind[:-1]}_id"
    own_values = spec.own_values
    times = (1, now, now)  # etag, create_time, update_time
    rows = [
        (
            store_pk,
            validate_resource_id(given, field_name) if given else next(fresh),
            *_fields(spec, resource),
            *times,
            *own_values(resource),
        )
        for resource, given in zip(resources, resource_ids, strict=True)
    ]
    if dialect != "sqlite":
        rows = [
            (*r[:6], dialects.json_text(dialect, r[6]), dialects.json_text(dialect, r[7]), *r[8:])
            for r in rows
        ]
    if len(rows) > 1 and any(resource_ids) and len({r[1] for r in rows}) != len(rows):
        raise InvalidArgumentError("resource_id", "the same id is given twice in one batch")
    return rows


def metadata_of(rows: Iterable[tuple[Any, ...]]) -> list[tuple[str, str, str]]:
    """(schema title, version, metadata) of rows of `new_rows`."""
    return [(r[3], r[4], r[6]) for r in rows]


def write_rows(
    connection: Connection,
    store_pk: int,
    store: StoreName,
    spec: Spec[Node],
    rows: list[tuple[Any, ...]],
    *,
    produced: bool = False,
    ids: bool = True,
) -> list[int]:
    """Insert rows of `new_rows` (`produced`: artifacts an execution wrote); their new ids
    when `ids`, else zeros (or their ids: SQLite tells them without another statement).
    ALREADY_EXISTS when any id is taken: nothing is inserted."""
    names = spec.insert_names
    if produced:
        names, rows = spec.insert_names_produced, _produced(rows)
    try:
        with dialects.savepoint(connection):
            return _insert_rows(connection, store_pk, spec, names, rows, ids=ids)
    except sa.exc.IntegrityError as exc:
        raise already_exists(connection, spec, store, store_pk, rows, exc) from None


def read_back(
    spec: Spec[Node],
    store: StoreName,
    pks: list[int],
    rows: list[tuple[Any, ...]],
    times: codec.Times | None = None,
) -> list[tuple[int, Node]]:
    """(id, node) of rows of `new_rows` inserted as `pks`, as a read would return them
    (`times` may be shared with other rows made at the same time)."""
    return spec.from_rows(_read_back(pks, rows, len(spec.names)), store, times)


# Helpers that are not generic in the node type: mypy (2.4) cannot type a star expression
# in a comprehension inside a function generic in a value-restricted type.
def _produced(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """`rows` with the `produced` column set."""
    return [(*row, True) for row in rows]


def _read_back(pks: list[int], rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    """Inserted rows as they read back (`Spec.names`, `width` of them): the row's own id
    in place of the store's."""
    return [(pk, *row[1:width]) for pk, row in zip(pks, rows, strict=True)]


@functools.cache
def insert_statement(table: sa.Table) -> sa.Insert:
    """The INSERT of new rows into `table` (one object per table: the driver caches by it)."""
    return table.insert()


@functools.cache
def _insert_returning_id(table: sa.Table) -> Any:
    return table.insert().returning(table.c.id)


def _insert_rows(
    connection: Connection,
    store_pk: int,
    spec: Spec[Node],
    names: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    ids: bool,
) -> list[int]:
    """Insert `rows` (tuples of `names`); their new ids when `ids`, else zeros (or their
    ids: SQLite tells them without another statement)."""
    if ids and len(rows) == 1 and connection.dialect.name != "sqlite":
        statement = _insert_returning_id(spec.table)
        return [driver.scalar(connection, statement, dict(zip(names, rows[0], strict=True)))]
    # executemany: PostgreSQL would run INSERT ... RETURNING row by row.
    pks = driver.insert_rows_returning_ids(connection, insert_statement(spec.table), names, rows)
    if pks is not None:
        return pks
    if not ids:
        return [0] * len(rows)
    found: dict[str, int] = dict(
        driver.rows(
            connection,
            scope.nodes_lookup(spec.kind),
            {"store_pk": store_pk, "resource_ids": [r[1] for r in rows]},
        )
    )
    return [found[r[1]] for r in rows]


def already_exists(
    connection: Connection,
    spec: Spec[Any],
    store: StoreName,
    store_pk: int,
    rows: list[tuple[Any, ...]],
    error: sa.exc.IntegrityError,
) -> Exception:
    """The error for a unique-key violation, naming the taken id when it can be found."""
    if not dialects.is_unique_violation(error):
        return error
    try:  # the insert ran in a savepoint: the transaction is still usable
        taken = connection.execute(
            scope.nodes_lookup(spec.kind),
            {"store_pk": store_pk, "resource_ids": [r[1] for r in rows]},
        ).first()
    except sa.exc.DBAPIError:
        taken = None
    if taken is None:
        return AlreadyExistsError(f"{spec.cls.__name__} already exists: {error.orig}")
    return AlreadyExistsError(f"{spec.cls.__name__} {store}/{spec.kind}/{taken[0]} already exists")


@functools.cache
def _by_id(spec: Spec[Any]) -> sa.Select[Any]:
    return sa.select(*spec.columns).where(spec.table.c.id == sa.bindparam("id"))


def fetch(connection: Connection, stores: StoreIds, name: str, spec: Spec[Node]) -> Node:
    ref = resolve(connection, stores, name, spec.kind)
    rows = driver.rows(connection, _by_id(spec), {"id": ref.id})
    return with_parents(connection, spec, spec.from_rows(rows, ref.name.parent))[0]


def with_parents(
    connection: Connection, spec: Spec[Node], items: list[tuple[int, Node]]
) -> list[Node]:
    """Fill `parent_contexts` of contexts (one query for the whole list)."""
    if spec.kind != "contexts" or not items:
        return [item for _, item in items]
    links, contexts = schema.context_links, schema.contexts
    parents: dict[int, list[str]] = defaultdict(list)
    rows = connection.execute(
        sa.select(links.c.child_id, contexts.c.resource_id)
        .join(contexts, contexts.c.id == links.c.parent_id)
        .where(links.c.child_id.in_([pk for pk, _ in items]))
        .order_by(contexts.c.resource_id)
    )
    for child_id, parent_id in rows:
        parents[child_id].append(parent_id)
    for pk, item in items:
        if isinstance(item, Context):
            store = ResourceName.parse(item.name).parent
            item.parent_contexts = [f"{store}/contexts/{p}" for p in parents.get(pk, [])]
    return [item for _, item in items]


def check_query(
    spec: Spec[Any],
    filter: str | None,
    order_by: str | None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> None:
    """Check the arguments of a listing for their errors alone."""
    target = filters.target(spec.kind)
    query.filter_clause(filter, target)
    terms = query.parse_order_by(order_by, target)
    pagination.check_page_size(page_size)
    if page_token:
        fingerprint = pagination.query_fingerprint(spec.kind, filter, order_by)
        pagination.decode_token(page_token, fingerprint, max(len(terms), 1) + 1)


def list_page(
    connection: Connection,
    store_pk: int,
    store: StoreName,
    spec: Spec[Node],
    *,
    filter: str | None,
    order_by: str | None,
    page_size: int | None,
    page_token: str | None,
) -> Page[Node]:
    table = spec.table
    target = filters.target(spec.kind)
    where = query.filter_clause(filter, target)
    terms = query.parse_order_by(order_by, target)
    keys = [pagination.SortKey(t.field.column, t.descending) for t in terms] or [
        pagination.SortKey(table.c.create_time)
    ]
    keys.append(pagination.SortKey(table.c.id, keys[-1].descending))  # a total order
    limit = pagination.check_page_size(page_size)
    fingerprint = pagination.query_fingerprint(spec.kind, filter, order_by)

    statement = sa.select(*spec.columns).where(table.c.store_id == store_pk)
    if where is not None:
        statement = statement.where(where)
    if page_token:
        values = pagination.decode_token(page_token, fingerprint, len(keys))
        statement = statement.where(pagination.after(keys, values))
    statement = statement.order_by(
        *(k.column.desc() if k.descending else k.column.asc() for k in keys)
    )
    if limit is not None:
        statement = statement.limit(limit + 1)
    with codec.gc_paused():
        rows = connection.execute(statement).all()
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if more else rows
        items = with_parents(connection, spec, spec.from_rows(rows, store))
    token = ""
    if more:
        last = rows[-1]
        token = pagination.encode_token(
            [last[spec.names.index(k.column.name)] for k in keys], fingerprint
        )
    return Page(items, token)


def update(connection: Connection, stores: StoreIds, spec: Spec[Node], resource: Node) -> Node:
    ref = resolve(connection, stores, resource.name, spec.kind)
    table = spec.table
    current, title = connection.execute(
        sa.select(table.c.etag, table.c.schema_title).where(table.c.id == ref.id)
    ).one()
    _check_etag(resource.etag, current, spec, ref)
    # A resource's type never changes: the stored schema title holds.
    display_name, _, version, description, metadata, labels = _fields(spec, resource)
    schemas.validate_metadata(connection, ref.store_pk, [(title, version, metadata)])
    values = {
        "display_name": display_name,
        "schema_version": version,
        "description": description,
        "metadata": codec.json_value(metadata),
        "labels": codec.json_value(labels),
        **dict(zip(codec.OWN_COLUMNS[spec.kind], spec.own_values(resource), strict=True)),
    }
    result = connection.execute(
        table.update()
        .where(table.c.id == ref.id, table.c.etag == current)
        .values(**values, etag=current + 1, update_time=codec.now_micros())
    )
    if result.rowcount != 1:
        raise AbortedError(f"{spec.cls.__name__} {ref.name} changed concurrently; retry")
    return fetch(connection, stores, resource.name, spec)


def _check_etag(given: str, current: int, spec: Spec[Any], ref: NodeRef) -> None:
    if given and given != str(current):
        singular = spec.cls.__name__
        raise AbortedError(
            f"Specified {singular} `etag`: `{given}` does not match server `etag`: `{current}`"
        )


def delete(
    connection: Connection, stores: StoreIds, spec: Spec[Node], name: str, etag: str | None
) -> None:
    ref = resolve(connection, stores, name, spec.kind)
    table = spec.table
    current = connection.execute(sa.select(table.c.etag).where(table.c.id == ref.id)).scalar_one()
    _check_etag(etag or "", current, spec, ref)
    if spec.kind in ("artifacts", "executions"):
        column = (
            schema.events.c.artifact_id
            if spec.kind == "artifacts"
            else schema.events.c.execution_id
        )
        count = connection.execute(
            sa.select(sa.func.count()).select_from(schema.events).where(column == ref.id)
        ).scalar_one()
        if count:
            raise FailedPreconditionError(
                f"{spec.cls.__name__} {ref.name} is referenced by {count} lineage event(s) and "
                "cannot be deleted: lineage must never point at nothing"
            )
    if spec.kind == "contexts":
        runs = connection.execute(
            sa.select(sa.func.count()).where(schema.runs.c.experiment_id == ref.id)
        ).scalar_one()
        if runs:
            raise FailedPreconditionError(
                f"Context {ref.name} is the experiment of {runs} run(s): delete them first "
                "(Experiment.delete() does)"
            )
    connection.execute(table.delete().where(table.c.id == ref.id))
