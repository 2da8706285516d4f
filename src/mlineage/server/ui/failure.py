"""The page a browser is shown for an error: the API's error, in the UI's layout.

The server's error handlers and its auth call `error_page` for a request that
`server.errors.wants_page`; everything else gets the JSON error unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from mlineage.errors import InvalidArgumentError
from mlineage.server.auth import LOGIN_PATH, principal_of
from mlineage.types import StoreName

from .routing import secured
from .templating import render

__all__ = ["error_page"]

_BELOW_STORE = re.compile(r"^/(projects/[^/]+/locations/[^/]+/metadataStores/[^/]+)/.")
_OWN_HEADERS = frozenset({"content-type", "content-length"})


def error_page(request: Request, response: Response) -> Response:
    """The page for the error `response` (Google's JSON shape): its status, its message and
    its headers (`Allow`, `WWW-Authenticate`), with links back."""
    error = json.loads(bytes(response.body))["error"]
    status = response.status_code
    context: dict[str, Any] = {
        "status": status,
        "title": str(error["status"]).replace("_", " ").capitalize(),
        "message": error["message"],
    }
    if status in (401, 403):
        context["login"] = f"{LOGIN_PATH}?next={quote(request.scope['path'])}"
    parent = _store_of(request)
    if parent is not None:
        context["parent"] = parent
    page = render(request, "error.html", context, status)
    for key, value in response.headers.items():
        if key not in _OWN_HEADERS:
            page.headers[key] = value
    return secured(page)


def _store_of(request: Request) -> StoreName | None:
    """The store whose page (or a page below it) failed, if the caller may see it. A refusal
    by the auth comes before any caller is known: it links to no store."""
    match = _BELOW_STORE.match(request.scope["path"])
    if match is None:
        return None
    try:
        parent = StoreName.parse(match[1])
        principal = principal_of(request)
    except (InvalidArgumentError, RuntimeError):
        return None
    return parent if principal.sees(parent.project) else None
