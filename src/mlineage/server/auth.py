"""Who may call the server: bearer tokens, project scoping, roles, the loopback rule.

Every request except the public paths (`/openapi.json`, `/docs`, `/redoc`, the UI's `/login`
and `/static/...`) is decided here, before any route runs:

1. The token: `Authorization: Bearer <secret>`, else the `mlineage_token` cookie (the web UI
   logs in with it). A malformed Authorization header, or an unknown, revoked or expired
   token, is 401 UNAUTHENTICATED.
2. No token: once any token has ever been created (revoking tokens does not reopen the
   server), 401 UNAUTHENTICATED. While there are none, a loopback client (127.0.0.0/8, ::1) is
   served as an anonymous admin of every project; any other client gets 403
   PERMISSION_DENIED unless the server runs with `--insecure-allow-anonymous`.
   A web page could reach a loopback server through the visitor's browser (by DNS
   rebinding, or by posting a form across origins), so under the loopback rule the request's
   Host must be a loopback address or `localhost` (any port), and a request that is not a read
   and carries an `Origin` (or `Referer`) must come from the same origin; else 403. The same
   origin rule holds for a request authenticated by the UI's cookie, and for `POST /login`
   (so no other site can log a browser in with its own token).
3. The project: a path `/v1/projects/{p}/...` (or a UI path `/projects/{p}/...`) belongs to
   project `p`. A token of another project gets 404 NOT_FOUND, as if nothing were there: a
   token for project A learns nothing of project B. So does a query parameter that is a
   resource name of another project (`{artifact}:diff?other=projects/B/...`); names in
   request bodies need no check here, as the store refuses links across metadata stores.
4. The role each request needs (roles are ordered reader < writer < admin):

    request                                             needs
    GET, HEAD, OPTIONS                                  reader
    POST of a custom method that reads: a verb          reader
      starting with query, read, batchRead, get, list,
      search, export, diff or compare (the reads of
      this server are GETs; the rule keeps a future POST read a read)
    POST creating a resource (`artifacts?artifactId=`)   writer
    PATCH, PUT                                          writer
    POST of any other custom method (`:addExecutionEvents`,
      `:addContextChildren`, `:removeContextChildren`,
      `:write`, `:logMetrics`, `:batchCreate`)          writer
    DELETE; custom methods starting with delete,        admin
      batchDelete or purge
    POST registering a metadata schema                  admin
      (`.../metadataSchemas`)

A browser refused a page of the web UI (`errors.wants_page`) is sent to the login page
(401) or shown the refusal as a page; API clients get the JSON error.

Token lookups are cached for `CACHE_SECONDS` per server process (a valid token and a refused
one alike), so a revoked token stops working within that many seconds, and a token created
on a server that had none is required within that many seconds too.

Routes read the caller with `principal_of(request)`.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mlineage.errors import UnauthenticatedError, UnavailableError
from mlineage.server.errors import ErrorPage, error_response, wants_page
from mlineage.store import MetadataStore
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import CACHE_SECONDS, Role, TokenInfo, TokenStore, hash_secret

if TYPE_CHECKING:
    from mlineage.server.app import ServerSettings

__all__ = [
    "ANONYMOUS",
    "CACHE_SECONDS",
    "LOGIN_PATH",
    "TOKEN_COOKIE",
    "Action",
    "AuthMiddleware",
    "Principal",
    "classify",
    "install_auth",
    "principal_of",
]

TOKEN_COOKIE = "mlineage_token"
LOGIN_PATH = "/login"
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", LOGIN_PATH})
PUBLIC_PREFIXES = ("/static/",)
_STATE_KEY = "mlineage_principal"
_CACHE_ENTRIES = 10_000
# Starlette's TestClient names its in-process peer "testclient"; a socket peer is an address.
_IN_PROCESS_PEERS = frozenset({"testclient"})


class Action(enum.Enum):
    """What a request does, and the least role that may do it."""

    READ = Role.READER
    WRITE = Role.WRITER
    ADMIN = Role.ADMIN


_READ_VERBS = (
    "query",
    "read",
    "batchRead",
    "get",
    "list",
    "search",
    "export",
    "diff",
    "compare",
)
_ADMIN_VERBS = ("delete", "batchDelete", "purge")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A query parameter that is a resource name names its project (a filter expression or a URI
# that merely contains "projects/" does not start with it).
_NAME_RE = re.compile(r"^/?(?:v1/)?projects/([^/?#]+)")


def classify(method: str, path: str) -> tuple[str | None, Action]:
    """The project a request addresses (None if its path names none) and its action."""
    segments = [segment for segment in path.split("/") if segment]
    if segments and segments[0] == "v1":
        segments = segments[1:]
    project = None
    if len(segments) >= 2 and segments[0] == "projects":
        project = segments[1].split(":", 1)[0]
    last = segments[-1] if segments else ""
    collection, _, verb = last.partition(":")
    method = method.upper()
    if method in _READ_METHODS:
        return project, Action.READ
    if method == "DELETE" or (verb and verb.startswith(_ADMIN_VERBS)):
        return project, Action.ADMIN
    if verb:
        return project, Action.READ if verb.startswith(_READ_VERBS) else Action.WRITE
    if method == "POST" and collection == "metadataSchemas":
        return project, Action.ADMIN
    return project, Action.WRITE


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a token's role in its project, or an anonymous admin of every project."""

    role: Role
    project: str | None
    token_id: str | None = None

    def sees(self, project: str) -> bool:
        """Whether resources of `project` exist for this caller."""
        return self.project is None or self.project == project


