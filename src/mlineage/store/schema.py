"""The database schema, declared once. Migrations in `store/migrations` build it.

Conventions: surrogate integer keys, every row scoped by its metadata store (and so its
project), times as integer microseconds since the Unix epoch (UTC), enums as their names,
free-form metadata and labels as JSON. A NULL metric or time-series value means NaN
(SQLite cannot store NaN; it stores NULL in its place).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

Json = JSON().with_variant(JSONB(), "postgresql")
Micros = BigInteger


def exact_string(length: int) -> TypeEngine[str]:
    """An identifier, key or enum name: compared and sorted by code point on every database.

    SQLite compares text bytewise already; a PostgreSQL database may default to a linguistic
    collation (`en_US.UTF-8`, ICU `en-US`) that sorts `_x, a, A, b` and would make filters,
    order_by and page tokens answer differently than on SQLite.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


EXACT_TEXT = Text().with_variant(Text(collation="C"), "postgresql")
"""Unbounded text that filters compare (URIs, string parameter values), like `exact_string`."""


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _ref(
    name: str, target: str, *, nullable: bool = False, primary: bool = False, cascade: bool = True
) -> Column[int]:
    """An integer foreign key to `target` ("table.column"), deleted with it when `cascade`."""
    return Column(
        name,
        Integer,
        ForeignKey(target, ondelete="CASCADE" if cascade else "RESTRICT"),
        nullable=nullable,
        primary_key=primary,
    )


