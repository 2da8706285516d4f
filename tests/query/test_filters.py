"""Filters that must match: the `=>` cases of filters.txt run on SQLite and PostgreSQL.

The fixture is self-contained (no store package): an `artifacts` table, `memberships`
behind `in_context(...)`, `parent_contexts:` and `child_contexts:`, and `run_values` behind
`param.` and `metric.`; the FilterTarget below wires them up as the store would.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mlineage.query import ast as q
from mlineage.query import (
    compile_filter,
    filter_clause,
    parse_filter,
    parse_order_by,
)
from mlineage.query.compiler import rfc3339_to_micros
from mlineage.query.target import Field, FieldType, FilterTarget

FILTERS = Path(__file__).with_name("filters.txt")

metadata_obj = sa.MetaData()
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")  # as the store's schema
artifacts = sa.Table(
    "artifacts",
    metadata_obj,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("resource_id", sa.String, nullable=False),
    sa.Column("display_name", sa.String, nullable=False),
    sa.Column("uri", sa.String, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("schema_title", sa.String, nullable=False),
    sa.Column("schema_version", sa.String, nullable=False),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("update_time", sa.BigInteger, nullable=False),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("labels", Json, nullable=False),
)
memberships = sa.Table(
    "memberships",
    metadata_obj,
    sa.Column("context_name", sa.String, nullable=False),
    sa.Column("artifact_id", sa.Integer, nullable=False),
    sa.Column("relation", sa.String, nullable=False),
)
run_values = sa.Table(
    "run_values",
    metadata_obj,
    sa.Column("artifact_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("value_number", sa.Float),
    sa.Column("value_text", sa.String),
)


def _t(text: str) -> int:
    micros = rfc3339_to_micros(text)
    assert micros is not None, text
    return micros


def _row(
    id_: int,
    rid: str,
    display_name: str,
    schema_title: str,
    create_time: str,
    metadata: dict[str, Any],
    labels: dict[str, str] | None = None,
    *,
    uri: str = "",
    state: str = "LIVE",
    schema_version: str = "0.0.1",
    update_time: str = "2024-01-01T00:00:00Z",
) -> dict[str, Any]:
    return {
        "id": id_,
        "resource_id": rid,
        "display_name": display_name,
        "uri": uri,
        "state": state,
        "schema_title": schema_title,
        "schema_version": schema_version,
        "create_time": _t(create_time),
        "update_time": _t(update_time),
        "metadata": metadata,
        "labels": labels or {},
    }


# fmt: off
ROWS = [
    _row(1, "ds-raw", "raw data", "system.Dataset", "2020-11-19T15:30:00Z",
         {"rows": 100, "source": "bq", "field:1": 10.0, "split": {"train": 0.8, "name": "random"}},
         {"team": "data"}, uri="gs://b/raw.csv", update_time="2020-11-20T00:00:00Z"),
    _row(2, "ds-train", "train split", "system.Dataset", "2021-01-01T00:00:00Z",
         {"rows": 80, "source": "bq", "split": {"train": 1}},
         {"team": "data", "env": "prod"}, uri="gs://b/train.csv", schema_version="0.0.2"),
    _row(3, "ds-test", "test split", "system.Dataset", "2021-01-01T00:00:00.5Z",
         {"rows": 20.0, "source": "gcs"},
         {"team": "ml"}, uri="gs://b/test.csv", state="PENDING"),
    _row(4, "model-a", "Train_model%1", "system.Model", "2021-06-01T12:00:00Z",
         {"framework": "sklearn", "accuracy": 0.91, "deployed": True, "a.b": 1},
         uri="gs://b/x.csv"),
    _row(5, "model-b", "TrainXmodel 2", "system.Model", "2021-06-02T00:00:00Z",
         {"framework": "tf", "accuracy": 0.85, "deployed": False, "epochs": 5},
         {"env": "dev"}, uri="gs://b/model-b"),
    _row(6, "model-c", "model c", "system.Model", "2022-01-01T00:00:00-05:00",
         {"framework": "tf", "accuracy": "0.95", "deployed": "true", "epochs": 5.0},
         {"env": "prod"}, state="PENDING", schema_version="0.0.2"),
    _row(7, "metrics-1", "metrics", "google.ClassificationMetrics", "2022-03-01T00:00:00Z",
         {"auPrc": 0.7, "confidence": -0.5, "big": 1e10}),
    _row(8, "metrics-2", "metrics", "system.Metrics", "2022-03-01T00:00:01Z",
         {"auPrc": 0.9, "confidence": 1.5e-3}),
    _row(9, "exp-demo", "demo experiment", "system.Experiment", "2023-01-01T00:00:00Z", {}),
    _row(10, "run-1", "run 1", "system.ExperimentRun", "2023-01-02T00:00:00Z",
         {"nested": {"deep": {"value": 3}}}),
    _row(11, "run-2", "run 2", "system.PipelineRun", "2023-01-03T00:00:00Z",
         {"nested": {"deep": {"value": "3"}}}),
    _row(12, "run-3", "O'Brien \"quoted\" \\ run", "system.Run", "2023-01-04T00:00:00+01:30",
         {"note": "it's", "star": "a*b"}, {"owner": "o'brien"}),
]
MEMBERSHIPS = [
    ("exp-demo-run-1", 1, "member"), ("exp-demo-run-1", 4, "member"),
    ("exp-demo-run-1", 7, "member"), ("c", 2, "member"), ("c", 8, "member"),
    ("exp-demo", 10, "parent"), ("exp-demo", 11, "parent"), ("other", 12, "parent"),
    ("run-1", 9, "child"), ("run-2", 9, "child"),
]
RUN_VALUES = [
    (10, "param", "lr", 0.01, None), (10, "param", "optimizer", None, "adam"),
    (10, "param", "batch.size", 32, None), (10, "metric", "accuracy", 0.9, None),
    (10, "metric", "done", 1, None),
    (11, "param", "lr", 0.1, None), (11, "param", "optimizer", None, "sgd"),
    (11, "metric", "accuracy", 0.8, None), (11, "metric", "done", 0, None),
    (12, "param", "lr", None, "auto"), (12, "metric", "accuracy", 0.95, None),
]
# fmt: on

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _resource_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _related(relation: str) -> Callable[[str], sa.ColumnElement[bool]]:
    def build(name: str) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            memberships.c.artifact_id == artifacts.c.id,
            memberships.c.relation == relation,
            memberships.c.context_name == _resource_id(name),
        )

    return build


def _run_value(kind: str) -> Callable[[str, str, Any], sa.ColumnElement[bool]]:
    def build(key: str, op: str, value: Any) -> sa.ColumnElement[bool]:
        column = run_values.c.value_text if isinstance(value, str) else run_values.c.value_number
        compared = float(value) if not isinstance(value, str) else value
        return sa.exists().where(
            run_values.c.artifact_id == artifacts.c.id,
            run_values.c.kind == kind,
            run_values.c.key == key,
            _OPS[op](column, compared),
        )

    return build


TARGET = FilterTarget(
    kind="artifacts",
    fields={
        "name": Field(artifacts.c.resource_id, FieldType.RESOURCE_NAME),
        "display_name": Field(artifacts.c.display_name),
        "uri": Field(artifacts.c.uri),
        "state": Field(artifacts.c.state, FieldType.ENUM, frozenset({"LIVE", "PENDING"})),
        "schema_title": Field(artifacts.c.schema_title),
        "schema_version": Field(artifacts.c.schema_version),
        "create_time": Field(artifacts.c.create_time, FieldType.TIME),
        "update_time": Field(artifacts.c.update_time, FieldType.TIME),
    },
    metadata_column=artifacts.c.metadata,
    labels_column=artifacts.c.labels,
    functions={"in_context": _related("member")},
    has_fields={"parent_contexts": _related("parent"), "child_contexts": _related("child")},
    run_values={"param": _run_value("param"), "metric": _run_value("metric")},
)


def _dicts(table: sa.Table, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(table.c.keys(), row, strict=True)) for row in rows]


@pytest.fixture(scope="module")
def engine(sql_engine: sa.Engine) -> sa.Engine:
    """The fixture rows in a scratch database of each dialect (tests/backends.py)."""
    metadata_obj.create_all(sql_engine)
    with sql_engine.begin() as conn:
        conn.execute(artifacts.insert(), ROWS)
        conn.execute(memberships.insert(), _dicts(memberships, MEMBERSHIPS))
        conn.execute(run_values.insert(), _dicts(run_values, RUN_VALUES))
    return sql_engine


def matching(engine: sa.Engine, clause: sa.ColumnElement[bool]) -> list[str]:
    query = sa.select(artifacts.c.resource_id).where(clause).order_by(artifacts.c.id)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


# --- filters.txt ---


@dataclass(frozen=True)
class Case:
    line: int
    filter: str
    expected: str
    """`=>`: comma-separated resource ids; `!!`: a substring of the error message."""
    is_error: bool

    @property
    def ids(self) -> list[str]:
        return [part.strip() for part in self.expected.split(",") if part.strip()]


def load_cases(*, errors: bool) -> list[Any]:
    cases = []
    for number, raw in enumerate(FILTERS.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if " !! " in line:
            text, _, expected = line.rpartition(" !! ")
            case = Case(number, text.strip(), expected.strip(), True)
        elif " =>" in line:
            text, _, expected = line.rpartition(" =>")
            case = Case(number, text.strip(), expected.strip(), False)
        else:
            raise AssertionError(f"filters.txt:{number}: no ' => ' or ' !! ' in {line!r}")
        if case.is_error == errors:
            cases.append(pytest.param(case, id=f"L{number}: {case.filter}"))
    return cases


@pytest.mark.parametrize("case", load_cases(errors=False))
def test_filter_matches(engine: sa.Engine, case: Case) -> None:
    clause = filter_clause(case.filter, TARGET)
    assert clause is not None
    assert matching(engine, clause) == case.ids


def test_fixture_file_has_both_sections() -> None:
    assert len(load_cases(errors=False)) >= 100
    assert len(load_cases(errors=True)) >= 40


# --- the filters the Vertex SDK sends ---

CONTEXTS = "projects/p/locations/l/metadataStores/default/contexts"
SDK_FILTERS = [
    (
        'in_context("projects/p/locations/us-central1/metadataStores/default/contexts/'
        'exp-demo-run-1")',
        ["ds-raw", "model-a", "metrics-1"],
    ),
    (
        f'schema_title="google.ClassificationMetrics" AND in_context("{CONTEXTS}/exp-demo-run-1")',
        ["metrics-1"],
    ),
    (
        '(schema_title="system.ExperimentRun" OR schema_title="system.PipelineRun") AND '
        f'parent_contexts:"{CONTEXTS}/exp-demo"',
        ["run-1", "run-2"],
    ),
    (
        f'schema_title="system.ExperimentRun" AND parent_contexts:"{CONTEXTS}/exp-demo"',
        ["run-1"],
    ),
    (f'(schema_title="system.Run") AND in_context("{CONTEXTS}/c")', []),
    (f'(schema_title="system.Metrics") AND in_context("{CONTEXTS}/c")', ["metrics-2"]),
    ('schema_title="system.Experiment"', ["exp-demo"]),
    ('uri = "gs://b/x.csv"', ["model-a"]),
]


@pytest.mark.parametrize(("text", "expected"), SDK_FILTERS)
def test_vertex_sdk_filters(engine: sa.Engine, text: str, expected: list[str]) -> None:
    assert matching(engine, compile_filter(parse_filter(text), TARGET)) == expected


# --- parsing: shape of the tree ---


def test_or_binds_tighter_than_and() -> None:
    tree = parse_filter('uri = "a" AND uri = "b" OR uri = "c"')
    assert isinstance(tree, q.And)
    assert isinstance(tree.items[1], q.Or)


def test_juxtaposition_is_and_between_or_and_and() -> None:
    tree = parse_filter('uri = "a" uri = "b" OR uri = "c"')
    assert isinstance(tree, q.And)
    assert isinstance(tree.items[1], q.Or)
    tree = parse_filter('uri = "a" OR uri = "b" uri = "c"')
    assert isinstance(tree, q.And)
    assert isinstance(tree.items[0], q.Or)


def test_nodes_carry_positions() -> None:
    tree = parse_filter('display_name = "x" AND  NOT metadata."k:1".number_value >= -2.5e3')
    assert isinstance(tree, q.And)
    first, second = tree.items
    assert isinstance(first, q.Comparison)
    assert (first.pos, first.value.pos) == (1, 16)
    assert isinstance(second, q.Not)
    assert second.pos == 25
    inner = second.operand
    assert isinstance(inner, q.Comparison)
    assert inner.member.path == ("metadata", "k:1", "number_value")
    assert inner.member.quoted == (False, True, False)
    assert inner.op is q.Operator.GE
    assert inner.value == q.Number(-2500.0, "-2.5e3", 60)


def test_string_escapes_and_wildcard() -> None:
    tree = parse_filter(r'display_name:"a\"b\\c\*" OR uri:' + "'it\\'s*'")
    assert isinstance(tree, q.Or)
    first, second = tree.items
    assert isinstance(first, q.Has)
    assert first.value == q.String('a"b\\c*', 14, wildcard=False)
    assert isinstance(second, q.Has)
    assert second.value == q.String("it's*", 33, wildcard=True)


def _shape(tree: q.Expr) -> Any:
    """The tree without source positions."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "pos"}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value

    return strip(asdict(tree))


