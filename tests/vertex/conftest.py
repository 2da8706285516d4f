"""A real `mlineage server` process on a fresh SQLite file, for the Vertex tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SERVER_START_SECONDS = 60


@dataclass(frozen=True)
class Server:
    url: str
    store_path: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`mlineage server --store <file> --port <free>` on 127.0.0.1, until the test ends."""
    store_path = tmp_path / "server.db"
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("mlineage")),
        "server",
        "--store",
        str(store_path),
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
                        f"mlineage server did not start:\n{(tmp_path / 'server.log').read_text()}"
                    ) from None
                time.sleep(0.1)
        yield Server(url, store_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
