"""`mlineage db upgrade` and the server's schema check, run as real commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from tests.backends import empty_postgres_database

from mlineage.store import migrate

MLINEAGE = [sys.executable, "-m", "mlineage.cli"]


def _mlineage(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MLINEAGE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _engine(store: str) -> sa.Engine:
    if "://" not in store:
        return sa.create_engine(f"sqlite:///{store}")
    return sa.create_engine(store.replace("postgresql://", "postgresql+psycopg://", 1))


def _revision(store: str) -> str | None:
    engine = _engine(store)
    try:
        with engine.connect() as connection:
            return migrate.current_revision(connection)
    finally:
        engine.dispose()


def _build_at(store: str, revision: str) -> None:
    engine = _engine(store)
    try:
        with engine.begin() as connection:
            command.upgrade(migrate.alembic_config(connection), revision)
    finally:
        engine.dispose()


@pytest.fixture
def empty_postgres(postgres_server: str) -> Iterator[str]:
    with empty_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind: a new SQLite path or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "metadata.db")
    url: str = request.getfixturevalue("empty_postgres")
    return url


def test_db_upgrade_brings_an_empty_database_to_head(empty_store: str) -> None:
    result = _mlineage("db", "upgrade", "--store", empty_store)
    assert result.returncode == 0, result.stderr
    assert migrate.HEAD_REVISION in result.stdout
    assert _revision(empty_store) == migrate.HEAD_REVISION
    again = _mlineage("db", "upgrade", "--store", empty_store)  # safe to run again
    assert again.returncode == 0, again.stderr
    assert _revision(empty_store) == migrate.HEAD_REVISION


def test_db_upgrade_moves_an_old_schema_to_head(empty_store: str) -> None:
    _build_at(empty_store, "0001")
    assert _revision(empty_store) == "0001"
    result = _mlineage("db", "upgrade", "--store", empty_store)
    assert result.returncode == 0, result.stderr
    assert _revision(empty_store) == migrate.HEAD_REVISION


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_server_refuses_an_old_schema_and_names_the_command(empty_store: str) -> None:
    _build_at(empty_store, "0001")
    result = _mlineage("server", "--store", empty_store, "--port", str(_free_port()))
    assert result.returncode != 0
    assert "mlineage db upgrade" in result.stderr
    assert _revision(empty_store) == "0001"  # the server changed nothing


def test_the_server_starts_once_upgraded(empty_store: str) -> None:
    _build_at(empty_store, "0001")
    assert _mlineage("db", "upgrade", "--store", empty_store).returncode == 0
    port = _free_port()
    server = subprocess.Popen(
        [*MLINEAGE, "server", "--store", empty_store, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(
                "the server did not start: " + (server.stderr.read() if server.stderr else "")
            )
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_db_upgrade_names_a_store_url_it_cannot_use() -> None:
    result = _mlineage("db", "upgrade", "--store", "mysql://somewhere/db")
    assert result.returncode != 0
    assert "store" in result.stderr
