"""A real PostgreSQL server for the tests, and a fresh migrated database per test.

`.ci/run` starts a throwaway cluster (`.ci/start-postgres`) and exports
`MLINEAGE_TEST_POSTGRES_URL`. Without it, a cluster is started here from the installed
PostgreSQL binaries. Without those, PostgreSQL tests are skipped, unless
`MLINEAGE_REQUIRE_POSTGRES=1` (set in CI) makes that a failure.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

TEMPLATE = "mlineage_template"
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_cluster(directory: Path) -> tuple[str, list[str]]:
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("MLINEAGE_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    bin_dir = binaries[-1]
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(directory, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = str(directory / "data")
    subprocess.run(
        [*run_as, f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off"
    log = str(directory / "server.log")
    subprocess.run(
        [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-l", log, "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    stop = [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of a running PostgreSQL server."""
    url = os.environ.get("MLINEAGE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="mlineage-pg-") as directory:
        url, stop = _start_cluster(Path(directory))
        try:
            yield url
        finally:
            subprocess.run(stop, check=False, capture_output=True)


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """A migrated database that each test's database is copied from (fast); one per test
    process, so that pytest-xdist workers sharing a server do not drop each other's."""
    from mlineage.store.sql import SqlStore

    name = f"{TEMPLATE}_{os.getpid()}"
    engine = _admin(postgres_server)
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    SqlStore(_database_url(postgres_server, name), auto_upgrade=True).close()
    try:
        yield name
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()


def _database_url(server: str, database: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + database


@pytest.fixture
def postgres_url(postgres_server: str, postgres_template: str) -> Iterator[str]:
    """URL of a fresh, migrated, empty database, dropped after the test."""
    name = f"mlineage_test_{os.getpid()}_{next(_counter)}"
    engine = _admin(postgres_server)
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {postgres_template}"))
    try:
        yield _database_url(postgres_server, name)
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()