ANONYMOUS = Principal(Role.ADMIN, None)


def principal_of(request: Request) -> Principal:
    """The caller of `request`, as the auth middleware decided it."""
    principal = getattr(request.state, _STATE_KEY, None)
    if not isinstance(principal, Principal):
        raise RuntimeError("the auth middleware did not run for this request (see create_app)")
    return principal


@functools.lru_cache(maxsize=4096)
def is_loopback(host: str | None) -> bool:
    """Whether a peer address is on this machine (127.0.0.0/8, ::1)."""
    if host is None:
        return False
    if host in _IN_PROCESS_PEERS:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class TokenCache:
    """Token checks of one process, each remembered for `ttl` seconds, keyed by hash.

    `cached_*` answer from memory without blocking (None: ask the database); the plain
    methods query the database, so callers run them in a worker thread.
    """

    def __init__(self, tokens: TokenStore, ttl: float = CACHE_SECONDS) -> None:
        self.tokens = tokens
        self.ttl = ttl
        self._verdicts: dict[str, tuple[float, TokenInfo | UnauthenticatedError]] = {}
        self._any: tuple[float, bool] | None = None
        self._lock = threading.Lock()

    def cached_verify(self, secret: str) -> TokenInfo | None:
        """The remembered verdict on `secret` (raising a remembered refusal), or None."""
        entry = self._verdicts.get(hash_secret(secret))
        if entry is None or entry[0] <= time.monotonic():
            return None
        return _verdict(entry[1])

    def verify(self, secret: str) -> TokenInfo:
        """Ask the database about `secret` and remember the answer."""
        try:
            verdict: TokenInfo | UnauthenticatedError = self.tokens.verify(secret)
        except UnauthenticatedError as exc:
            verdict = exc
        self._remember(hash_secret(secret), time.monotonic() + self.ttl, verdict)
        return _verdict(verdict)

    def cached_any_exist(self) -> bool | None:
        entry = self._any
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def any_exist(self) -> bool:
        exist = self.tokens.any_exist()
        self._any = (time.monotonic() + self.ttl, exist)
        return exist

    def _remember(self, key: str, until: float, verdict: TokenInfo | UnauthenticatedError) -> None:
        with self._lock:
            if len(self._verdicts) >= _CACHE_ENTRIES:
                now = time.monotonic()
                self._verdicts = {k: v for k, v in self._verdicts.items() if v[0] > now}
                if len(self._verdicts) >= _CACHE_ENTRIES:
                    self._verdicts.clear()
            self._verdicts[key] = (until, verdict)


