"""What every UI route shares: security headers, the store in the path."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from mlineage.types import StoreName

__all__ = ["STORE_PATH", "UiRoute", "page_of", "secured", "store_name"]

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


def secured(response: Response) -> Response:
    """`response` with the security headers (those it sets itself stay)."""
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


class UiRoute(APIRoute):
    """Every response carries the security headers (a failing page is shown to a browser by
    the server's error handlers: `failure.error_page`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return secured(await handler(request))

        return route
