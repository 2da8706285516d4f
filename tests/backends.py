"""The store contract on every backend: a registry of backend factories and the fixtures.

`contract_store` is parametrized over `BACKENDS`; a test module that wants its `store` on
every backend says so with

    @pytest.fixture
    def store(contract_store: MetadataStore) -> MetadataStore:
        return contract_store

To add a backend, write a factory (a context manager taking the pytest request and yielding
an open store, closing it on exit) and register it in `BACKENDS` below; every contract test
then runs on it too.

`sql_engine` is the same idea one layer down, for tests of SQL the query layer generates:
a module-scoped SQLAlchemy engine on an empty scratch database of each SQL dialect.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlineage.store.base import MetadataStore
from mlineage.store.sql import SqlStore

BackendFactory = Callable[[pytest.FixtureRequest], AbstractContextManager[MetadataStore]]


@contextmanager
def _sqlite(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    path: Path = request.getfixturevalue("store_path")
    opened = SqlStore(str(path))
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def _postgresql(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    url: str = request.getfixturevalue("postgres_url")
    opened = SqlStore(url)
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def _rest(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    """The REST client talking to a live server over a fresh SQLite file."""
    from mlineage.client import RestStore
    from mlineage.server.app import ServerSettings, create_app
    from tests.live_server import LiveServer

    path: Path = request.getfixturevalue("store_path")
    backing = SqlStore(str(path))
    client = None
    try:
        with LiveServer(create_app(backing, ServerSettings(str(path)))) as server:
            client = RestStore(server.url)
            yield client
    finally:
        if client is not None:
            client.close()
        backing.close()


BACKENDS: dict[str, BackendFactory] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
    "rest": _rest,
}
"""Backend name (the test id) -> factory of an open, empty store."""


@pytest.fixture(params=list(BACKENDS))
def contract_store(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    """An open, empty store on each registered backend in turn."""
    with BACKENDS[request.param](request) as opened:
        yield opened


# --- raw engines for query-layer tests ---

_scratch = itertools.count()


def _admin_engine(server_url: str) -> sa.Engine:
    url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def empty_postgres_database(server: str) -> Iterator[str]:
    """The URL of a new, empty database (no schema) on `server`, dropped afterwards."""
    name = f"mlineage_scratch_{os.getpid()}_{next(_scratch)}"
    admin = _admin_engine(server)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def _scratch_postgres(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    server: str = request.getfixturevalue("postgres_server")
    with empty_postgres_database(server) as url:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def _scratch_sqlite(_request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    try:
        yield engine
    finally:
        engine.dispose()


ENGINES: dict[str, Callable[[pytest.FixtureRequest], AbstractContextManager[sa.Engine]]] = {
    "sqlite": _scratch_sqlite,
    "postgresql": _scratch_postgres,
}


@pytest.fixture(scope="module", params=list(ENGINES))
def sql_engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """An empty scratch database of each SQL dialect (module scope: fill it once)."""
    with ENGINES[request.param](request) as engine:
        yield engine
