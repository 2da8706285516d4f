"""Errors in Google's JSON error shape, with the HTTP status of each code.

{"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
           "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", ...}]}}

A browser getting a page of the web UI is shown an HTML page instead (`wants_page`); the UI
renders it from the same response (`ErrorPage`), so it carries the same status and message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from mlineage.errors import InvalidArgumentError, MlineageError

__all__ = [
    "HTTP_STATUS",
    "ErrorPage",
    "error_response",
    "install_error_handlers",
    "wants_page",
]

log = logging.getLogger("mlineage.server")

HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
_STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    413: "INVALID_ARGUMENT",
}

ErrorPage = Callable[[Request, Response], Response]
"""Makes the page a browser is shown for an error response in Google's JSON shape."""

# Paths under / that are not pages: the API's documents and the UI's files and data
# (its pages' scripts fetch `*.json`; `*.csv` is a download).
_NOT_PAGES = frozenset({"/v1", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_NOT_PAGE_PREFIXES = ("/v1/", "/static/")
_NOT_PAGE_SUFFIXES = (".json", ".csv")


def wants_page(scope: Scope) -> bool:
    """Whether an error answering this request is an HTML page rather than JSON: a browser
    (its Accept ranks text/html above JSON) getting a page of the web UI, which lives under
    `/` (the REST API under `/v1`, its documents, and the UI's static files and data keep
    JSON)."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    if (
        path in _NOT_PAGES
        or path.startswith(_NOT_PAGE_PREFIXES)
        or path.endswith(_NOT_PAGE_SUFFIXES)
    ):
        return False
    accept = Headers(scope=scope).get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def _quality(accept: str, media_type: str) -> float:
    """The q an Accept header gives `media_type`: its most specific range decides (RFC 9110
    12.5.1), and a type no range covers gets 0."""
    ranges = {media_type: 2, media_type.split("/")[0] + "/*": 1, "*/*": 0}
    specificity, quality = -1, 0.0
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        found = ranges.get(media_range.lower())
        if found is None or found < specificity:
            continue
        specificity, quality = found, 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
    return quality


def error_response(
    status: str,
    message: str,
    *,
    field: str | None = None,
    rule: str | None = None,
    http: int | None = None,
) -> JSONResponse:
    """A response in Google's error shape; `field`/`rule` become a BadRequest detail.
    `http` overrides the HTTP status of `status` (a 405 stays a 405)."""
    http = http or HTTP_STATUS.get(status, 500)
    body: dict[str, object] = {"code": http, "message": message, "status": status}
    if field is not None:
        body["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": field, "description": rule or message}],
            }
        ]
    return JSONResponse({"error": body}, status_code=http)


def _mlineage_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MlineageError)
    if isinstance(exc, InvalidArgumentError):
        return error_response(exc.code, exc.message, field=exc.field, rule=exc.rule)
    return error_response(exc.code, exc.message)


def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = (
        dict(exc.errors()[0]) if exc.errors() else {"loc": (), "msg": "invalid request"}
    )
    if first.get("type") == "json_invalid":  # its location is ("body", character offset)
        offset = first["loc"][-1]
        reason = (first.get("ctx") or {}).get("error", "")
        message = f"body: not valid JSON at character {offset}" + (f": {reason}" if reason else "")
        return error_response("INVALID_ARGUMENT", message, field="body")
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "request"
    return error_response("INVALID_ARGUMENT", f"{field}: {first['msg']}", field=field)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (Starlette's 405 names only
    the first such route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = _STATUS_BY_HTTP.get(exc.status_code, "UNKNOWN")
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    if exc.status_code == 405:
        allowed = _allowed_methods(request) or headers.get("Allow", "").split(", ")
        headers["Allow"] = ", ".join(allowed)
        message = (
            f"{request.method} is not allowed on {request.url.path}; allowed: {headers['Allow']}"
        )
    response = error_response(status, message, http=exc.status_code)
    response.headers.update(headers)
    return response


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response("INTERNAL", "internal error; the server log has the details")


Handler = Callable[[Request, Exception], Response]
_HANDLERS: tuple[tuple[type[Exception], Handler], ...] = (
    (MlineageError, _mlineage_error),
    (RequestValidationError, _validation_error),
    (StarletteHTTPException, _http_error),
    (Exception, _unexpected_error),
)


def _or_page(handler: Handler, page: ErrorPage) -> Handler:
    def answer(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        return page(request, response) if wants_page(request.scope) else response

    return answer


def install_error_handlers(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Answer every error in Google's JSON shape, or with `page`'s HTML where `wants_page`."""
    for kind, handler in _HANDLERS:
        app.add_exception_handler(kind, handler if page is None else _or_page(handler, page))
