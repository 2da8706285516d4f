"""The filter language: text -> typed AST -> SQLAlchemy expression with bound parameters.

    clause = filter_clause('display_name:"train*" AND create_time > "2024-01-01T00:00:00Z"',
                           target)
    rows = conn.execute(select(table).where(clause) if clause is not None else select(table))

See `parser` for the grammar and precedence, `compiler` for what each restriction means.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from mlineage.query.compiler import compile_filter
from mlineage.query.order_by import OrderTerm, parse_order_by
from mlineage.query.parser import parse_filter
from mlineage.query.target import FilterTarget

__all__ = [
    "OrderTerm",
    "compile_filter",
    "filter_clause",
    "parse_filter",
    "parse_order_by",
]


def filter_clause(text: str | None, target: FilterTarget) -> ColumnElement[bool] | None:
    """Parses and compiles `text` against `target`; None when it is empty or blank."""
    if text is None or not text.strip():
        return None
    return compile_filter(parse_filter(text), target)
