"""Errors in Google's JSON error shape, with the HTTP status of each code.

{"error": {"code": 404, "message": "...", "status": "NOT_FOUND",
           "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest", ...}]}}
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
_STATUS_BY_HTTP = {404: "NOT_FOUND", 405: "UNIMPLEMENTED", 413: "INVALID_ARGUMENT"}


def error_response(
    status: str, message: str, *, field: str | None = None, rule: str | None = None
) -> JSONResponse:
    """A response in Google's error shape; `field`/`rule` become a BadRequest detail."""
    http = HTTP_STATUS.get(status, 500)
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
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    field = ".".join(location) or "request"
    return error_response("INVALID_ARGUMENT", f"{field}: {first['msg']}", field=field)


def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = _STATUS_BY_HTTP.get(exc.status_code, "UNKNOWN")
    return error_response(status, str(exc.detail))


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error serving %s %s", request.method, request.url.path)
    return error_response("INTERNAL", "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MlineageError, _mlineage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
