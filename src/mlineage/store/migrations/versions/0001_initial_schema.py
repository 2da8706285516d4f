"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 11:59:31.764009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metadata_stores",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=128), nullable=False),
        sa.Column("store_id", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_stores")),
        sa.UniqueConstraint(
            "project",
            "location",
            "store_id",
            name=op.f("uq_metadata_stores_project_location_store_id"),
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("schema_title", sa.String(length=128), nullable=False),
        sa.Column("schema_version", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("etag", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["metadata_stores.id"],
            name=op.f("fk_artifacts_store_id_metadata_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifacts")),
        sa.UniqueConstraint(
            "store_id", "resource_id", name=op.f("uq_artifacts_store_id_resource_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_artifacts_store_id_create_time_id"),
            ["store_id", "create_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_artifacts_store_id_display_name"),
            ["store_id", "display_name"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_artifacts_store_id_schema_title"),
            ["store_id", "schema_title"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_artifacts_store_id_uri_create_time_id"),
            ["store_id", "uri", "create_time", "id"],
            unique=False,
        )

    op.create_table(
        "contexts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("schema_title", sa.String(length=128), nullable=False),
        sa.Column("schema_version", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("etag", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["metadata_stores.id"],
            name=op.f("fk_contexts_store_id_metadata_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contexts")),
        sa.UniqueConstraint(
            "store_id", "resource_id", name=op.f("uq_contexts_store_id_resource_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contexts_store_id_create_time_id"),
            ["store_id", "create_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contexts_store_id_display_name"),
            ["store_id", "display_name"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contexts_store_id_schema_title"),
            ["store_id", "schema_title"],
            unique=False,
        )

    op.create_table(
        "executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("schema_title", sa.String(length=128), nullable=False),
        sa.Column("schema_version", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("etag", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["metadata_stores.id"],
            name=op.f("fk_executions_store_id_metadata_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        sa.UniqueConstraint(
            "store_id", "resource_id", name=op.f("uq_executions_store_id_resource_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_executions_store_id_create_time_id"),
            ["store_id", "create_time", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_executions_store_id_display_name"),
            ["store_id", "display_name"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_executions_store_id_schema_title"),
            ["store_id", "schema_title"],
            unique=False,
        )

    op.create_table(
        "metadata_schemas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("schema_title", sa.String(length=128), nullable=False),
        sa.Column("schema_version", sa.String(length=64), nullable=False),
        sa.Column("schema_type", sa.String(length=32), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["metadata_stores.id"],
            name=op.f("fk_metadata_schemas_store_id_metadata_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_schemas")),
        sa.UniqueConstraint(
            "store_id", "resource_id", name=op.f("uq_metadata_schemas_store_id_resource_id")
        ),
        sa.UniqueConstraint(
            "store_id",
            "schema_title",
            "schema_version",
            name=op.f("uq_metadata_schemas_store_id_schema_title_schema_version"),
        ),
    )
    op.create_table(
        "associations",
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_associations_context_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_associations_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("context_id", "execution_id", name=op.f("pk_associations")),
    )
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_associations_execution_id"), ["execution_id"], unique=False
        )

    op.create_table(
        "attributions",
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_attributions_artifact_id_artifacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_attributions_context_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("context_id", "artifact_id", name=op.f("pk_attributions")),
    )
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attributions_artifact_id"), ["artifact_id"], unique=False
        )

    op.create_table(
        "context_links",
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["contexts.id"],
            name=op.f("fk_context_links_child_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["contexts.id"],
            name=op.f("fk_context_links_parent_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("parent_id", "child_id", name=op.f("pk_context_links")),
    )
    with op.batch_alter_table("context_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_context_links_child_id"), ["child_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.Integer(), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("event_time", sa.BigInteger(), nullable=False),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["artifacts.id"],
            name=op.f("fk_events_artifact_id_artifacts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_events_execution_id_executions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "execution_id",
            "artifact_id",
            "type",
            name=op.f("uq_events_execution_id_artifact_id_type"),
        ),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_artifact_id_type"), ["artifact_id", "type"], unique=False
        )

    op.create_table(
        "runs",
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=True),
        sa.Column("run_type", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column(
            "provenance",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["contexts.id"],
            name=op.f("fk_runs_context_id_contexts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["contexts.id"],
            name=op.f("fk_runs_experiment_id_contexts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("context_id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_experiment_id"), ["experiment_id"], unique=False)

    op.create_table(
        "run_metrics",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.context_id"],
            name=op.f("fk_run_metrics_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_metrics")),
    )
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_metrics_key_value"), ["key", "value"], unique=False
        )

    op.create_table(
        "run_params",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value_type", sa.String(length=8), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=False),
        sa.Column("value_number", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.context_id"],
            name=op.f("fk_run_params_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_params")),
    )
    with op.batch_alter_table("run_params", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_params_key_value_number"), ["key", "value_number"], unique=False
        )

    op.create_table(
        "time_series",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("wall_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.context_id"],
            name=op.f("fk_time_series_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "key", "step", name=op.f("pk_time_series")),
    )
    with op.batch_alter_table("time_series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_time_series_run_id_step"), ["run_id", "step"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("time_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_time_series_run_id_step"))

    op.drop_table("time_series")
    with op.batch_alter_table("run_params", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_params_key_value_number"))

    op.drop_table("run_params")
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_metrics_key_value"))

    op.drop_table("run_metrics")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_experiment_id"))

    op.drop_table("runs")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_artifact_id_type"))

    op.drop_table("events")
    with op.batch_alter_table("context_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_context_links_child_id"))

    op.drop_table("context_links")
    with op.batch_alter_table("attributions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attributions_artifact_id"))

    op.drop_table("attributions")
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_associations_execution_id"))

    op.drop_table("associations")
    op.drop_table("metadata_schemas")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_executions_store_id_schema_title"))
        batch_op.drop_index(batch_op.f("ix_executions_store_id_display_name"))
        batch_op.drop_index(batch_op.f("ix_executions_store_id_create_time_id"))

    op.drop_table("executions")
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contexts_store_id_schema_title"))
        batch_op.drop_index(batch_op.f("ix_contexts_store_id_display_name"))
        batch_op.drop_index(batch_op.f("ix_contexts_store_id_create_time_id"))

    op.drop_table("contexts")
    with op.batch_alter_table("artifacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifacts_store_id_uri_create_time_id"))
        batch_op.drop_index(batch_op.f("ix_artifacts_store_id_schema_title"))
        batch_op.drop_index(batch_op.f("ix_artifacts_store_id_display_name"))
        batch_op.drop_index(batch_op.f("ix_artifacts_store_id_create_time_id"))

    op.drop_table("artifacts")
    op.drop_table("metadata_stores")
