"""Schema versions: create a new store, upgrade an old one in place, refuse a newer one.

Only Alembic migrations change the schema. Upgrades run inside one write transaction
that holds the database's write lock (`dialects.lock_for_migration`), so processes
opening a store at the same moment never race on DDL.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from mlineage.errors import FailedPreconditionError
from mlineage.store import dialects
from mlineage.store.engine import Database, create_engine

HEAD_REVISION = "0006"
"""The newest migration; a test checks it matches the migrations folder."""

_MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration; migrations run on `connection`, in its write transaction."""
    if connection is not None and not connection.in_transaction():
        # SQLAlchemy joins the transaction begun on the driver (`driver.sqlite_write`), so
        # Alembic sees one in progress and leaves ending it to `Database.write`.
        connection.begin()
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def script_head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def upgrade(db: Database) -> None:
    """Bring the schema to HEAD_REVISION (creating it on an empty database)."""

    def work(connection: Connection) -> None:
        dialects.lock_for_migration(connection)
        if current_revision(connection) == HEAD_REVISION:
            return
        _refuse_newer(current_revision(connection))
        command.upgrade(alembic_config(connection), "head")

    db.write(work)


def ensure_current(db: Database, *, auto_upgrade: bool) -> None:
    """Check the schema; upgrade it when `auto_upgrade`, otherwise say which command does."""
    with db.read() as connection:
        revision = current_revision(connection)
    if revision == HEAD_REVISION:
        return
    _refuse_newer(revision)
    if auto_upgrade:
        upgrade(db)
        return
    raise FailedPreconditionError(
        f"the database schema is at revision {revision or 'none'}, this mlineage needs "
        f"{HEAD_REVISION}: run `mlineage db upgrade --store <url>`"
    )


def _refuse_newer(revision: str | None) -> None:
    if revision is not None and revision not in _known_revisions():
        raise FailedPreconditionError(
            f"the database schema revision {revision} is newer than this mlineage knows "
            f"(head {HEAD_REVISION}): upgrade mlineage"
        )


def upgrade_store(url: str) -> None:
    """Apply every migration to the database at `url` (`mlineage db upgrade`)."""
    db = Database(create_engine(url))
    try:
        upgrade(db)
    finally:
        db.close()


def prepare_store(url: str) -> None:
    """For a server: create the schema of an empty database, and refuse one whose schema
    is at another revision (FAILED_PRECONDITION naming `mlineage db upgrade`)."""
    db = Database(create_engine(url))
    try:
        with db.read() as connection:
            empty = current_revision(connection) is None
        if empty:
            upgrade(db)
        else:
            ensure_current(db, auto_upgrade=False)
    finally:
        db.close()
