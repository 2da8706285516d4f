"""runs.create_time, and an index of an experiment's runs in page order

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:00:00.000000

An experiment's runs are listed oldest first (the run context's create time, then its row
id) and paged by keyset. The create time lived in `contexts` only and `runs` had an index
on `experiment_id` alone, so every page read and sorted all of the experiment's runs. Now
`runs.create_time` holds a copy of the run context's create time (filled here from the
context for existing runs; neither value ever changes) and the index on
(experiment_id, create_time, context_id) serves the filter, the order and the keyset of a
page together. It replaces the index on `experiment_id`, of which it is an extension.

The column is added in place on both databases, never by copying the table: `runs` is the
parent of `run_params`, `run_metrics`, `time_series` and `time_series_requests` (ON DELETE
CASCADE), and SQLite's way of rebuilding a table (batch mode: copy, DROP TABLE, rename)
deletes every child row when it drops the old table with foreign keys on, as they are in
the migration's transaction (where `PRAGMA foreign_keys` cannot be changed). SQLite adds a
NOT NULL column only with a default, so there the column keeps DEFAULT 0 (every insert
writes the column); PostgreSQL drops the default once the rows are filled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns this revision reads and writes, frozen as of this revision.
_runs = sa.table("runs", sa.column("context_id", sa.Integer()), sa.column("create_time"))
_contexts = sa.table("contexts", sa.column("id", sa.Integer()), sa.column("create_time"))


def upgrade() -> None:
    op.add_column(
        "runs",
        sa.Column("create_time", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    # A run without its context (impossible with the foreign key) would get NULL and fail
    # the upgrade rather than sort first.
    op.execute(
        _runs.update().values(
            create_time=sa.select(_contexts.c.create_time)
            .where(_contexts.c.id == _runs.c.context_id)
            .scalar_subquery()
        )
    )
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("runs", "create_time", server_default=None)
    op.drop_index(op.f("ix_runs_experiment_id"), table_name="runs")
    op.create_index(
        op.f("ix_runs_experiment_id_create_time_context_id"),
        "runs",
        ["experiment_id", "create_time", "context_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_runs_experiment_id_create_time_context_id"), table_name="runs")
    op.create_index(op.f("ix_runs_experiment_id"), "runs", ["experiment_id"], unique=False)
    op.drop_column("runs", "create_time")  # SQLite 3.35+ drops a column in place
