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

_SORT_INDEXES = [
    (table, column)
    for table in ("artifacts", "executions")
    for column in ("schema_title", "display_name")
]
"""(table, column) of each index, named ix_{table}_store_id_{column}, on (store_id, column)."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in _SORT_INDEXES:
        op.drop_index(f"ix_{table}_store_id_{column}", table_name=table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in _SORT_INDEXES:
        op.create_index(f"ix_{table}_store_id_{column}", table, ["store_id", column])