def test_double_negation_folds() -> None:
    assert _shape(parse_filter('NOT NOT uri = "a"')) == _shape(parse_filter('uri = "a"'))
    assert isinstance(parse_filter('NOT - NOT uri = "a"'), q.Not)


def test_number_forms() -> None:
    values = []
    for text in ("5", "-5", "5.0", "1e3", "-1.5E-2", "2e+2"):
        tree = parse_filter(f"metadata.x.number_value = {text}")
        assert isinstance(tree, q.Comparison)
        assert isinstance(tree.value, q.Number)
        values.append(tree.value.value)
    assert values == [5, -5, 5.0, 1000.0, -0.015, 200.0]
    assert isinstance(values[0], int)


def test_depth_five_and_thirty_two_parse() -> None:
    for depth in (5, 32):
        text = "(" * depth + 'uri = "a"' + ")" * depth
        assert _shape(parse_filter(text)) == _shape(parse_filter('uri = "a"'))


def test_long_chains_do_not_recurse() -> None:
    text = " AND ".join(f'uri = "{i}"' for i in range(500))
    assert len(text) < 8000
    tree = parse_filter(text)
    assert isinstance(tree, q.And)
    assert len(tree.items) == 500
    assert isinstance(parse_filter("NOT " * 1000 + 'uri = "a"'), q.Comparison)


