"""Request limits that keep one server process serving when some requests are huge or slow.

- Body size: a request whose body is larger than `ServerSettings.max_body_bytes` gets 413 with
  a Google error (status INVALID_ARGUMENT, field `body`). A declared Content-Length over the
  limit is refused before any of the body is read; a body sent without one is counted as it
  arrives and refused as soon as it passes the limit.
- Concurrency: at most `max_requests` requests are handled at once per process (enough to keep
  the worker threads busy). A request arriving when all are taken waits up to `wait_seconds`
  for one, then gets 503 UNAVAILABLE with `Retry-After`, which clients retry with backoff.
  Overload thus gives quick, retryable refusals instead of an ever longer queue.

A deadline per request is deliberately not enforced here: a route runs its database work in
a worker thread that cannot be cancelled, so answering 504 early would free nothing. Page
sizes and lineage node limits bound the work of one request instead.
"""

from __future__ import annotations

import json
import threading
import time

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlineage.server.errors import error_response

__all__ = [
    "MAX_CONCURRENT_REQUESTS",
    "QUEUE_WAIT_SECONDS",
    "BodySizeLimit",
    "ConcurrencyLimit",
    "install_limits",
]

MAX_CONCURRENT_REQUESTS = 64
QUEUE_WAIT_SECONDS = 10.0


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413 (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, declared)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app answered the failed read; the answer is ours to give
                return
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:  # any error the app raised over the failed read is answered below
                raise
        if exceeded and not started:
            await self._refuse(scope, receive, send, None)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int | None) -> None:
        if size is None:
            message = f"the request body is over the limit of {self.max_bytes} bytes"
        else:
            message = f"the request body is {size} bytes; the limit is {self.max_bytes} bytes"
        shaped = error_response(
            "INVALID_ARGUMENT",
            message,
            field="body",
            rule=f"at most {self.max_bytes} bytes",
        )
        body = json.loads(bytes(shaped.body))
        body["error"]["code"] = 413  # Google's shape, with the status HTTP has for this
        response = JSONResponse(body, status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class ConcurrencyLimit:
    """At most `max_requests` requests in progress at once (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_requests: int = MAX_CONCURRENT_REQUESTS,
        wait_seconds: float = QUEUE_WAIT_SECONDS,
    ) -> None:
        self.app = app
        self.max_requests = max_requests
        self.wait_seconds = wait_seconds
        self.in_progress = 0
        # A counter, not an anyio semaphore: test clients drive one app from several event
        # loops, and a semaphore belongs to one.
        self._lock = threading.Lock()

    def _try_enter(self) -> bool:
        with self._lock:
            if self.in_progress >= self.max_requests:
                return False
            self.in_progress += 1
            return True

    def _leave(self) -> None:
        with self._lock:
            self.in_progress -= 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._try_enter() and not await self._wait():
            response = error_response(
                "UNAVAILABLE",
                f"the server is handling {self.max_requests} requests; retry shortly",
            )
            response.headers["Retry-After"] = "1"
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._leave()

    async def _wait(self) -> bool:
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.002
        while time.monotonic() < deadline:
            await anyio.sleep(delay)
            if self._try_enter():
                return True
            delay = min(delay * 2, 0.05)
        return False


def install_limits(
    app: FastAPI,
    *,
    max_body_bytes: int,
    max_requests: int = MAX_CONCURRENT_REQUESTS,
    wait_seconds: float = QUEUE_WAIT_SECONDS,
) -> None:
    """Put the limits in front of `app`'s routes (install auth after, so it runs first)."""
    app.add_middleware(ConcurrencyLimit, max_requests=max_requests, wait_seconds=wait_seconds)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
