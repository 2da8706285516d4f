"""The store contract for an experiment's runs page by page (`list_runs` and
`experiment_rows`), on every backend."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mlineage.errors import InvalidArgumentError
from mlineage.store.base import MetadataStore
from mlineage.store.sql import SqlStore
from mlineage.types import Context, Page, StoreName
from mlineage.validation import ParamValue
from tests.store.page_tokens import forged

Listing = Callable[..., Page[str]]
"""`list_runs` or `experiment_rows` of a store and experiment, giving the runs' names."""


def _list_runs(store: MetadataStore, experiment: str, **kwargs: Any) -> Page[str]:
    page = store.list_runs(experiment, **kwargs)
    return Page([run.context.display_name for run in page.items], page.next_page_token)


def _experiment_rows(store: MetadataStore, experiment: str, **kwargs: Any) -> Page[str]:
    page = store.experiment_rows(experiment, **kwargs)
    return Page([row.run_name for row in page.items], page.next_page_token)


LISTINGS: dict[str, Listing] = {"list_runs": _list_runs, "experiment_rows": _experiment_rows}


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


@pytest.fixture(params=list(LISTINGS))
def listing(request: pytest.FixtureRequest) -> Listing:
    """Each test taking it runs for both lists of runs."""
    return LISTINGS[request.param]


@pytest.fixture
def experiment(store: MetadataStore, parent: StoreName) -> str:
    return store.create(parent, Context(schema_title="system.Experiment"), "exp").name


def _run(
    store: MetadataStore,
    parent: StoreName,
    experiment: str | None,
    run_id: str,
    **params: ParamValue,
) -> str:
    context = Context(display_name=run_id, schema_title="system.ExperimentRun")
    name = store.create_run(parent, context, run_id, experiment=experiment).context.name
    if params:
        store.log_params(name, params)
    return name


def _pages(
    listing: Listing,
    store: MetadataStore,
    experiment: str,
    page_size: int,
    between: Callable[[], object] = lambda: None,
    **kwargs: Any,
) -> tuple[list[str], list[int]]:
    """Every run's name, following the tokens, and the size of each page; `between` runs
    after the first page."""
    seen: list[str] = []
    sizes: list[int] = []
    page = listing(store, experiment, page_size=page_size, **kwargs)
    while True:
        seen += page.items
        sizes.append(len(page.items))
        if not page.next_page_token:
            return seen, sizes
        if len(sizes) == 1:
            between()
        page = listing(
            store, experiment, page_size=page_size, page_token=page.next_page_token, **kwargs
        )


def test_pages_hold_every_run_once_oldest_first_and_a_run_made_meanwhile_last(
    store: MetadataStore, parent: StoreName, experiment: str, listing: Listing
) -> None:
    ids = [f"exp-r{i}" for i in (3, 0, 6, 1, 5, 2, 4)]  # creation order, not id order
    for run_id in ids:
        _run(store, parent, experiment, run_id)
    other = store.create(parent, Context(schema_title="system.Experiment"), "other").name
    _run(store, parent, other, "other-r0")
    _run(store, parent, None, "lonely")

    seen, sizes = _pages(
        listing, store, experiment, 3, between=lambda: _run(store, parent, experiment, "exp-late")
    )
    assert seen == [*ids, "exp-late"]
    assert sizes == [3, 3, 2]


def test_pages_of_a_filter_hold_the_runs_it_keeps(
    store: MetadataStore, parent: StoreName, experiment: str, listing: Listing
) -> None:
    for i in range(8):
        _run(store, parent, experiment, f"exp-r{i}", i=i)

    def meanwhile() -> None:
        _run(store, parent, experiment, "exp-kept", i=100)
        _run(store, parent, experiment, "exp-left", i=0)

    seen, sizes = _pages(listing, store, experiment, 2, between=meanwhile, filter="param.i >= 3")
    assert seen == ["exp-r3", "exp-r4", "exp-r5", "exp-r6", "exp-r7", "exp-kept"]
    assert sizes == [2, 2, 2]


