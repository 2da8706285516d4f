"""On SQLite, artifacts and executions keep no display-name and schema-title indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:30:00.000000

SQLite's planner lists artifacts and executions in create-time order and filters as it goes,
so it used these four indexes only for lists sorted by display name or schema title, while
every insert maintained them: 12% of the time of recording an execution. PostgreSQL, whose
planner also filters with them, keeps them (`schema.POSTGRESQL_ONLY_INDEXES`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = [
    (table, f"ix_{table}_store_id_{column}")
    for table in ("artifacts", "executions")
    for column in ("schema_title", "display_name")
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, index in _INDEXES:
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, index in _INDEXES:
        op.create_index(index, table, ["store_id", index.rsplit("_store_id_", 1)[1]])
