"""`ast.Expr` -> one SQLAlchemy boolean expression over a `FilterTarget`, bound parameters only.

What each restriction means:

- Plain fields (`target.fields`): `=`, `!=`, `<`, `<=`, `>`, `>=` against a quoted string.
  TIME fields take an RFC 3339 timestamp and compare integer microseconds since the epoch
  (digits past microseconds are dropped). ENUM fields take a name (quoted or bare, any case)
  and allow only `=` and `!=`. RESOURCE_NAME fields compare the last `/` segment of the
  literal, so a full resource name and a bare id both work.
- `field:"text"` on a string field is equality; `field:"text*"` is a prefix match (exact and
  case-sensitive on every database; `\\*` in the literal is a plain star).
- `labels.<key> <op> "v"`, `labels.<key>:"v*"`, `labels:"key"` and `labels.<key>:*`.
- `metadata.<key>[.<key>...].<number_value|string_value|bool_value> <op> <literal>`; a value
  only matches a literal of its own JSON type (a string "5" is not `number_value = 5`, and
  `5` and `5.0` are equal). `metadata.<keys>:*` and `metadata[.<keys>]:"key"` test presence;
  `metadata.<keys>.number_value:*` tests presence with that type. A quoted segment is always
  a key: `metadata."string_value".number_value` reads the key `string_value`.
- Functions (`in_context("...")`), HAS fields (`parent_contexts:"..."`) and run values
  (`param.<key>`, `metric.<key>`; a dotted key `param.a.b` is the key `a.b`) are delegated to
  the predicate builders of the target.

**Absent keys never match** (AIP-160: a restriction on an unset field is false), whatever the
operator: `metadata.x.number_value != 5` and `labels.team != "a"` are false when the key is
absent or of another type. Each such restriction is two-valued (never SQL NULL), so `NOT`
is its exact complement: `NOT metadata.x.number_value = 5` matches rows without `x`.

Plain field columns are compared as they are: they should be NOT NULL.

JSON access is the one dialect difference; it lives in the table right below, with SQLite
(json_type / json_extract) and PostgreSQL (jsonb_typeof / #> / #>>, JSONB or JSON) filled in.
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Dialect,
    Float,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from mlineage.errors import InvalidArgumentError
from mlineage.query import ast
from mlineage.query.target import Field, FieldType, FilterTarget

__all__ = ["compile_filter", "rfc3339_to_micros"]


# --- the dialect table: JSON on SQLite and PostgreSQL -------------------------------------


class JsonKind(enum.Enum):
    """The JSON type a metadata or label restriction asks for."""

    ANY = "any"
    NUMBER = "number"
    STRING = "string"
    BOOLEAN = "boolean"


_JSON_TYPE_NAMES: dict[str, dict[JsonKind, tuple[str, ...]]] = {
    # json_type(doc, '$."a"."b"'): NULL when absent
    "sqlite": {
        JsonKind.NUMBER: ("integer", "real"),
        JsonKind.STRING: ("text",),
        JsonKind.BOOLEAN: ("true", "false"),
    },
    # jsonb_typeof(doc #> '{a,b}'): NULL when absent
    "postgresql": {
        JsonKind.NUMBER: ("number",),
        JsonKind.STRING: ("string",),
        JsonKind.BOOLEAN: ("boolean",),
    },
}
_VALUE_TYPES: dict[JsonKind, TypeEngine[Any]] = {
    JsonKind.NUMBER: Float(),
    JsonKind.STRING: Text(),
    JsonKind.BOOLEAN: Boolean(),
}


def _sqlite_path(keys: Sequence[str]) -> str:
    return "$" + "".join(f'."{key}"' for key in keys)


def _json_parts(element: FunctionElement[Any], dialect: Dialect) -> tuple[Any, Any]:
    """(the JSON type name of the value at the path, NULL when absent; the raw value)."""
    doc, path = element.clauses
    if dialect.name == "sqlite":
        return func.json_type(doc, path), func.json_extract(doc, path)
    if dialect.name == "postgresql":
        pg_path = cast(path, ARRAY(Text))
        is_jsonb = isinstance(doc.type.dialect_impl(dialect), postgresql.JSONB)
        typeof = func.jsonb_typeof if is_jsonb else func.json_typeof
        text = doc.op("#>>", return_type=Text)(pg_path)
        return typeof(doc.op("#>")(pg_path)), text
    raise CompileError(f"mlineage filters support sqlite and postgresql, not {dialect.name}")


def _type_test(type_name: Any, dialect: Dialect, kind: JsonKind) -> ColumnElement[bool]:
    """Two-valued: false (never NULL) when the value is absent or of another type."""
    if kind is JsonKind.ANY:
        return type_name.is_not(None)  # type: ignore[no-any-return]
    names = _JSON_TYPE_NAMES[dialect.name][kind]
    return func.coalesce(type_name.in_([literal(name) for name in names]), false())


class _JsonPath(TypeDecorator[tuple[str, ...]]):
    """A bound JSON path: `$."a"."b"` on SQLite, a text[] on PostgreSQL."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return None if value is None else list(value)
        return _sqlite_path(value)