def test_the_last_page_has_no_token_and_no_page_size_means_every_run(
    store: MetadataStore, parent: StoreName, experiment: str, listing: Listing
) -> None:
    ids = [f"exp-r{i}" for i in range(4)]
    for run_id in ids:
        _run(store, parent, experiment, run_id)
    first = listing(store, experiment, page_size=2)
    assert (first.items, bool(first.next_page_token)) == (ids[:2], True)
    last = listing(store, experiment, page_size=2, page_token=first.next_page_token)
    assert (last.items, last.next_page_token) == (ids[2:], "")
    rest = listing(store, experiment, page_token=first.next_page_token)
    assert (rest.items, rest.next_page_token) == (ids[2:], "")
    for size in (None, 0, 4, 5):
        every = listing(store, experiment, page_size=size)
        assert (every.items, every.next_page_token) == (ids, ""), size
    assert listing(store, experiment, page_size=3, filter="param.absent = 1") == Page([])


def test_experiment_rows_pages_carry_their_own_runs_values(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    for i in range(5):
        run = _run(store, parent, experiment, f"exp-r{i}", i=i, name=f"run {i}")
        store.log_metrics(run, {"score": i / 10, "odd": math.nan if i % 2 else 0.0})
        for step in range(3):
            store.write_time_series(run, {"loss": i + step}, step=step)
    for include_time_series in (True, False):
        rows = []
        token = None
        while True:
            page = store.experiment_rows(
                experiment, include_time_series=include_time_series, page_size=2, page_token=token
            )
            assert len(page.items) <= 2
            rows += page.items
            token = page.next_page_token
            if not token:
                break
        assert [row.run_name for row in rows] == [f"exp-r{i}" for i in range(5)]
        for i, row in enumerate(rows):
            assert row.params == {"i": i, "name": f"run {i}"}
            assert row.metrics["score"] == i / 10
            assert math.isnan(row.metrics["odd"]) if i % 2 else row.metrics["odd"] == 0.0
            assert row.time_series == ({"loss": i + 2.0} if include_time_series else {})


def test_bad_page_arguments_are_invalid_naming_them(
    store: MetadataStore, parent: StoreName, experiment: str, listing: Listing
) -> None:
    for i in range(3):
        _run(store, parent, experiment, f"exp-r{i}", i=i)
    with pytest.raises(InvalidArgumentError) as error:
        listing(store, experiment, page_size=-1)
    assert error.value.field == "page_size"

    token = listing(store, experiment, page_size=1).next_page_token
    filtered = listing(store, experiment, page_size=1, filter="param.i >= 0").next_page_token
    other = store.create(parent, Context(schema_title="system.Experiment"), "other").name
    for run_id in ("other-a", "other-b"):
        _run(store, parent, other, run_id)
    elsewhere = listing(store, other, page_size=1).next_page_token
    assert all((token, filtered, elsewhere))
    refused = {
        "not a token": ("not-a-token", None),
        "sort values of the wrong types": (forged(token, ["x", "y"]), None),
        "too few sort values": (forged(token, [1]), None),
        "another filter's": (filtered, "param.i >= 1"),
        "without its filter": (filtered, None),
        "another experiment's": (elsewhere, None),
    }
    for case, (bad, filter) in refused.items():
        with pytest.raises(InvalidArgumentError) as error:
            listing(store, experiment, page_token=bad, filter=filter)
        assert error.value.field == "page_token", case


def test_a_token_of_one_list_is_not_the_others(
    store: MetadataStore, parent: StoreName, experiment: str
) -> None:
    for i in range(3):
        _run(store, parent, experiment, f"exp-r{i}")
    runs_token = store.list_runs(experiment, page_size=1).next_page_token
    rows_token = store.experiment_rows(experiment, page_size=1).next_page_token
    calls: list[Callable[[], object]] = [
        lambda: store.experiment_rows(experiment, page_token=runs_token),
        lambda: store.list_runs(experiment, page_token=rows_token),
        lambda: store.experiment_rows(experiment, include_time_series=False, page_token=rows_token),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError) as error:
            call()
        assert error.value.field == "page_token"


# --- a handful of queries per page ---


@pytest.fixture
def counted(store_path: Path) -> Iterator[tuple[SqlStore, list[str]]]:
    """A SQLite store, and the statements it runs from now on."""
    opened = SqlStore(str(store_path))
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(opened.db.engine, "before_cursor_execute", record)
    yield opened, statements
    sa.event.remove(opened.db.engine, "before_cursor_execute", record)
    opened.close()


def test_a_page_is_the_same_few_queries_whatever_its_size(
    counted: tuple[SqlStore, list[str]], parent: StoreName
) -> None:
    store, statements = counted
    experiment = store.create(parent, Context(schema_title="system.Experiment"), "exp").name
    for i in range(30):
        run = _run(store, parent, experiment, f"exp-r{i}", i=i)
        store.log_metrics(run, {"m": float(i)})
        store.write_time_series(run, {"loss": 1.0}, step=0)

    def queries(call: Callable[[], object]) -> int:
        statements.clear()
        call()
        return len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    token = store.list_runs(experiment, page_size=2).next_page_token
    for call in (store.list_runs, store.experiment_rows):
        small = queries(lambda: call(experiment, page_size=2))  # noqa: B023
        large = queries(lambda: call(experiment, page_size=25))  # noqa: B023
        every = queries(lambda: call(experiment))  # noqa: B023
        assert small == large == every <= 5, call
    later = queries(lambda: store.list_runs(experiment, page_size=2, page_token=token))
    assert later == queries(lambda: store.list_runs(experiment, page_size=2))


# --- a late page seeks the experiment's index (SQLite) ---


@pytest.fixture
def traced(store_path: Path) -> Iterator[tuple[SqlStore, list[tuple[str, Any]]]]:
    """A SQLite store, and the statements (with their parameters) it runs from now on."""
    opened = SqlStore(str(store_path))
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    sa.event.listen(opened.db.engine, "before_cursor_execute", record)
    yield opened, statements
    sa.event.remove(opened.db.engine, "before_cursor_execute", record)
    opened.close()


def test_a_late_page_seeks_the_experiments_index_and_sorts_nothing(
    traced: tuple[SqlStore, list[tuple[str, Any]]], parent: StoreName
) -> None:
    store, statements = traced
    experiment = store.create(parent, Context(schema_title="system.Experiment"), "exp").name
    other = store.create(parent, Context(schema_title="system.Experiment"), "other").name
    for i in range(40):
        _run(store, parent, experiment if i % 4 else other, f"r{i}", i=i)
    _run(store, parent, None, "lonely")

    def late_page(call: Callable[..., Page[Any]], **kwargs: Any) -> list[tuple[str, Any]]:
        """The statements of the fourth page of `call` that read the experiment's runs."""
        token = None
        for _ in range(3):
            token = call(experiment, page_size=4, page_token=token, **kwargs).next_page_token
            assert token
        statements.clear()
        assert len(call(experiment, page_size=4, page_token=token, **kwargs).items) == 4
        return [(sql, params) for sql, params in statements if "runs.experiment_id" in sql]

    pages = {
        "list_runs": late_page(store.list_runs),
        "list_runs, filtered": late_page(store.list_runs, filter="param.i >= 2"),
        "experiment_rows": late_page(store.experiment_rows),
        "experiment_rows, filtered": late_page(store.experiment_rows, filter="param.i >= 2"),
    }
    seek = (
        "SEARCH runs USING INDEX ix_runs_experiment_id_create_time_context_id "
        "(experiment_id=? AND create_time>?)"  # the token's (create time, id) is a row value
    )
    with store.db.engine.connect() as connection:
        for case, found in pages.items():
            assert len(found) == 1, case  # the one statement of the page's runs
            ((sql, params),) = found
            plan = [
                row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            ]
            assert seek in plan, (case, plan)
            assert not [step for step in plan if "TEMP B-TREE" in step], (case, plan)
            assert not [step for step in plan if step.startswith("SCAN")], (case, plan)
