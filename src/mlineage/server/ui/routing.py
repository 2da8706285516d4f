"""What every UI route shares: HTML error pages, security headers, the store in the path."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from mlineage.errors import MlineageError
from mlineage.server.errors import HTTP_STATUS
from mlineage.types import StoreName

from .templating import render

__all__ = ["STORE_PATH", "UiRoute", "page_of", "store_name"]

STORE_PATH = "/projects/{project}/locations/{location}/metadataStores/{store_id}"
"""UI pages live at their resource's name: `/{resource name}` (the API adds `/v1`)."""

SECURITY_HEADERS = {
    # Only our own scripts run: an injected <script> or handler attribute would not.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def store_name(project: str, location: str, store_id: str) -> StoreName:
    return StoreName(project, location, store_id)


def page_of(name: str) -> str:
    """The UI path of a resource."""
    return "/" + name


class UiRoute(APIRoute):
    """Pages show errors as a page (data endpoints keep the API's JSON errors) and every
    response carries the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        data = self.path.endswith((".json", ".csv"))

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except MlineageError as exc:
                if data:
                    raise
                response = render(
                    request,
                    "error.html",
                    {"code": exc.code, "message": exc.message},
                    HTTP_STATUS.get(exc.code, 500),
                )
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return route
