"""The Jinja2 environment of the UI: autoescaped templates and small display filters."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = ["environment", "render", "show", "url_with"]


def show(value: Any) -> str:
    """A param, metric or metadata value as a table cell shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def pretty(value: Any) -> str:
    """Nested metadata as indented JSON text (escaped by the template like any text)."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def url_with(request: Request, path: str | None = None, **changes: Any) -> str:
    """This page's URL (or `path`) with some query parameters changed (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value is False or value == "":
            continue
        if isinstance(value, list | tuple):
            params += [(key, str(v)) for v in value]
        else:
            params.append((key, "1" if value is True else str(value)))
    query = urlencode(params)
    return (path or request.url.path) + (f"?{query}" if query else "")


def _page_path(name: str) -> str:
    """The UI page of a resource (its resource name is its path)."""
    return "/" + name


environment = Environment(
    loader=PackageLoader("mlineage.server.ui", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["show"] = show
environment.filters["pretty"] = pretty
environment.filters["page"] = _page_path
environment.globals["url_with"] = url_with


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render `template` (autoescaped) with `context` plus the request."""
    body = environment.get_template(template).render(request=request, **context)
    return HTMLResponse(body, status_code=status_code)