class _JsonElement(FunctionElement[Any]):
    """A JSON test or value at a key path. `kind` is a class attribute so that it is part
    of SQLAlchemy's statement cache key (the path is a bound parameter)."""

    inherit_cache = True
    kind: ClassVar[JsonKind]

    def __init__(self, doc: ColumnElement[Any], keys: tuple[str, ...]) -> None:
        super().__init__(doc, bindparam(None, keys, type_=_JsonPath()))


class _JsonTest(_JsonElement):
    """True when a value of `kind` is at the path, else false (never NULL)."""

    inherit_cache = True
    type = Boolean()


class _JsonValue(_JsonElement):
    """The scalar at the path as an SQL value of `kind`; NULL when absent or of another type."""

    inherit_cache = True


class _IsPresent(_JsonTest):
    inherit_cache = True
    kind = JsonKind.ANY


class _IsNumber(_JsonTest):
    inherit_cache = True
    kind = JsonKind.NUMBER


class _IsString(_JsonTest):
    inherit_cache = True
    kind = JsonKind.STRING


class _IsBoolean(_JsonTest):
    inherit_cache = True
    kind = JsonKind.BOOLEAN


class _NumberValue(_JsonValue):
    inherit_cache = True
    kind = JsonKind.NUMBER
    type = Float()


class _StringValue(_JsonValue):
    inherit_cache = True
    kind = JsonKind.STRING
    type = Text()


class _BooleanValue(_JsonValue):
    inherit_cache = True
    kind = JsonKind.BOOLEAN
    type = Boolean()


_TESTS: dict[JsonKind, type[_JsonTest]] = {
    cls.kind: cls for cls in (_IsPresent, _IsNumber, _IsString, _IsBoolean)
}
_VALUES: dict[JsonKind, type[_JsonValue]] = {
    cls.kind: cls for cls in (_NumberValue, _StringValue, _BooleanValue)
}


@compiles(_JsonTest)
def _compile_test(element: _JsonTest, compiler: SQLCompiler, **kw: Any) -> str:
    type_name, _ = _json_parts(element, compiler.dialect)
    return compiler.process(_type_test(type_name, compiler.dialect, element.kind), **kw)


@compiles(_JsonValue)
def _compile_value(element: _JsonValue, compiler: SQLCompiler, **kw: Any) -> str:
    type_name, value = _json_parts(element, compiler.dialect)
    if compiler.dialect.name == "postgresql":
        # #>> yields text; cast only when the type is right (PostgreSQL may evaluate the
        # cast before the type test of the surrounding AND, and "abc"::float raises).
        if element.kind is JsonKind.STRING:
            value = value.collate("C")  # compare by code point, as SQLite does (see 0003)
        else:
            value = cast(value, _VALUE_TYPES[element.kind])
        value = case((_type_test(type_name, compiler.dialect, element.kind), value))
    return compiler.process(value, **kw)


# --- literals -----------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_RULE = 'an RFC 3339 timestamp such as "2020-11-19T11:30:00-04:00"'


