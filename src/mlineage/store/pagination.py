"""Keyset pagination: opaque page tokens that stay correct while rows are inserted.

A token carries the sort values of the last row served plus a fingerprint of the query
(filter and order), so a token cannot be replayed against a different query. The next page
starts strictly after that row in the (order terms..., id) ordering, so rows inserted
meanwhile never shift or duplicate what a reader sees.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mlineage.errors import InvalidArgumentError
from mlineage.validation import MAX_PAGE_SIZE, check_page_size

__all__ = [
    "MAX_PAGE_SIZE",
    "SortKey",
    "after",
    "check_page_size",
    "check_values",
    "decode_token",
    "encode_token",
    "query_fingerprint",
]


@dataclass(frozen=True, slots=True)
class SortKey:
    column: sa.ColumnElement[Any]
    descending: bool = False


def query_fingerprint(*parts: str | None) -> str:
    return hashlib.sha256("\x00".join(p or "" for p in parts).encode()).hexdigest()[:16]


def encode_token(values: Sequence[Any], fingerprint: str) -> str:
    raw = json.dumps({"v": list(values), "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, fingerprint: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        values = data["v"]
        same_query = data["q"] == fingerprint
    except (ValueError, KeyError, TypeError):
        raise InvalidArgumentError("page_token", "is not a token this store issued") from None
    if not same_query or not isinstance(values, list) or len(values) != width:
        raise InvalidArgumentError(
            "page_token", "belongs to a different query (filter or order_by changed)"
        )
    return values


def _fits(value: Any, kind: sa.types.TypeEngine[Any]) -> bool:
    """Whether a token's `value` can be a value of a column of type `kind` (None: a NULL)."""
    if value is None:
        return True
    if isinstance(kind, sa.Integer):
        return type(value) is int
    if isinstance(kind, sa.Float | sa.Numeric):
        return type(value) in (int, float)
    if isinstance(kind, sa.String):
        return type(value) is str
    return type(value) in (str, int, float, bool)  # a JSON value (metadata order terms)


def check_values(token_values: Sequence[Any], *kinds: sa.types.TypeEngine[Any]) -> None:
    """INVALID_ARGUMENT unless each value of a decoded token fits its column's type: a
    token edited by hand must not reach the database (PostgreSQL would fail the query)."""
    if not all(_fits(v, k) for v, k in zip(token_values, kinds, strict=True)):
        raise InvalidArgumentError("page_token", "is not a token this store issued")


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """Rows strictly after `values` (of a decoded token) in the ordering `keys`.

    Written so the database can seek the sort index to the first such row (an OR of the
    keys alone makes SQLite scan the index from its start on every page): a row-value
    comparison when all keys run one way, else a bound on the first key before the OR.
    """
    check_values(values, *(key.column.type for key in keys))
    if all(key.descending == keys[0].descending for key in keys):
        row = sa.tuple_(*(key.column for key in keys))
        typed = zip(keys, values, strict=True)
        bound = sa.tuple_(*(sa.literal(value, key.column.type) for key, value in typed))
        return row < bound if keys[0].descending else row > bound
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(sa.and_(*equal, beyond))
    first = keys[0]
    lead = first.column <= values[0] if first.descending else first.column >= values[0]
    return sa.and_(lead, sa.or_(*clauses))
