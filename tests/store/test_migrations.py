"""Schema versions: migrations build exactly the declared schema; old and new are handled."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mlineage.errors import FailedPreconditionError
from mlineage.store import migrate
from mlineage.store.engine import Database, create_engine
from mlineage.store.schema import metadata
from mlineage.store.sql import SqlStore


def test_head_constant_matches_the_migrations_folder() -> None:
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_migrations_build_the_declared_schema(store_path: Path) -> None:
    SqlStore(str(store_path)).close()
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_an_empty_file_is_upgraded_on_open_and_data_survives_reopening(store_path: Path) -> None:
    from mlineage.types import Artifact, StoreName

    parent = StoreName("p", "us-central1")
    first = SqlStore(str(store_path))
    created = first.create(parent, Artifact(display_name="kept"))
    first.close()
    again = SqlStore(str(store_path))
    assert again.get(created.name, Artifact).display_name == "kept"
    again.close()


def test_a_database_from_a_newer_mlineage_is_refused(store_path: Path) -> None:
    SqlStore(str(store_path)).close()
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(FailedPreconditionError, match="newer than this mlineage"):
        SqlStore(str(store_path))


def test_a_server_store_is_not_upgraded_implicitly(store_path: Path) -> None:
    db = Database(create_engine(str(store_path)))
    with pytest.raises(FailedPreconditionError, match="mlineage db upgrade"):
        migrate.ensure_current(db, auto_upgrade=False)
    migrate.upgrade(db)
    migrate.ensure_current(db, auto_upgrade=False)
    db.close()


def test_a_store_made_at_the_first_revision_upgrades_in_place(store_path: Path) -> None:
    from alembic import command

    from mlineage.types import Artifact, StoreName

    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0001")
        connection.execute(
            sa.text(
                "INSERT INTO metadata_stores (project, location, store_id, description, "
                "create_time, update_time) VALUES ('p', 'us-central1', 'default', '', 1, 1)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO artifacts (store_id, resource_id, display_name, schema_title, "
                "schema_version, description, metadata, labels, etag, create_time, "
                "update_time, uri, state, fingerprint) VALUES (1, 'old', 'from 0001', "
                "'system.Dataset', '', '', '{}', '{}', 1, 1, 1, 'file:///d', 'LIVE', '')"
            )
        )
    engine.dispose()
    store = SqlStore(str(store_path))
    name = str(StoreName("p", "us-central1").child("artifacts", "old"))
    assert store.get(name, Artifact).display_name == "from 0001"
    with store.db.read() as connection:
        assert migrate.current_revision(connection) == migrate.HEAD_REVISION
    store.close()