metadata_stores = Table(
    "metadata_stores",
    metadata,
    _id(),
    Column("project", exact_string(128), nullable=False),
    Column("location", exact_string(128), nullable=False),
    Column("store_id", exact_string(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("create_time", Micros, nullable=False),
    Column("update_time", Micros, nullable=False),
    UniqueConstraint("project", "location", "store_id"),
    sqlite_autoincrement=True,
)


def _node_table(name: str, *extra: Column[object], sort_indexes_on_sqlite: bool = True) -> Table:
    """Artifacts, executions and contexts share these columns. With
    `sort_indexes_on_sqlite=False`, the (store, schema_title) and (store, display_name)
    indexes are made on PostgreSQL only (see POSTGRESQL_ONLY_INDEXES)."""
    sort_indexes = [
        Index(f"ix_{name}_store_id_schema_title", "store_id", "schema_title"),
        Index(f"ix_{name}_store_id_display_name", "store_id", "display_name"),
    ]
    if not sort_indexes_on_sqlite:
        sort_indexes = [index.ddl_if(dialect="postgresql") for index in sort_indexes]
    return Table(
        name,
        metadata,
        _id(),
        _ref("store_id", "metadata_stores.id"),
        Column("resource_id", exact_string(128), nullable=False),
        Column("display_name", exact_string(128), nullable=False, default=""),
        Column("schema_title", exact_string(128), nullable=False),
        Column("schema_version", exact_string(64), nullable=False, default=""),
        Column("description", Text, nullable=False, default=""),
        Column("metadata", Json, nullable=False),
        Column("labels", Json, nullable=False),
        Column("etag", Integer, nullable=False, default=1),
        Column("create_time", Micros, nullable=False),
        Column("update_time", Micros, nullable=False),
        *extra,
        UniqueConstraint("store_id", "resource_id"),
        Index(None, "store_id", "create_time", "id"),
        *sort_indexes,
        sqlite_autoincrement=True,  # ids are never reused: caches of ids stay safe
    )


# SQLite's planner lists these tables in create-time order, filtering as it goes (filters on
# display_name or schema_title included), so on SQLite these indexes serve only lists sorted
# by display name or schema title, while every insert of the lineage hot path pays for them
# (12% of `record_execution`). PostgreSQL's planner filters with them too: they stay there.
POSTGRESQL_ONLY_INDEXES = frozenset(
    f"ix_{table}_store_id_{column}"
    for table in ("artifacts", "executions")
    for column in ("schema_title", "display_name")
)


artifacts = _node_table(
    "artifacts",
    Column("uri", EXACT_TEXT, nullable=False, default=""),
    Column("state", exact_string(32), nullable=False),
    Column("fingerprint", exact_string(80), nullable=False, default=""),
    # An OUTPUT event names it: an execution wrote it (events are never deleted).
    Column("produced", Boolean, nullable=False, server_default=false()),
    sort_indexes_on_sqlite=False,
)
# The writes of one URI apart from its reads, each in time order: how lineage finds the
# write a read saw, and the reads of a write, without passing the URI's other records.
Index(
    None,
    artifacts.c.store_id,
    artifacts.c.uri,
    artifacts.c.produced,
    artifacts.c.create_time,
    artifacts.c.id,
)

executions = _node_table(
    "executions",
    Column("state", exact_string(32), nullable=False),
    sort_indexes_on_sqlite=False,
)

contexts = _node_table("contexts")

context_links = Table(
    "context_links",
    metadata,
    _ref("parent_id", "contexts.id", primary=True),
    _ref("child_id", "contexts.id", primary=True),
    Index(None, "child_id"),
)

attributions = Table(
    "attributions",
    metadata,
    _ref("context_id", "contexts.id", primary=True),
    _ref("artifact_id", "artifacts.id", primary=True),
    Index(None, "artifact_id"),
)

associations = Table(
    "associations",
    metadata,
    _ref("context_id", "contexts.id", primary=True),
    _ref("execution_id", "executions.id", primary=True),
    Index(None, "execution_id"),
)

events = Table(
    "events",
    metadata,
    _id(),
    # Lineage must never point at nothing: a referenced node cannot be deleted.
    _ref("execution_id", "executions.id", cascade=False),
    _ref("artifact_id", "artifacts.id", cascade=False),
    Column("type", exact_string(16), nullable=False),
    Column("event_time", Micros, nullable=False),
    Column("labels", Json, nullable=False),
    UniqueConstraint("execution_id", "artifact_id", "type"),
    Index(None, "artifact_id", "type"),
)

metadata_schemas = Table(
    "metadata_schemas",
    metadata,
    _id(),
    _ref("store_id", "metadata_stores.id"),
    Column("resource_id", exact_string(128), nullable=False),
    Column("schema_title", exact_string(128), nullable=False),
    Column("schema_version", exact_string(64), nullable=False),
    Column("schema_type", exact_string(32), nullable=False),
    Column("schema", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("create_time", Micros, nullable=False),
    UniqueConstraint("store_id", "resource_id"),
    UniqueConstraint("store_id", "schema_title", "schema_version"),
)

runs = Table(
    "runs",
    metadata,
    _ref("context_id", "contexts.id", primary=True),
    # An experiment cannot be deleted while it has runs (see nodes.delete).
    _ref("experiment_id", "contexts.id", nullable=True, cascade=False),
    Column("run_type", exact_string(64), nullable=False),
    Column("state", exact_string(32), nullable=False),
    Column("provenance", Json, nullable=False),
    Column("start_time", Micros, nullable=False),
    Column("end_time", Micros, nullable=True),
    # The run context's create time, copied when the run is made (neither ever changes), so
    # that one index serves an experiment's runs oldest first: filter, order and page keyset
    # (store.run_lists). On SQLite it has DEFAULT 0, as SQLite adds a NOT NULL column only
    # with a default (migration 0004); every insert writes it.
    Column("create_time", Micros, nullable=False),
    Index(None, "experiment_id", "create_time", "context_id"),
)

run_params = Table(
    "run_params",
    metadata,
    _ref("run_id", "runs.context_id", primary=True),
    Column("key", exact_string(250), primary_key=True),
    Column("value_type", exact_string(8), nullable=False),
    Column("value_text", EXACT_TEXT, nullable=False),
    Column("value_number", Float, nullable=True),
    Index(None, "key", "value_number"),
)
"""`value_type` is str, int, float or bool; `value_text` holds the exact value,
`value_number` its numeric reading for comparisons (NULL for strings and NaN)."""

run_metrics = Table(
    "run_metrics",
    metadata,
    _ref("run_id", "runs.context_id", primary=True),
    Column("key", exact_string(250), primary_key=True),
    Column("value", Float, nullable=True),
    Column("update_time", Micros, nullable=False),
    Index(None, "key", "value"),
)

time_series = Table(
    "time_series",
    metadata,
    _ref("run_id", "runs.context_id", primary=True),
    Column("key", exact_string(250), primary_key=True),
    Column("step", BigInteger, primary_key=True),
    Column("value", Float, nullable=True),
    Column("wall_time", Micros, nullable=False),
    Index(None, "run_id", "step"),  # the run's last step, for a default step
)
"""One value per (run, key, step): logging a step again replaces it."""

time_series_requests = Table(
    "time_series_requests",
    metadata,
    _ref("run_id", "runs.context_id", primary=True),
    Column("request_id", exact_string(64), primary_key=True),
    Column("step", BigInteger, nullable=False),
    Column("create_time", Micros, nullable=False),
)
"""Time-series writes that let the store choose the step, by the caller's request id: a
retried request (a reply lost to a dropped connection) finds its step here, never a new one."""

tensorboards = Table(
    "tensorboards",
    metadata,
    _id(),
    Column("project", exact_string(128), nullable=False),
    Column("location", exact_string(128), nullable=False),
    Column("tensorboard_id", exact_string(128), nullable=False),
    Column("display_name", exact_string(128), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("is_default", Integer, nullable=False, default=0),
    Column("labels", Json, nullable=False),
    Column("etag", Integer, nullable=False, default=1),
    Column("create_time", Micros, nullable=False),
    Column("update_time", Micros, nullable=False),
    UniqueConstraint("project", "location", "tensorboard_id"),
    sqlite_autoincrement=True,
)
"""Vertex TensorboardService's Tensorboards. Their experiments, runs and time series are views
of mlineage's experiments, runs and `time_series` rows, not copies."""

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("token_id", exact_string(64), nullable=False, unique=True),
    Column("project", exact_string(128), nullable=False),
    Column("role", exact_string(16), nullable=False),
    Column("secret_hash", exact_string(128), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("create_time", Micros, nullable=False),
    Column("expire_time", Micros, nullable=True),
    Column("revoke_time", Micros, nullable=True),
    sqlite_autoincrement=True,
)
"""Server tokens: only a hash of the secret is kept; `token_id` names a token to list or revoke."""
