"""Errors in Google's JSON error shape, with the HTTP status of each code.

{"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
           "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", ...}]}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from mlineage.errors import InvalidArgumentError, MlineageError

__all__ = ["HTTP_STATUS", "error_response", "install_error_handlers"]

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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MlineageError, _mlineage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
