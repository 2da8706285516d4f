"""The typed syntax tree of a filter, as `parse_filter` builds it and `compile_filter` reads it.

Every node is a frozen dataclass carrying `pos`, the 1-based column where it starts in
the filter text, so that errors found while compiling can point at the source.

    Expr = Comparison | Has | Call | And | Or | Not
    Literal = String | Number | Word | Star
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "And",
    "Call",
    "Comparison",
    "Expr",
    "Has",
    "Literal",
    "Member",
    "Not",
    "Number",
    "Operator",
    "Or",
    "Star",
    "String",
    "Word",
    "describe",
]


class Operator(enum.Enum):
    """A comparison operator; the value is how it is spelt in a filter."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


# --- literals (the right-hand side of a restriction, or a function argument) ---


@dataclass(frozen=True, slots=True)
class String:
    """A quoted string, escapes resolved.

    `wildcard` is True when the text ended with an unescaped `*`; `value` keeps that `*`
    (it is a plain character for `=`), `prefix` drops it (for the `:` prefix match).
    """

    value: str
    pos: int
    wildcard: bool = False

    @property
    def prefix(self) -> str:
        return self.value[:-1] if self.wildcard else self.value


@dataclass(frozen=True, slots=True)
class Number:
    """An int or float literal; `text` is its spelling in the filter."""

    value: int | float
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Word:
    """A bare word such as `true`, `false` or an enum name like `LIVE`."""

    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Star:
    """A bare `*`, as in `metadata.key:*` (the key is present)."""

    pos: int


Literal = String | Number | Word | Star


# --- the left-hand side ---


@dataclass(frozen=True, slots=True)
class Member:
    """A dotted field path such as `metadata."field:1".number_value`.

    `quoted[i]` tells whether `path[i]` was written in quotes (a quoted segment is always a
    key, never a keyword like `number_value`).
    """

    path: tuple[str, ...]
    quoted: tuple[bool, ...]
    pos: int

    @property
    def dotted(self) -> str:
        """The path as the user would write it (quoting segments that need it)."""
        return ".".join(
            f'"{part}"' if quoted else part
            for part, quoted in zip(self.path, self.quoted, strict=True)
        )


# --- expressions ---


@dataclass(frozen=True, slots=True)
class Comparison:
    """`member <op> value`, e.g. `create_time > "2020-11-19T11:30:00Z"`."""

    member: Member
    op: Operator
    value: Literal
    pos: int


@dataclass(frozen=True, slots=True)
class Has:
    """`member : value`, e.g. `display_name:"train*"` or `parent_contexts:"..."`."""

    member: Member
    value: Literal
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as `in_context("projects/.../contexts/c1")`."""

    name: str
    args: tuple[Literal, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class And:
    """All of `items` hold (two or more)."""

    items: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of `items` holds (two or more)."""

    items: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Not:
    """`NOT operand` or `-operand`."""

    operand: Expr
    pos: int


Expr = Comparison | Has | Call | And | Or | Not


def describe(literal: Literal) -> str:
    """How a literal reads in an error message: `string "x"`, `number 5`, ..."""
    if isinstance(literal, String):
        return f"string {literal.value!r}"
    if isinstance(literal, Number):
        return f"number {literal.text}"
    if isinstance(literal, Word):
        return f"word {literal.value}"
    return "*"
