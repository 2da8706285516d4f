"""Field types of Google's JSON encoding: RFC 3339 timestamps, enums, doubles, int64.

- Timestamps are written in UTC with microseconds and a `Z` (`2026-02-17T09:00:00.000001Z`);
  any RFC 3339 offset is read.
- Enums are read as names (`"LIVE"`) or numbers (`2`, `"2"`); they are written as names, or as
  numbers when the dump context has `enum_int` (a request with `$alt=json;enum-encoding=int`).
- Doubles may be the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (proto3 JSON).
- int64 values are written as decimal strings (`"3"`) and read from strings or numbers (an
  integral float such as `3.0` too); booleans and values beyond 64 bits are refused.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import WithJsonSchema

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "EnumOf",
    "Int64",
    "Message",
    "Timestamp",
    "enum_int_requested",
    "format_timestamp",
]

E = TypeVar("E", bound=enum.Enum)


class Message(BaseModel):
    """A JSON message: camelCase on the wire, snake_case in Python; unknown fields ignored
    (clients such as the Vertex SDK may send fields mlineage does not use)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        ser_json_inf_nan="strings",
    )


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds and `Z`."""
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is local time, as the store reads it
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a timestamp needs a time zone offset (e.g. Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is after year 9999 in UTC
        raise ValueError("must fall within years 1 to 9999 in UTC") from None


Timestamp = Annotated[
    datetime,
    AfterValidator(_in_utc),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"^-?[0-9]+$")


def _int64(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"must be an int64 (a number or a decimal string), got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DECIMAL.match(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"must be an int64 (a number or a decimal string), got {value!r}")
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"must fit in 64 bits ({INT64_MIN} to {INT64_MAX}), got {number}")
    return number


Int64 = Annotated[
    int,
    PlainValidator(_int64),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "int64"}),
]
"""A 64-bit integer: read from a number or a decimal string, written as a string."""


def _enum_parser(enum_cls: type[E]) -> Any:
    names = list(enum_cls.__members__)

    def parse(value: Any) -> E:
        if isinstance(value, enum_cls):
            return value
        if isinstance(value, str):
            if value in enum_cls.__members__:
                return enum_cls[value]
            if value.isdigit():
                value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return enum_cls(value)
            except ValueError:
                pass
        raise ValueError(f"must be one of {names} or its number, got {value!r}")

    return parse


def _enum_dump(value: enum.Enum, info: SerializationInfo) -> str | int:
    context = info.context or {}
    number: int = value.value
    return number if context.get("enum_int") else value.name


def EnumOf(enum_cls: type[E]) -> Any:  # noqa: N802 - reads as a type
    """An enum field read as a name or a number, written per the request's encoding."""
    names = list(enum_cls.__members__)
    return Annotated[
        enum_cls,
        PlainValidator(_enum_parser(enum_cls)),
        PlainSerializer(_enum_dump),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "enum": names},
                    {"type": "integer", "enum": [m.value for m in enum_cls]},
                ]
            }
        ),
    ]


def enum_int_requested(alt: str | None) -> bool:
    """Whether a `$alt` query value (`json;enum-encoding=int`) asks for numeric enums."""
    if not alt:
        return False
    return any(part.strip() == "enum-encoding=int" for part in alt.split(";"))
