"""What every REST route shares: path segments, resource names, limits and JSON responses."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from fastapi import Request, Response
from pydantic import BaseModel
from starlette.convertors import Convertor, register_url_convertor

from mlineage.errors import InvalidArgumentError
from mlineage.validation import MIN_POINTS
from mlineage.wire import dump, enum_int_requested
from mlineage.wire.messages import Operation

if TYPE_CHECKING:
    from mlineage.server.app import ServerSettings

__all__ = [
    "STORE_PATH",
    "max_points_of",
    "operation",
    "page_size_of",
    "respond",
    "settings_of",
]


class ResourceIdConvertor(Convertor[str]):
    """A path segment without `:`, so `artifacts/{id}` and `artifacts/{id}:verb` differ."""

    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rid", ResourceIdConvertor())

STORE_PATH = "/v1/projects/{project:rid}/locations/{location:rid}/metadataStores/{store:rid}"
"""The path of one metadata store; resource routes extend it."""


def settings_of(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def respond(request: Request, message: BaseModel, status_code: int = 200) -> Response:
    """`message` as JSON, enums as numbers when the request asked for them."""
    enum_int = enum_int_requested(request.query_params.get("$alt"))
    return Response(
        dump(message, enum_int=enum_int),
        status_code=status_code,
        media_type="application/json",
    )


def page_size_of(request: Request, page_size: int | None) -> int | None:
    """The page size to ask the store for: unset (or 0) and too large become the server's
    cap, so no list call returns more than `max_page_size` rows (AIP-158)."""
    cap = settings_of(request).max_page_size
    if page_size is None or page_size == 0 or page_size > cap:
        return cap
    return page_size  # negative sizes reach the store, which names the rule


def max_points_of(request: Request, max_points: int | None, field: str) -> int:
    """How many points per series a read returns: unset (or -1, Vertex's "all") is the
    server's default or cap, too large is the cap; fewer than the store can draw a series
    with is refused."""
    settings = settings_of(request)
    if max_points is None:
        return settings.points_per_series
    if max_points == -1 or max_points > settings.max_points_per_series:
        return settings.max_points_per_series
    if max_points < MIN_POINTS:
        raise InvalidArgumentError(field, f"must be -1 or at least {MIN_POINTS}, got {max_points}")
    return max_points


_TYPE_URL = re.compile(r"^[A-Za-z0-9_.]+$")


def operation(name: str, response_type: str, response: dict[str, object]) -> Operation:
    """A done long-running operation under `name` whose result is `response`."""
    assert _TYPE_URL.match(response_type)
    return Operation(
        name=f"{name}/operations/{uuid.uuid4().int % 10**19}",
        done=True,
        response={"@type": f"type.googleapis.com/{response_type}", **response},
    )
