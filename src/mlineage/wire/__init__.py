"""The JSON encoding of mlineage's domain objects, in Google's JSON style.

Shared by the server (which parses requests and writes responses with it) and the REST
client (which does the reverse): camelCase field names, RFC 3339 timestamps with `Z`, enums
as names or numbers (see `fields`), 64-bit integers read from strings or numbers.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mlineage.errors import InvalidArgumentError
from mlineage.wire.fields import Message, enum_int_requested, format_timestamp

__all__ = [
    "Message",
    "dump",
    "enum_int_requested",
    "format_timestamp",
    "invalid_argument",
    "parse",
]

M = TypeVar("M", bound=BaseModel)


def dump(message: BaseModel, *, enum_int: bool = False) -> bytes:
    """The JSON bytes of `message` (fields that are None are left out)."""
    return message.model_dump_json(
        by_alias=True, exclude_none=True, context={"enum_int": enum_int}
    ).encode()


def field_path(location: tuple[int | str, ...] | list[int | str]) -> str:
    """`("events", 0, "type")` -> `events[0].type`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "request"


def invalid_argument(error: ValidationError, prefix: str = "") -> InvalidArgumentError:
    """The INVALID_ARGUMENT of a message's first validation failure, naming its field."""
    first = error.errors()[0]
    location = [part for part in first["loc"] if part not in ("body", "query")]
    field = field_path(location)
    if prefix:
        field = f"{prefix}.{field}" if field != "request" else prefix
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidArgumentError(field, message)


def parse(cls: type[M], data: Any) -> M:
    """`cls` from JSON-shaped data, or INVALID_ARGUMENT naming the bad field."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise invalid_argument(exc) from None
