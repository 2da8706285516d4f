"""PostgreSQL: identifiers, keys, URIs and string values compare by code point (COLLATE "C")

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 10:00:00.000000

A database created with a linguistic default collation (`en_US.UTF-8`, ICU `en-US`; the
default of most managed PostgreSQL services) sorted `_x, a, A, b` where SQLite sorts
`A, _x, a, b`, so filters with `<`, order_by and page tokens answered differently than on
SQLite. SQLite already compares bytewise: nothing changes there. PostgreSQL rebuilds the
indexes on each altered column (one ALTER TABLE per table, so once per index); the rows
themselves are not rewritten.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, varchar length or None for text); frozen as of this revision.
_COLUMNS: dict[str, list[tuple[str, int | None]]] = {
    "api_tokens": [("token_id", 64), ("project", 128), ("role", 16), ("secret_hash", 128)],
    "metadata_stores": [("project", 128), ("location", 128), ("store_id", 128)],
    "tensorboards": [
        ("project", 128),
        ("location", 128),
        ("tensorboard_id", 128),
        ("display_name", 128),
    ],
    "artifacts": [
        ("resource_id", 128),
        ("display_name", 128),
        ("schema_title", 128),
        ("schema_version", 64),
        ("uri", None),
        ("state", 32),
        ("fingerprint", 80),
    ],
    "contexts": [
        ("resource_id", 128),
        ("display_name", 128),
        ("schema_title", 128),
        ("schema_version", 64),
    ],
    "executions": [
        ("resource_id", 128),
        ("display_name", 128),
        ("schema_title", 128),
        ("schema_version", 64),
        ("state", 32),
    ],
    "metadata_schemas": [
        ("resource_id", 128),
        ("schema_title", 128),
        ("schema_version", 64),
        ("schema_type", 32),
    ],
    "events": [("type", 16)],
    "runs": [("run_type", 64), ("state", 32)],
    "run_metrics": [("key", 250)],
    "run_params": [("key", 250), ("value_type", 8), ("value_text", None)],
    "time_series": [("key", 250)],
    "time_series_requests": [("request_id", 64)],
}


def _set_collation(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _COLUMNS.items():
        clauses = ", ".join(
            f"ALTER COLUMN {column} TYPE {'text' if length is None else f'varchar({length})'} "
            f'COLLATE "{collation}"'
            for column, length in columns
        )
        op.execute(f"ALTER TABLE {table} {clauses}")


def upgrade() -> None:
    _set_collation("C")


def downgrade() -> None:
    _set_collation("default")
