"""A real `mlineage server` process on a fresh SQLite file, for the Vertex tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SERVER_START_SECONDS = 60


@dataclass(frozen=True)
class Server:
    url: str
    store_url: str
    """What the server serves: a SQLite path or a postgresql:// URL."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(store_url: str, log_path: Path) -> Iterator[Server]:
    """`mlineage server --store <store_url> --port <free>` on 127.0.0.1, while in the block."""
    port = _free_port()
    log = log_path.open("wb")
    command = [
        str(Path(sys.executable).with_name("mlineage")),
        "server",
        "--store",
        store_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                httpx.get(f"{url}/openapi.json", timeout=2.0)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mlineage server did not start:\n{log_path.read_text()}"
                    ) from None
                time.sleep(0.1)
        yield Server(url, store_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server over a fresh SQLite file, until the test ends."""
    with serving(str(tmp_path / "server.db"), tmp_path / "server.log") as running:
        yield running


@pytest.fixture
def pg_server(postgres_url: str, tmp_path: Path) -> Iterator[Server]:
    """A server over a fresh PostgreSQL database, until the test ends."""
    with serving(postgres_url, tmp_path / "server.log") as running:
        yield running
