"""PostgreSQL's `statement_timeout`, set with the store URL: a query past it is
DEADLINE_EXCEEDED (not an internal error, not retried), in the store and over REST."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mlineage.client import RestStore
from mlineage.errors import DeadlineExceededError, InvalidArgumentError
from mlineage.server.app import ServerSettings, create_app
from mlineage.store import dialects
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, StoreName
from tests.live_server import LiveServer

PARENT = StoreName("p", "us-central1")


@pytest.fixture
def limited(postgres_url: str) -> Iterator[SqlStore]:
    """A store whose statements may run 200 ms."""
    store = SqlStore(f"{postgres_url}?statement_timeout=200")
    yield store
    store.close()


def test_a_read_past_the_limit_is_deadline_exceeded(limited: SqlStore) -> None:
    with pytest.raises(DeadlineExceededError, match="200 ms"), limited.db.read() as connection:
        connection.exec_driver_sql("SELECT pg_sleep(2)")
    artifact = limited.create(PARENT, Artifact(uri="gs://b/a"))  # the store still works
    assert limited.get(artifact.name, Artifact) == artifact


def test_a_write_past_the_limit_is_deadline_exceeded_and_not_run_again(
    limited: SqlStore,
) -> None:
    runs: list[int] = []

    def work(connection: sa.Connection) -> None:
        runs.append(1)
        connection.exec_driver_sql("SELECT pg_sleep(2)")

    with pytest.raises(DeadlineExceededError):
        limited.db.write(work)
    assert runs == [1]


def test_a_migration_is_not_held_to_the_limit(limited: SqlStore) -> None:
    with limited.db.engine.connect() as connection, connection.begin():
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "200ms"
        dialects.lock_for_migration(connection)
        assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"


@pytest.mark.parametrize(
    "query", ["statement_timeout=-5", "statement_timeout=soon", "statement_timeout=5&options=x"]
)
def test_a_bad_statement_timeout_names_the_store_setting(postgres_url: str, query: str) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        SqlStore(f"{postgres_url}?{query}")
    assert error.value.field == "store"


def test_over_rest_a_query_past_the_limit_is_deadline_exceeded_at_once(
    limited: SqlStore, postgres_url: str
) -> None:
    limited.create(PARENT, Artifact(uri="gs://b/a"))
    settings = ServerSettings(f"{postgres_url}?statement_timeout=200")
    with LiveServer(create_app(limited, settings)) as server:
        client = RestStore(server.url)
        assert len(client.list(PARENT, Artifact).items) == 1
        # Another session holds the table: the server's query waits, and the wait counts.
        blocker = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with blocker.connect() as connection, connection.begin():
                connection.exec_driver_sql("LOCK TABLE artifacts IN ACCESS EXCLUSIVE MODE")
                # Raised, not retried: a retry of a 504 would end in UNAVAILABLE instead.
                with pytest.raises(DeadlineExceededError, match="statement_timeout"):
                    client.list(PARENT, Artifact)
        finally:
            blocker.dispose()
        assert len(client.list(PARENT, Artifact).items) == 1