def rfc3339_to_micros(text: str) -> int | None:
    """Microseconds since the Unix epoch for an RFC 3339 timestamp, or None if it is not one.

    The offset is required (`Z` or `+hh:mm`); fractional digits past microseconds are dropped.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    micros = int((match[7] or "").ljust(6, "0")[:6])
    offset = timedelta(0)
    if match[9]:
        hours, minutes = int(match[10]), int(match[11])
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if match[9] == "-" else 1)
    try:
        moment = datetime(year, month, day, hour, minute, second, micros, timezone(offset))
    except ValueError:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


# --- the compiler -------------------------------------------------------------------------

_COMPARE: dict[ast.Operator, Callable[[Any, Any], Any]] = {
    ast.Operator.EQ: operator.eq,
    ast.Operator.NE: operator.ne,
    ast.Operator.LT: operator.lt,
    ast.Operator.LE: operator.le,
    ast.Operator.GT: operator.gt,
    ast.Operator.GE: operator.ge,
}
_VALUE_SUFFIXES = {
    "number_value": JsonKind.NUMBER,
    "string_value": JsonKind.STRING,
    "bool_value": JsonKind.BOOLEAN,
}
_BOOLEANS = {"true": True, "false": False}
_ALL_OPS = "=, !=, <, <=, >, >="

Restriction = ast.Comparison | ast.Has


def _fail(pos: int, rule: str) -> InvalidArgumentError:
    return InvalidArgumentError("filter", f"at position {pos}: {rule}")


def _op_text(node: Restriction) -> str:
    return "':'" if isinstance(node, ast.Has) else f"'{node.op.value}'"


def _prefix(value: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """`value` starts with `prefix`: LIKE (index-friendly, escaped) plus an exact,
    case-sensitive check (SQLite's LIKE ignores ASCII case)."""
    return and_(
        value.startswith(prefix, autoescape=True),
        func.substr(value, 1, len(prefix)) == literal(prefix, Text()),
    )


def _string_match(value: ColumnElement[Any], node: Restriction, literal_: ast.String) -> Any:
    """`=`/`!=`/... on a string, or `:` (equality, or prefix with a trailing `*`)."""
    if isinstance(node, ast.Has):
        if literal_.wildcard:
            return _prefix(value, literal_.prefix)
        return value == literal(literal_.value, Text())
    return _COMPARE[node.op](value, literal(literal_.value, Text()))


class _Compiler:
    def __init__(self, target: FilterTarget) -> None:
        self.target = target

    def compile(self, expr: ast.Expr) -> ColumnElement[bool]:
        if isinstance(expr, ast.And):
            return and_(*(self.compile(item) for item in expr.items))
        if isinstance(expr, ast.Or):
            return or_(*(self.compile(item) for item in expr.items))
        if isinstance(expr, ast.Not):
            return not_(self.compile(expr.operand))
        if isinstance(expr, ast.Call):
            return self._call(expr)
        return self._restriction(expr)

    # --- dispatch on the member ---

    def _restriction(self, node: Restriction) -> ColumnElement[bool]:
        target = self.target
        head, *rest = node.member.path
        if head in target.fields and not rest:
            return self._plain(node, head, target.fields[head])
        if head in target.has_fields and not rest:
            return self._has_field(node, head)
        if head == "metadata" and target.metadata_column is not None:
            return self._metadata(node, target.metadata_column, tuple(rest))
        if head == "labels" and target.labels_column is not None:
            return self._labels(node, target.labels_column, tuple(rest))
        if head in target.run_values and rest:
            return self._run_value(node, head, ".".join(rest))
        if head in target.fields:
            raise _fail(node.pos, f"{head}: expected no sub-field, found {node.member.dotted!r}")
        raise _fail(
            node.pos,
            f"expected a field of {target.kind} ({', '.join(self._allowed())}), "
            f"found {node.member.dotted!r}",
        )

    def _allowed(self) -> list[str]:
        target = self.target
        names = sorted(target.fields)
        names += [f"{name}:<name>" for name in sorted(target.has_fields)]
        if target.labels_column is not None:
            names.append("labels.<key>")
        if target.metadata_column is not None:
            names.append("metadata.<key>.<number_value|string_value|bool_value>")
        names += [f"{prefix}.<key>" for prefix in sorted(target.run_values)]
        return names

    # --- plain fields ---

    def _plain(self, node: Restriction, name: str, field: Field) -> ColumnElement[bool]:
        value = node.value
        if field.type is FieldType.ENUM:
            return self._enum(node, name, field)
        if isinstance(node, ast.Has) and field.type is FieldType.TIME:
            raise _fail(node.pos, f"{name}: expected one of {_ALL_OPS}, found ':'")
        if not isinstance(value, ast.String):
            what = _TIME_RULE if field.type is FieldType.TIME else "a quoted string"
            raise _fail(value.pos, f"{name}: expected {what}, found {ast.describe(value)}")
        if field.type is FieldType.TIME:
            assert isinstance(node, ast.Comparison)
            micros = rfc3339_to_micros(value.value)
            if micros is None:
                raise _fail(value.pos, f"{name}: expected {_TIME_RULE}, found {value.value!r}")
            return _COMPARE[node.op](field.column, literal(micros))  # type: ignore[no-any-return]
        if field.type is FieldType.RESOURCE_NAME:
            value = ast.String(value.value.rsplit("/", 1)[-1], value.pos, value.wildcard)
        return _string_match(field.column, node, value)  # type: ignore[no-any-return]

    def _enum(self, node: Restriction, name: str, field: Field) -> ColumnElement[bool]:
        if not isinstance(node, ast.Comparison) or node.op not in (
            ast.Operator.EQ,
            ast.Operator.NE,
        ):
            raise _fail(node.pos, f"{name}: expected = or != (an enum), found {_op_text(node)}")
        value = node.value
        allowed = ", ".join(sorted(field.enum_names))
        if not isinstance(value, ast.String | ast.Word):
            raise _fail(
                value.pos, f"{name}: expected one of {allowed}, found {ast.describe(value)}"
            )
        by_upper = {enum_name.upper(): enum_name for enum_name in field.enum_names}
        enum_name = by_upper.get(value.value.upper())
        if enum_name is None:
            raise _fail(value.pos, f"{name}: expected one of {allowed}, found {value.value!r}")
        return _COMPARE[node.op](field.column, literal(enum_name, Text()))  # type: ignore[no-any-return]

    # --- delegated predicates ---

    def _call(self, call: ast.Call) -> ColumnElement[bool]:
        build = self.target.functions.get(call.name)
        if build is None:
            available = ", ".join(f"{name}()" for name in sorted(self.target.functions))
            raise _fail(
                call.pos,
                f"expected a function of {self.target.kind} ({available or 'none'}), "
                f"found {call.name}()",
            )
        if len(call.args) != 1 or not isinstance(call.args[0], ast.String):
            found = ", ".join(ast.describe(arg) for arg in call.args) or "no argument"
            raise _fail(
                call.pos, f"{call.name}(): expected one quoted resource name, found {found}"
            )
        return build(call.args[0].value)

    def _has_field(self, node: Restriction, name: str) -> ColumnElement[bool]:
        if not isinstance(node, ast.Has):
            raise _fail(
                node.pos, f"{name}: expected ':' (as in {name}:\"<name>\"), found {_op_text(node)}"
            )
        if not isinstance(node.value, ast.String):
            raise _fail(
                node.value.pos,
                f"{name}: expected a quoted resource name, found {ast.describe(node.value)}",
            )
        return self.target.has_fields[name](node.value.value)

    def _run_value(self, node: Restriction, prefix: str, key: str) -> ColumnElement[bool]:
        field = f"{prefix}.{key}"
        if not isinstance(node, ast.Comparison):
            raise _fail(node.pos, f"{field}: expected one of {_ALL_OPS}, found ':'")
        value = node.value
        python: str | int | float | bool
        if isinstance(value, ast.String | ast.Number):
            python = value.value
        elif isinstance(value, ast.Word) and value.value.lower() in _BOOLEANS:
            python = _BOOLEANS[value.value.lower()]
        else:
            raise _fail(
                value.pos,
                f"{field}: expected a quoted string, a number, true or false, "
                f"found {ast.describe(value)}",
            )
        return self.target.run_values[prefix](key, node.op.value, python)

    # --- JSON: labels and metadata ---

    def _labels(
        self, node: Restriction, doc: ColumnElement[Any], keys: tuple[str, ...]
    ) -> ColumnElement[bool]:
        value = node.value
        if not keys and isinstance(node, ast.Has) and isinstance(value, ast.String):
            return _json_test(doc, (value.value,), JsonKind.ANY, value.pos)
        if len(keys) != 1:
            raise _fail(
                node.pos,
                'labels: expected labels.<key> = "value" or labels:"<key>", '
                f"found {node.member.dotted!r} {_op_text(node)}",
            )
        if isinstance(node, ast.Has) and isinstance(value, ast.Star):
            return _json_test(doc, keys, JsonKind.ANY, node.pos)
        if not isinstance(value, ast.String):
            raise _fail(
                value.pos,
                f"{node.member.dotted}: expected a quoted string, found {ast.describe(value)}",
            )
        return _json_compare(doc, keys, JsonKind.STRING, node)

    def _metadata(
        self, node: Restriction, doc: ColumnElement[Any], path: tuple[str, ...]
    ) -> ColumnElement[bool]:
        quoted = node.member.quoted[1:]
        kind: JsonKind | None = None
        if path and not quoted[-1] and path[-1] in _VALUE_SUFFIXES:
            kind, path = _VALUE_SUFFIXES[path[-1]], path[:-1]
            if not path:
                raise _fail(
                    node.pos,
                    f"expected metadata.<key>.{node.member.path[-1]}, found {node.member.dotted!r}",
                )
        value = node.value
        if isinstance(node, ast.Has) and isinstance(value, ast.Star) and path:
            return _json_test(doc, path, kind or JsonKind.ANY, node.pos)
        if kind is None:
            if isinstance(node, ast.Has) and isinstance(value, ast.String):
                return _json_test(doc, (*path, value.value), JsonKind.ANY, value.pos)
            raise _fail(
                node.pos,
                f"{node.member.dotted}: expected a value type after the key "
                "(.number_value, .string_value or .bool_value) or a presence test (:*), "
                f"found {_op_text(node)}",
            )
        field = node.member.dotted
        if kind is JsonKind.NUMBER:
            if not isinstance(value, ast.Number) or isinstance(node, ast.Has):
                raise _fail(
                    value.pos,
                    f"{field}: expected {_ALL_OPS} and a number, found "
                    f"{_op_text(node)} {ast.describe(value)}",
                )
        elif kind is JsonKind.BOOLEAN:
            if (
                not isinstance(node, ast.Comparison)
                or node.op not in (ast.Operator.EQ, ast.Operator.NE)
                or not isinstance(value, ast.Word)
                or value.value.lower() not in _BOOLEANS
            ):
                raise _fail(
                    value.pos,
                    f"{field}: expected = or != and true or false, found "
                    f"{_op_text(node)} {ast.describe(value)}",
                )
        elif not isinstance(value, ast.String):
            raise _fail(
                value.pos, f"{field}: expected a quoted string, found {ast.describe(value)}"
            )
        return _json_compare(doc, path, kind, node)


def _check_keys(keys: tuple[str, ...], pos: int) -> None:
    for key in keys:
        if '"' in key:
            raise _fail(pos, f"expected a JSON key without '\"', found {key!r}")


def _json_test(
    doc: ColumnElement[Any], keys: tuple[str, ...], kind: JsonKind, pos: int
) -> ColumnElement[bool]:
    _check_keys(keys, pos)
    return _TESTS[kind](doc, keys)


def _json_compare(
    doc: ColumnElement[Any], keys: tuple[str, ...], kind: JsonKind, node: Restriction
) -> ColumnElement[bool]:
    """Typed comparison at `keys`, false when the key is absent or of another type."""
    _check_keys(keys, node.pos)
    value = _VALUES[kind](doc, keys)
    literal_ = node.value
    if isinstance(literal_, ast.String):
        match = _string_match(value, node, literal_)
    elif isinstance(literal_, ast.Number):
        assert isinstance(node, ast.Comparison)
        match = _COMPARE[node.op](value, literal(float(literal_.value), Float()))
    else:
        assert isinstance(node, ast.Comparison)
        assert isinstance(literal_, ast.Word)
        flag = _BOOLEANS[literal_.value.lower()]
        match = _COMPARE[node.op](value, literal(flag, Boolean()))
    # The comparison first: SQLite tests the terms of an AND in order and stops at the first
    # false one, so the type test (a second parse of the JSON) only runs where values match.
    return and_(match, _TESTS[kind](doc, keys))


def compile_filter(expr: ast.Expr, target: FilterTarget) -> ColumnElement[bool]:
    """Compiles a parsed filter into one boolean SQLAlchemy expression over `target`.

    Every literal becomes a bound parameter. Raises `InvalidArgumentError` (field
    "filter") for unknown fields or functions and for literals of the wrong type.
    """
    return _Compiler(target).compile(expr)