def _verdict(verdict: TokenInfo | UnauthenticatedError) -> TokenInfo:
    if isinstance(verdict, UnauthenticatedError):
        raise verdict
    status = verdict.status()
    if status != "active":  # expired since it was remembered
        raise UnauthenticatedError(f"the token {verdict.token_id} is {status}")
    return verdict


class _RefusedError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _unauthenticated(message: str) -> _RefusedError:
    response = error_response("UNAUTHENTICATED", message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="mlineage"'
    return _RefusedError(response)


class AuthMiddleware:
    """ASGI middleware deciding every request (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenStore,
        settings: ServerSettings,
        cache: float,
        page: ErrorPage | None = None,
    ) -> None:
        self.app = app
        self.cache = TokenCache(tokens, cache)
        self.settings = settings
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            if path == LOGIN_PATH and scope.get("method") == "POST":
                refusal = _cross_origin(scope)
                if refusal is not None:
                    await refusal.response(scope, receive, send)
                    return
            await self.app(scope, receive, send)
            return
        try:
            principal = await self._principal(scope)
            self._authorize(principal, scope)
        except _RefusedError as refusal:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = refusal.response
            if wants_page(scope):  # a browser is sent to log in, or shown the refusal
                if response.status_code == 401:
                    response = RedirectResponse(f"{LOGIN_PATH}?next={quote(path)}", status_code=303)
                elif self.page is not None:
                    response = self.page(Request(scope), response)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[_STATE_KEY] = principal
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope) -> Principal:
        secret, from_cookie = _presented_secret(scope)
        try:
            if secret is not None:
                info = self.cache.cached_verify(secret)
                if info is None:
                    info = await run_in_threadpool(self.cache.verify, secret)
                if from_cookie and _is_write(scope):
                    _refuse_cross_origin(scope)
                return Principal(info.role, info.project, info.token_id)
            required = self.cache.cached_any_exist()
            if required is None:
                required = await run_in_threadpool(self.cache.any_exist)
        except UnauthenticatedError as exc:
            raise _unauthenticated(exc.message) from None
        except UnavailableError as exc:
            raise _RefusedError(error_response("UNAVAILABLE", exc.message)) from None
        if required:
            raise _unauthenticated(
                "this server requires a token: send 'Authorization: Bearer <token>' "
                "(mlineage token create makes one)"
            )
        if self.settings.insecure_allow_anonymous:
            return ANONYMOUS
        client = scope.get("client")
        if is_loopback(client[0] if client else None):
            _refuse_foreign_host(scope)
            if _is_write(scope):
                _refuse_cross_origin(scope)
            return ANONYMOUS
        raise _RefusedError(
            error_response(
                "PERMISSION_DENIED",
                "this server has no tokens and serves only loopback clients: create a token "
                "(mlineage token create) or start it with --insecure-allow-anonymous",
            )
        )

    def _authorize(self, principal: Principal, scope: Scope) -> None:
        project, action = classify(scope.get("method", "GET"), scope["path"])
        if project is not None and not principal.sees(project):
            name = scope["path"].removeprefix("/v1/").strip("/").split(":", 1)[0]
            raise _RefusedError(error_response("NOT_FOUND", f"{name} not found"))
        if principal.project is not None:
            for name, named_project in _named_in_query(scope):
                if not principal.sees(named_project):
                    raise _RefusedError(error_response("NOT_FOUND", f"{name} not found"))
        needed: Role = action.value
        if not principal.role.allows(needed):
            raise _RefusedError(
                error_response(
                    "PERMISSION_DENIED",
                    f"token {principal.token_id} has role {principal.role.value} in project "
                    f"{principal.project}; this {action.name.lower()} request needs "
                    f"{needed.value}",
                )
            )


def _named_in_query(scope: Scope) -> list[tuple[str, str]]:
    """Resource names given as query parameters (`:diff?other=projects/...`), with their
    projects."""
    query: bytes = scope.get("query_string", b"")
    if not query:
        return []
    named = []
    # Decoded values are checked, never the raw bytes: `%70rojects/...` names a project too.
    for _, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        match = _NAME_RE.match(value.strip())
        if match is not None:
            named.append((value.strip().lstrip("/"), match[1]))
    return named


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}


def _presented_secret(scope: Scope) -> tuple[str | None, bool]:
    """The secret the request presents, and whether it came in the UI's cookie."""
    headers = _headers(scope)
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthenticated("the Authorization header must be 'Bearer <token>'")
        return secret.strip(), False
    cookie = headers.get("cookie")
    if cookie:
        value = cookie_parser(cookie).get(TOKEN_COOKIE)
        if value:
            return value, True
    return None, False


def _is_write(scope: Scope) -> bool:
    return str(scope.get("method", "GET")).upper() not in _READ_METHODS


def _hostname(netloc: str) -> str:
    """The host of `host[:port]` or `[v6]:port`, lower case."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc
    return netloc.partition(":")[0]


def _is_local_host(netloc: str) -> bool:
    """Whether a Host header names this machine: `localhost` or a loopback address. A web
    page's own domain never does, even when its DNS answers 127.0.0.1 (DNS rebinding)."""
    host = _hostname(netloc)
    if host.rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_foreign_host(scope: Scope) -> None:
    host = _headers(scope).get("host", "")
    if not _is_local_host(host):
        raise _RefusedError(
            error_response(
                "PERMISSION_DENIED",
                f"this server has no tokens and serves loopback clients only at "
                f"http://127.0.0.1, http://localhost or http://[::1] (any port); the Host "
                f"{host!r} is refused, as a web page could reach this server under its own "
                "name: use one of those addresses, or create a token (mlineage token create)",
            )
        )


def _cross_origin(scope: Scope) -> _RefusedError | None:
    """A refusal if the request's `Origin` (else `Referer`) is another origin than its Host.

    A request with neither comes from no web page (browsers send `Origin` with every POST),
    so it is let through."""
    headers = _headers(scope)
    source = headers.get("origin") or headers.get("referer")
    if source is None:
        return None
    host = headers.get("host", "").strip().lower()
    origin = urlsplit(source.strip())
    if origin.scheme in ("http", "https") and origin.netloc.lower() == host and host:
        return None
    return _RefusedError(
        error_response(
            "PERMISSION_DENIED",
            f"a {scope.get('method', 'POST')} request sent by a web page of another origin "
            f"({source.strip()!r}) is refused; this server's own pages are at {host!r}",
        )
    )


def _refuse_cross_origin(scope: Scope) -> None:
    refusal = _cross_origin(scope)
    if refusal is not None:
        raise refusal


def tokens_of(store: MetadataStore, settings: ServerSettings) -> TokenStore:
    """The tokens in the server's database, sharing the store's connections when it has some."""
    if isinstance(store, SqlStore):
        return TokenStore(store.db)
    return TokenStore.open(settings.store_url)


def install_auth(
    app: FastAPI,
    store: MetadataStore,
    settings: ServerSettings,
    *,
    cache_seconds: float | None = None,
    page: ErrorPage | None = None,
) -> None:
    """Put the auth middleware in front of every route of `app`; a browser refused a page
    is sent to log in (401) or shown `page`'s page for the refusal."""
    app.add_middleware(
        AuthMiddleware,
        tokens=tokens_of(store, settings),
        settings=settings,
        cache=CACHE_SECONDS if cache_seconds is None else cache_seconds,
        page=page,
    )
