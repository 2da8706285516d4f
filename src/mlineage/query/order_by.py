"""AIP-132 `order_by`: "create_time desc, display_name" -> a list of `OrderTerm`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import UnaryExpression

from mlineage.errors import InvalidArgumentError
from mlineage.query.target import Field, FilterTarget

__all__ = ["OrderTerm", "parse_order_by"]

_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One sort key: a plain field of the target and its direction."""

    name: str
    field: Field
    descending: bool = False

    def clause(self) -> UnaryExpression[Any]:
        """The ORDER BY clause for this term (`column ASC` or `column DESC`)."""
        return self.field.column.desc() if self.descending else self.field.column.asc()


def _error(pos: int, expected: str, found: str) -> InvalidArgumentError:
    return InvalidArgumentError(
        "order_by", f"at position {pos}: expected {expected}, found {found}"
    )


def parse_order_by(text: str | None, target: FilterTarget) -> list[OrderTerm]:
    """Parses `"field [asc|desc], ..."` (AIP-132); empty or None gives no terms.

    Only `target.fields` are orderable; an unknown or repeated field, a direction other than
    `asc`/`desc` (any case) or an empty term raises `InvalidArgumentError("order_by", ...)`.
    """
    if text is None or not text.strip():
        return []
    terms: list[OrderTerm] = []
    start = 0
    for part in text.split(","):
        words = [(m.group(), start + m.start() + 1) for m in _WORD_RE.finditer(part)]
        if not words:
            raise _error(start + 1, "a field name", "an empty term")
        start += len(part) + 1
        (name, pos), *rest = words
        field = target.fields.get(name)
        if field is None:
            allowed = ", ".join(sorted(target.fields))
            raise _error(pos, f"a field of {target.kind} ({allowed})", repr(name))
        if any(term.name == name for term in terms):
            raise _error(pos, "each field at most once", f"{name!r} again")
        descending = False
        if rest:
            (direction, direction_pos), *extra = rest
            if direction.lower() not in ("asc", "desc"):
                raise _error(direction_pos, "asc, desc or ','", repr(direction))
            if extra:
                raise _error(extra[0][1], "',' or the end", repr(extra[0][0]))
            descending = direction.lower() == "desc"
        terms.append(OrderTerm(name, field, descending))
    return terms
