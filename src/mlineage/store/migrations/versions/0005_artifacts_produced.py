"""Artifacts know whether an execution wrote them; the URI index keeps writes apart

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 21:40:00.000000

Lineage links a read of a URI to the write it saw (store.walk). Telling a write from a read
took an events lookup per record, and the index on (store, uri, create_time, id) held both,
so finding the write before a read passed every read of the URI in between, and finding a
write's reads passed every later record: a dataset read by 2,000 runs took 2 s for its
downstream lineage. `produced` is true once an OUTPUT event names the artifact (events are
never deleted), filled here from the events; the index puts it before the time, so either
lookup is one seek.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INDEX = "ix_artifacts_store_id_uri_create_time_id"
_NEW_INDEX = "ix_artifacts_store_id_uri_produced_create_time_id"


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy): SQLite takes a NOT NULL column with a default.
    op.add_column(
        "artifacts",
        sa.Column("produced", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    artifacts = sa.table("artifacts", sa.column("id"), sa.column("produced", sa.Boolean()))
    events = sa.table("events", sa.column("artifact_id"), sa.column("type"))
    written = sa.exists().where(events.c.artifact_id == artifacts.c.id, events.c.type == "OUTPUT")
    op.execute(artifacts.update().where(written).values(produced=True))
    op.drop_index(_OLD_INDEX, table_name="artifacts")
    op.create_index(_NEW_INDEX, "artifacts", ["store_id", "uri", "produced", "create_time", "id"])


def downgrade() -> None:
    op.drop_index(_NEW_INDEX, table_name="artifacts")
    op.create_index(_OLD_INDEX, "artifacts", ["store_id", "uri", "create_time", "id"])
    op.drop_column("artifacts", "produced")
