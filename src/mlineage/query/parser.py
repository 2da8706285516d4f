"""Filter text -> `ast.Expr`: a tokenizer and a recursive-descent parser for AIP-160 filters.

The grammar is AIP-160's (https://google.aip.dev/160 and its EBNF), restricted to what
Vertex ML Metadata documents::

    filter      = expression EOF
    expression  = sequence { "AND" sequence }
    sequence    = factor { factor }                 (juxtaposition: an implicit AND)
    factor      = term { "OR" term }
    term        = [ "NOT" | "-" ] simple
    simple      = restriction | "(" expression ")"
    restriction = name "(" [ value { "," value } ] ")"
                | member comparator value
    member      = segment { "." segment }           (a segment is a name or a quoted string)
    comparator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
    value       = string | number | word | "*"

Precedence follows AIP-160, which differs from SQL and most languages: **OR binds tighter
than AND**, so `a AND b OR c` means `a AND (b OR c)`. Juxtaposition sits between them:
`a b OR c` is `a AND (b OR c)` and `a OR b c` is `(a OR b) AND c`. `AND`, `OR` and `NOT` are
keywords only in upper case, as AIP-160 requires. Use parentheses when in doubt.

Strings take double or single quotes; escapes are `\\\\`, `\\"`, `\\'`, `\\*` (a literal
star, never a wildcard), `\\n`, `\\r` and `\\t`. A number is `12`, `-3`, `2.5` or `1e-3`.
After a `.`, a segment may also start with a digit or be a keyword (`metadata.1st.string_value`).

Limits: at most `MAX_LENGTH` characters and `MAX_DEPTH` nested parentheses (Vertex promises 5).
Every error is `InvalidArgumentError("filter", "at position N: expected ..., found ...")`
with N the 1-based column.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

from mlineage.errors import InvalidArgumentError
from mlineage.query import ast

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "parse_filter"]

MAX_LENGTH = 8_000
"""The longest filter accepted, in characters."""
MAX_DEPTH = 32
"""The deepest nesting of parentheses accepted."""


class _Kind(enum.Enum):
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    DOT = "'.'"
    MINUS = "'-'"
    STAR = "'*'"
    COMPARATOR = "comparator"
    STRING = "string"
    NUMBER = "number"
    WORD = "word"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    EOF = "the end of the filter"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    """The token as written (for STRING: the decoded value)."""
    pos: int
    """1-based column of the first character."""
    end: int
    """1-based column just after the last character."""
    wildcard: bool = False
    """For STRING: ends with an unescaped `*`."""

    def describe(self) -> str:
        if self.kind is _Kind.STRING:
            return f"string {self.text!r}"
        if self.kind in (_Kind.WORD, _Kind.NUMBER, _Kind.COMPARATOR):
            return f"{self.kind.value} {self.text!r}"
        return str(self.kind.value)


def _error(pos: int, expected: str, found: str) -> InvalidArgumentError:
    return InvalidArgumentError("filter", f"at position {pos}: expected {expected}, found {found}")


# --- tokenizer ---

_SINGLE = {
    "(": _Kind.LPAREN,
    ")": _Kind.RPAREN,
    ",": _Kind.COMMA,
    ".": _Kind.DOT,
    "-": _Kind.MINUS,
    "*": _Kind.STAR,
}
_COMPARATORS = ("!=", "<=", ">=", "=", "<", ">", ":")
_KEYWORDS = {"AND": _Kind.AND, "OR": _Kind.OR, "NOT": _Kind.NOT}
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_]+")
"""A member segment right after a '.': may start with a digit, keywords are plain words."""
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "*": "*", "n": "\n", "r": "\r", "t": "\t"}
_ESCAPES_TEXT = "\\\\, \\\", \\', \\*, \\n, \\r or \\t"
_SPACE = " \t\r\n"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while True:
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i == len(text):
            tokens.append(_Token(_Kind.EOF, "", i + 1, i + 1))
            return tokens
        char = text[i]
        after_dot = bool(tokens) and tokens[-1].kind is _Kind.DOT and tokens[-1].end == i + 1
        if after_dot and (match := _SEGMENT_RE.match(text, i)):
            tokens.append(_Token(_Kind.WORD, match.group(), i + 1, match.end() + 1))
            i = match.end()
        elif char in _SINGLE:
            tokens.append(_Token(_SINGLE[char], char, i + 1, i + 2))
            i += 1
        elif char in "\"'":
            token = _string(text, i)
            tokens.append(token)
            i = token.end - 1
        elif comparator := next((c for c in _COMPARATORS if text.startswith(c, i)), None):
            tokens.append(_Token(_Kind.COMPARATOR, comparator, i + 1, i + 1 + len(comparator)))
            i += len(comparator)
        elif match := _NUMBER_RE.match(text, i):
            tokens.append(_Token(_Kind.NUMBER, match.group(), i + 1, match.end() + 1))
            i = match.end()
        elif match := _WORD_RE.match(text, i):
            word = match.group()
            tokens.append(_Token(_KEYWORDS.get(word, _Kind.WORD), word, i + 1, match.end() + 1))
            i = match.end()
        elif char == "!":
            raise _error(i + 1, "'!=' (negation is NOT or -)", "'!'")
        else:
            raise _error(i + 1, "a field, a value, an operator or a parenthesis", repr(char))


def _string(text: str, start: int) -> _Token:
    """Reads the quoted string opening at `text[start]`."""
    quote = text[start]
    chars: list[str] = []
    wildcard = False
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return _Token(_Kind.STRING, "".join(chars), start + 1, i + 2, wildcard)
        if char == "\\":
            escaped = text[i + 1] if i + 1 < len(text) else ""
            if escaped not in _ESCAPES:
                found = f"'\\{escaped}'" if escaped else "the end of the filter"
                raise _error(i + 1, f"an escape sequence ({_ESCAPES_TEXT})", found)
            chars.append(_ESCAPES[escaped])
            wildcard = False
            i += 2
            continue
        chars.append(char)
        wildcard = char == "*"
        i += 1
    raise _error(
        start + 1, f"a closing {quote} for the string that starts here", "the end of the filter"
    )


# --- parser ---

_TERM_START = {_Kind.WORD, _Kind.STRING, _Kind.LPAREN, _Kind.NOT, _Kind.MINUS}
_OPERATORS = {op.value: op for op in ast.Operator}
_COMPARATOR_TEXT = "a comparison operator (=, !=, <, <=, >, >= or :)"
_VALUE_TEXT = "a value (a quoted string, a number, true, false, a name or *)"


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._index = 0
        self._depth = 0

    def _peek(self, ahead: int = 0) -> _Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self._index += 1
        return token

    def parse(self) -> ast.Expr:
        if self._peek().kind is _Kind.EOF:
            raise _error(
                self._peek().pos, 'a restriction such as display_name = "x"', "an empty filter"
            )
        expr = self._expression()
        token = self._peek()
        if token.kind is _Kind.RPAREN:
            raise _error(token.pos, "AND, OR or the end of the filter", "')' with no matching '('")
        if token.kind is not _Kind.EOF:
            raise _error(token.pos, "AND, OR or the end of the filter", token.describe())
        return expr

    def _expression(self) -> ast.Expr:
        first = self._sequence()
        items = [first]
        while self._peek().kind is _Kind.AND:
            self._next()
            items.append(self._sequence())
        return first if len(items) == 1 else ast.And(tuple(items), first.pos)

    def _sequence(self) -> ast.Expr:
        first = self._factor()
        items = [first]
        while self._peek().kind in _TERM_START:
            items.append(self._factor())
        return first if len(items) == 1 else ast.And(tuple(items), first.pos)

    def _factor(self) -> ast.Expr:
        first = self._term()
        items = [first]
        while self._peek().kind is _Kind.OR:
            self._next()
            items.append(self._term())
        return first if len(items) == 1 else ast.Or(tuple(items), first.pos)

    def _term(self) -> ast.Expr:
        start = self._peek().pos
        negations = 0
        while self._peek().kind in (_Kind.NOT, _Kind.MINUS):
            self._next()
            negations += 1
        operand = self._simple()
        # NOT NOT x is x in two- and three-valued logic alike; folding keeps the tree shallow.
        return ast.Not(operand, start) if negations % 2 else operand

    def _simple(self) -> ast.Expr:
        token = self._peek()
        if token.kind is not _Kind.LPAREN:
            return self._restriction()
        self._next()
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _error(
                token.pos,
                f"at most {MAX_DEPTH} nested parentheses",
                f"'(' at depth {self._depth}",
            )
        expr = self._expression()
        closing = self._next()
        if closing.kind is not _Kind.RPAREN:
            raise _error(
                closing.pos,
                f"AND, OR or ')' to close the '(' at position {token.pos}",
                closing.describe(),
            )
        self._depth -= 1
        return expr

    def _restriction(self) -> ast.Expr:
        token = self._peek()
        if token.kind is _Kind.WORD and self._peek(1).kind is _Kind.LPAREN:
            return self._call()
        member = self._member()
        comparator = self._next()
        if comparator.kind is not _Kind.COMPARATOR:
            hint = ""
            if len(member.path) == 1 and member.path[0].upper() in _KEYWORDS:
                hint = f" (logical operators are upper case: {member.path[0].upper()})"
            raise _error(
                comparator.pos,
                f"{_COMPARATOR_TEXT} after {member.dotted}{hint}",
                comparator.describe(),
            )
        value = self._value()
        if comparator.text == ":":
            return ast.Has(member, value, member.pos)
        return ast.Comparison(member, _OPERATORS[comparator.text], value, member.pos)

    def _member(self) -> ast.Member:
        start = self._peek().pos
        path: list[str] = []
        quoted: list[bool] = []
        while True:
            token = self._next()
            if token.kind not in (_Kind.WORD, _Kind.STRING):
                expected = "a field name, a function call, NOT or '('" if not path else "a key"
                raise _error(token.pos, expected, token.describe())
            path.append(token.text)
            quoted.append(token.kind is _Kind.STRING)
            if self._peek().kind is not _Kind.DOT:
                return ast.Member(tuple(path), tuple(quoted), start)
            self._next()

    def _call(self) -> ast.Call:
        name = self._next()
        self._next()  # "("
        args: list[ast.Literal] = []
        if self._peek().kind is not _Kind.RPAREN:
            args.append(self._value())
            while self._peek().kind is _Kind.COMMA:
                self._next()
                args.append(self._value())
        closing = self._next()
        if closing.kind is not _Kind.RPAREN:
            raise _error(
                closing.pos,
                f"',' or ')' to close the call to {name.text}() at position {name.pos}",
                closing.describe(),
            )
        return ast.Call(name.text, tuple(args), name.pos)

    def _value(self) -> ast.Literal:
        token = self._next()
        if token.kind is _Kind.STRING:
            return ast.String(token.text, token.pos, token.wildcard)
        if token.kind is _Kind.WORD:
            return ast.Word(token.text, token.pos)
        if token.kind is _Kind.STAR:
            return ast.Star(token.pos)
        if token.kind is _Kind.NUMBER:
            return _number(token.text, token.pos)
        if token.kind is _Kind.MINUS:
            digits = self._next()
            if digits.kind is not _Kind.NUMBER or digits.pos != token.end:
                raise _error(digits.pos, "a number right after '-'", digits.describe())
            return _number("-" + digits.text, token.pos)
        raise _error(token.pos, _VALUE_TEXT, token.describe())


def _number(text: str, pos: int) -> ast.Number:
    value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise _error(pos, "a finite number", f"number {text!r}")
    return ast.Number(value, text, pos)


def parse_filter(text: str) -> ast.Expr:
    """Parses an AIP-160 filter into its syntax tree.

    Raises `InvalidArgumentError` (field "filter") with the 1-based position of the problem.
    An empty filter is an error here; `mlineage.query.filter_clause` treats it as "no filter".
    """
    if len(text) > MAX_LENGTH:
        raise _error(
            MAX_LENGTH + 1,
            f"a filter of at most {MAX_LENGTH} characters",
            f"{len(text)} characters",
        )
    return _Parser(text).parse()