def test_blank_filter_is_no_clause() -> None:
    assert filter_clause(None, TARGET) is None
    assert filter_clause("  \t\n", TARGET) is None


def test_absent_keys_never_match_but_not_complements(engine: sa.Engine) -> None:
    everything = [row["resource_id"] for row in ROWS]
    equal = matching(engine, _clause("metadata.epochs.number_value = 5"))
    unequal = matching(engine, _clause("metadata.epochs.number_value != 5"))
    negated = matching(engine, _clause("NOT metadata.epochs.number_value = 5"))
    assert equal == ["model-b", "model-c"]
    assert unequal == []
    assert sorted(negated + equal) == sorted(everything)


def _clause(text: str) -> sa.ColumnElement[bool]:
    clause = filter_clause(text, TARGET)
    assert clause is not None
    return clause


# --- bound parameters only ---

INJECTION = "'; DROP TABLE artifacts; --"


@pytest.mark.parametrize(
    "text",
    [
        f'display_name = "{INJECTION}"',
        f'display_name:"{INJECTION}*"',
        f'labels.team = "{INJECTION}"',
        f'metadata."{INJECTION}".string_value = "{INJECTION}"',
        f'metadata.source.string_value:"{INJECTION}*"',
        f'in_context("{INJECTION}")',
        f'param.lr = "{INJECTION}"',
        f'create_time > "2020-01-01T00:00:00Z" OR name = "{INJECTION}"',
    ],
)
def test_literals_are_never_inlined(engine: sa.Engine, text: str) -> None:
    clause = _clause(text)
    for dialect in (engine.dialect, postgresql.dialect()):
        sql = str(clause.compile(dialect=dialect))
        assert "DROP" not in sql
        assert "2020" not in sql
    everything = [row["resource_id"] for row in ROWS]
    assert matching(engine, clause) == (everything if text.startswith("create_time") else [])
    assert sa.inspect(engine).has_table("artifacts")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(artifacts)).scalar() == 12


