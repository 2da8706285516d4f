"""HTTP calls to an mlineage server: one connection pool, bearer auth, retries, errors.

A call that fails to connect, loses its connection, or gets 503 UNAVAILABLE (or a proxy's
502 or 504; not the server's own 504 DEADLINE_EXCEEDED) is sent again after an exponential
backoff with full jitter (a `Retry-After` is honoured), until `RetryPolicy.timeout` seconds
have passed since the first try: long enough by default to ride out a server restart.
Callers learn whether an earlier try may have taken effect, so a create whose first try did
succeed (its reply lost) can be recognised on ALREADY_EXISTS. Only a try that was sent and
then lost (its connection broke while writing or reading, or a proxy answered 502/504) may
have; one that could not connect, or was refused with 503 (the server's concurrency guard,
an unreachable database), did not.

Errors in Google's JSON shape become the `mlineage.errors` class of their status, so code
on the REST client sees the same exceptions as code on a local store.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    MlineageError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
)

__all__ = [
    "Reply",
    "RetryPolicy",
    "TokenSource",
    "Transport",
    "error_from_response",
    "url_path",
    "was_retried",
]

TokenSource = str | Callable[[], str | None] | None
"""A bearer token, or a function returning the current one (None: send none)."""

_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request left: the server never saw it."""
_LOST_ERRORS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
"""Failures of a sent request: the server may have done it and lost its reply."""
_LOST_STATUSES = frozenset({502, 504})
"""A proxy's answers when it lost (or gave up waiting for) the server's reply."""

_ERRORS: dict[str, Callable[[str], MlineageError]] = {
    "NOT_FOUND": NotFoundError,
    "ALREADY_EXISTS": AlreadyExistsError,
    "FAILED_PRECONDITION": FailedPreconditionError,
    "ABORTED": AbortedError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "UNAUTHENTICATED": UnauthenticatedError,
    "UNAVAILABLE": UnavailableError,
    "RESOURCE_EXHAUSTED": UnavailableError,
    "DEADLINE_EXCEEDED": DeadlineExceededError,
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how often to retry a call that could not reach the server."""

    timeout: float = 60.0
    """Seconds from the first try after which no retry starts."""
    initial_backoff: float = 0.05
    max_backoff: float = 2.0
    multiplier: float = 2.0


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful reply: its JSON body and whether an earlier try may have taken effect."""

    body: bytes
    retried: bool


def url_path(name: str, verb: str = "") -> str:
    """`/v1/{name}` with each segment escaped, plus `:verb` when given."""
    path = "/v1/" + "/".join(quote(segment, safe="") for segment in name.split("/"))
    return f"{path}:{verb}" if verb else path


def error_from_response(response: httpx.Response) -> MlineageError:
    """The exception a Google-shaped error reply stands for."""
    try:
        error = json.loads(response.content)["error"]
        status = str(error.get("status", ""))
        message = str(error.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        return UnavailableError(
            f"the server answered HTTP {response.status_code} without a Google error body: "
            f"{response.text[:200]!r}"
        )
    if status == "INVALID_ARGUMENT":
        for detail in error.get("details") or ():
            violations = detail.get("fieldViolations") if isinstance(detail, dict) else None
            if violations:
                first = violations[0]
                return InvalidArgumentError(str(first.get("field")), str(first.get("description")))
        return InvalidArgumentError("request", message)
    make = _ERRORS.get(status)
    if make is not None:
        return make(message)
    failure = MlineageError(f"{status or response.status_code}: {message}")
    failure.code = status or "UNKNOWN"
    return failure


class Transport:
    """One HTTP connection pool to `base_url` with auth, retries and error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        token: TokenSource = None,
        retry: RetryPolicy | None = None,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._token = token
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers={"User-Agent": "mlineage-rest-client", "Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Content-Type": "application/json"} if has_body else {}
        token = self._token() if callable(self._token) else self._token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        """Send a request, retrying as the module docstring says; raise its error."""
        policy = self.retry
        deadline = time.monotonic() + policy.timeout
        backoff = policy.initial_backoff
        tries = 0
        maybe_applied = False  # an earlier try was sent and its reply lost
        query = {k: v for k, v in (params or {}).items() if v is not None}
        while True:
            tries += 1
            wait = 0.0
            try:
                response = self._client.request(
                    method,
                    path,
                    params=query,
                    content=body,
                    headers=self._headers(body is not None),
                )
            except _NOT_SENT_ERRORS as exc:
                failure: str = f"{type(exc).__name__}: {exc}"
            except _LOST_ERRORS as exc:
                failure = f"{type(exc).__name__}: {exc}"
                maybe_applied = True
            except httpx.TimeoutException as exc:
                raise UnavailableError(
                    f"{method} {self.base_url}{path} got no reply in time ({exc})"
                ) from None
            else:
                status = response.status_code
                if status < 400:
                    return Reply(response.content, retried=maybe_applied)
                if (status != 503 and status not in _LOST_STATUSES) or _timed_out(response):
                    error = error_from_response(response)
                    error.retried = maybe_applied  # type: ignore[attr-defined]
                    raise error
                failure = f"HTTP {status}: {response.text[:200]}"
                maybe_applied = maybe_applied or status in _LOST_STATUSES
                wait = _retry_after(response)
            delay = max(wait, random.uniform(0, backoff))  # full jitter
            if time.monotonic() + delay > deadline:
                raise UnavailableError(
                    f"{method} {self.base_url}{path} failed {tries} time(s) over "
                    f"{policy.timeout:g} s; last: {failure}"
                )
            time.sleep(delay)
            backoff = min(backoff * policy.multiplier, policy.max_backoff)


def was_retried(error: BaseException) -> bool:
    """Whether the reply that raised `error` answered a retry of a try that was sent and
    lost, so it may have taken effect."""
    return bool(getattr(error, "retried", False))


def _timed_out(response: httpx.Response) -> bool:
    """Whether a 504 is the server's own DEADLINE_EXCEEDED (its database stopped the query:
    sending it again would only wait as long again), not a proxy that lost the reply."""
    if response.status_code != 504:
        return False
    try:
        return bool(json.loads(response.content)["error"]["status"] == "DEADLINE_EXCEEDED")
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("Retry-After", 0)), 30.0)
    except ValueError:
        return 0.0
