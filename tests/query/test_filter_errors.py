"""Filters that must be refused: the `!!` cases of filters.txt, the limits, and order_by errors."""

from __future__ import annotations

import re

import pytest

from mlineage.errors import InvalidArgumentError
from mlineage.query import compile_filter, filter_clause, parse_filter, parse_order_by
from mlineage.query.parser import MAX_DEPTH, MAX_LENGTH
from mlineage.query.target import FilterTarget

from .test_filters import TARGET, Case, load_cases

POSITION = re.compile(r"^at position \d+: ")


@pytest.mark.parametrize("case", load_cases(errors=True))
def test_bad_filter_is_refused(case: Case) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        compile_filter(parse_filter(case.filter), TARGET)
    error = caught.value
    assert error.field == "filter"
    assert error.code == "INVALID_ARGUMENT"
    assert POSITION.match(error.rule), error.rule
    assert case.expected in error.rule


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="filter: at position 1"):
        filter_clause("nope = 1", TARGET)


def test_too_long() -> None:
    text = 'uri = "' + "x" * (MAX_LENGTH - 8) + '"'
    assert len(text) == MAX_LENGTH
    parse_filter(text)
    with pytest.raises(InvalidArgumentError) as caught:
        parse_filter(text + " ")
    assert caught.value.field == "filter"
    assert caught.value.rule == (
        f"at position {MAX_LENGTH + 1}: expected a filter of at most {MAX_LENGTH} characters, "
        f"found {MAX_LENGTH + 1} characters"
    )


def test_too_deep() -> None:
    text = "(" * (MAX_DEPTH + 1) + 'uri = "a"' + ")" * (MAX_DEPTH + 1)
    with pytest.raises(InvalidArgumentError, match=f"at most {MAX_DEPTH} nested parentheses"):
        parse_filter(text)
    # depth is about nesting, not about how many groups there are
    parse_filter(" AND ".join(["(" * MAX_DEPTH + 'uri = "a"' + ")" * MAX_DEPTH] * 3))


def test_empty_filter_is_refused_by_the_parser() -> None:
    with pytest.raises(InvalidArgumentError, match="at position 1: expected a restriction"):
        parse_filter("")


def test_targets_without_json_or_functions() -> None:
    bare = FilterTarget(kind="executions", fields=TARGET.fields)
    with pytest.raises(InvalidArgumentError) as caught:
        compile_filter(parse_filter('labels.team = "x"'), bare)
    assert "found 'labels.team'" in caught.value.rule
    assert "labels.<key>" not in caught.value.rule
    with pytest.raises(InvalidArgumentError, match=r"a function of executions \(none\)"):
        compile_filter(parse_filter('in_context("c")'), bare)
    with pytest.raises(InvalidArgumentError, match="expected a field of executions"):
        compile_filter(parse_filter("metadata.x.number_value = 1"), bare)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "at position 1: expected a field of artifacts (create_time, display_name, name,"),
        ("create_time desc, nope asc", "at position 19: expected a field of artifacts"),
        ("metadata", "expected a field of artifacts"),
        ("in_context", "expected a field of artifacts"),
        ("create_time down", "at position 13: expected asc, desc or ',', found 'down'"),
        ("create_time desc asc", "at position 18: expected ',' or the end, found 'asc'"),
        ("create_time,,display_name", "at position 13: expected a field name, found an empty term"),
        ("create_time,", "at position 13: expected a field name, found an empty term"),
        (", create_time", "at position 1: expected a field name, found an empty term"),
        ("create_time, create_time desc", "at position 14: expected each field at most once"),
    ],
)
def test_bad_order_by(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        parse_order_by(text, TARGET)
    assert caught.value.field == "order_by"
    assert message in caught.value.rule