def test_statement_cache_keeps_json_kinds_apart(engine: sa.Engine) -> None:
    """The JSON kind is part of the SQL; the cache must not reuse one kind's SQL for another."""
    assert matching(engine, _clause("metadata.accuracy.number_value > 0")) == ["model-a", "model-b"]
    assert matching(engine, _clause('metadata.accuracy.string_value > "0"')) == ["model-c"]
    assert matching(engine, _clause("metadata.deployed.bool_value = true")) == ["model-a"]


# --- order_by ---


def test_order_by_terms() -> None:
    terms = parse_order_by("create_time desc, display_name", TARGET)
    assert [(t.name, t.descending) for t in terms] == [
        ("create_time", True),
        ("display_name", False),
    ]
    assert terms[0].field is TARGET.fields["create_time"]
    terms = parse_order_by("  name ASC ,schema_title   DeSc  ", TARGET)
    assert [(t.name, t.descending) for t in terms] == [("name", False), ("schema_title", True)]
    assert parse_order_by(None, TARGET) == []
    assert parse_order_by("   ", TARGET) == []


def test_order_by_clause_sorts(engine: sa.Engine) -> None:
    terms = parse_order_by("display_name desc, create_time", TARGET)
    query = sa.select(artifacts.c.resource_id).where(artifacts.c.display_name == "metrics")
    query = query.order_by(*(term.clause() for term in terms))
    with engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == ["metrics-1", "metrics-2"]
    terms = parse_order_by("create_time desc", TARGET)
    query = sa.select(artifacts.c.resource_id).order_by(*(t.clause() for t in terms)).limit(2)
    with engine.connect() as conn:
        assert list(conn.execute(query).scalars()) == ["run-3", "run-2"]


def test_prefix_like_escapes_wildcards() -> None:
    """`%` and `_` in a prefix are escaped in the LIKE pattern, not passed through."""
    params = _clause('display_name:"a_b%*"').compile().params
    assert "a/_b/%" in params.values()
    assert "a_b%" in params.values()  # the exact, case-sensitive substr check
