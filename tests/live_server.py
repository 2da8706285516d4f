"""A real uvicorn server on 127.0.0.1 for tests that speak HTTP to mlineage.

`LiveServer` runs any ASGI app in a thread on a port of its own; it can be stopped and
started again on the same port (a server restart, as a client sees it). `ServerProcess`
runs `mlineage server` as a subprocess, for tests that need a real process to kill.

    with LiveServer(create_app(store, settings)) as server:
        RestStore(server.url)...
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest
import uvicorn

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore

__all__ = ["LiveServer", "ServerProcess", "free_port", "live_server", "wait_until_serving"]

START_TIMEOUT = 90.0  # a loaded 2-core machine can take long to import a server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(url: str, timeout: float = START_TIMEOUT) -> None:
    """Wait until `url` answers HTTP at all (any status; `/v1` is a cheap 404)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/v1", timeout=10.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no server answered at {url} within {timeout} s") from None
            time.sleep(0.05)


class LiveServer:
    """`app` served by uvicorn in a thread on 127.0.0.1 (`port` 0 picks a free one)."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{self.port}"
        )
        thread.daemon = True
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the test server on port {self.port} did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop serving: open connections are closed, new ones refused."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class ServerProcess:
    """`mlineage server --store STORE` as a subprocess on 127.0.0.1."""

    def __init__(self, store_url: str, port: int = 0, *extra: str) -> None:
        self.store_url = store_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "mlineage.cli",
            "server",
            "--store",
            self.store_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.extra,
        ]
        self.process = subprocess.Popen(
            command, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_until_serving(self.url)
        except TimeoutError:
            self.kill()
            raise

    def kill(self) -> None:
        """Kill the process at once (SIGKILL): no graceful shutdown."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@pytest.fixture
def live_server(store_path: Path) -> Iterator[LiveServer]:
    """The API over a fresh SQLite file (the test's `store_path`), on a live server."""
    store = SqlStore(str(store_path))
    with LiveServer(create_app(store, ServerSettings(str(store_path)))) as server:
        yield server
    store.close()
