"""A PostgreSQL database with a linguistic default collation answers like SQLite.

Managed PostgreSQL usually defaults to `en_US.UTF-8` (or ICU `en-US`), which sorts
`_x, a, A, b, B, Z`; SQLite and Python sort by code point: `A, B, Z, _x, a, b`. The store's
columns say `COLLATE "C"` on PostgreSQL (migration 0003), so filters, order_by, page tokens
and key order are the same on every backend.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, StoreName

DISPLAY_NAMES = ["b", "_x", "A", "Z", "a", "B", "a b", "ab", "é", "e", "E", "10", "9", "-a"]
SCHEMA_TITLES = ["system.Dataset", "system.dataset", "Custom.x", "_private.x", "system.Model"]
PARAM_KEYS = ["beta", "Alpha", "_lr", "zeta", "Zeta", "alpha"]
_counter = itertools.count()


def _admin(server: str) -> sa.Engine:
    url = server.replace("postgresql://", "postgresql+psycopg://", 1)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def _linguistic_locale(admin: sa.Engine) -> str:
    """The CREATE DATABASE options of an English linguistic collation this server has."""
    with admin.connect() as connection:
        names = set(connection.execute(sa.text("SELECT collname FROM pg_collation")).scalars())
    if "en-US-x-icu" in names:
        return "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    for libc in ("en_US.utf8", "en_US.UTF-8"):
        if libc in names:
            return f"LOCALE '{libc}'"
    pytest.fail("this PostgreSQL server has neither ICU nor an en_US locale to test with")


@contextmanager
def linguistic_postgres_database(server: str) -> Iterator[str]:
    """The URL of a new, empty database whose default collation is en-US, dropped after."""
    name = f"mlineage_en_us_{os.getpid()}_{next(_counter)}"
    admin = _admin(server)
    with admin.connect() as connection:
        options = _linguistic_locale(admin)
        connection.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE template0 {options}"))
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        check = _admin(url)
        with check.connect() as connection:
            # The premise of these tests: this database alone would sort 'a' before 'B'.
            assert connection.execute(sa.text("SELECT 'a' < 'B'")).scalar() is True
        check.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def en_us_store(postgres_server: str) -> Iterator[SqlStore]:
    """A store on an en-US database, created and upgraded by the store itself."""
    with linguistic_postgres_database(postgres_server) as url:
        opened = SqlStore(url, auto_upgrade=True)
        try:
            yield opened
        finally:
            opened.close()


@pytest.fixture
def sqlite_store(store_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(str(store_path))
    yield opened
    opened.close()


def _fill(store: SqlStore, parent: StoreName) -> str:
    """The same nodes and one run on any store; returns the run's name."""
    for i, display_name in enumerate(DISPLAY_NAMES):
        title = SCHEMA_TITLES[i % len(SCHEMA_TITLES)]
        uri = f"file:///{display_name}/model"
        store.create(
            parent,
            Artifact(
                display_name=display_name,
                schema_title=title,
                uri=uri,
                metadata={"m": display_name},
                labels={"l": display_name},
            ),
        )
    experiment = store.create(parent, Context(schema_title="system.Experiment"), "exp")
    for i, value in enumerate(["a", "B", "_", "Z", "b"]):
        run = store.create_run(
            parent,
            Context(display_name=f"run {value}", schema_title="system.ExperimentRun"),
            f"run-{i}",
            experiment=experiment.name,
        )
        store.log_params(run.context.name, {"optimizer": value})
    run_name = run.context.name
    store.log_params(run_name, dict.fromkeys(PARAM_KEYS, 1))
    store.log_metrics(run_name, dict.fromkeys(PARAM_KEYS, 0.5))
    store.write_time_series(run_name, dict.fromkeys(PARAM_KEYS, 1.0), step=1)
    return experiment.name


def _display_names(store: SqlStore, parent: StoreName, **listing: Any) -> list[str]:
    return [a.display_name for a in store.list(parent, Artifact, **listing).items]


def _pages(store: SqlStore, parent: StoreName, order_by: str) -> list[str]:
    """Every artifact's display name, read 3 per page with page tokens."""
    seen: list[str] = []
    token = ""
    while True:
        page = store.list(parent, Artifact, order_by=order_by, page_size=3, page_token=token)
        seen += [a.display_name for a in page.items]
        token = page.next_page_token
        if not token:
            return seen


def _observe(store: SqlStore, parent: StoreName) -> dict[str, object]:
    experiment = _fill(store, parent)
    run = f"{parent}/contexts/run-4"
    filters = [
        'display_name < "a"',
        'display_name >= "B"',
        'display_name > "Z"',
        'display_name <= "_x"',
        'schema_title < "s"',
        'schema_title > "Custom.x"',
        'uri < "file:///a"',
        'metadata.m.string_value < "a"',
        'labels.l >= "B"',
    ]
    return {
        "order_by display_name": _display_names(store, parent, order_by="display_name"),
        "order_by display_name desc": _display_names(store, parent, order_by="display_name desc"),
        "order_by schema_title, display_name": _display_names(
            store, parent, order_by="schema_title, display_name"
        ),
        "order_by uri desc": _display_names(store, parent, order_by="uri desc"),
        "pages of display_name": _pages(store, parent, "display_name"),
        "pages of display_name desc": _pages(store, parent, "display_name desc"),
        **{f: sorted(_display_names(store, parent, filter=f)) for f in filters},
        "param.optimizer < b": [
            r.context.display_name
            for r in store.list_runs(experiment, filter='param.optimizer < "b"').items
        ],
        "param.optimizer >= B": [
            r.context.display_name
            for r in store.list_runs(experiment, filter='param.optimizer >= "B"').items
        ],
        "param keys": list(store.get_params(run)),
        "metric keys": list(store.get_metrics(run)),
        "series keys": [p.key for p in store.read_time_series(run)],
    }


def test_an_en_us_database_sorts_and_compares_like_sqlite(
    en_us_store: SqlStore, sqlite_store: SqlStore, parent: StoreName
) -> None:
    on_sqlite = _observe(sqlite_store, parent)
    on_postgres = _observe(en_us_store, parent)
    assert on_postgres == on_sqlite
    # ... and that order is code point order, as Python sorts strings:
    assert on_postgres["order_by display_name"] == sorted(DISPLAY_NAMES)
    assert on_postgres["pages of display_name desc"] == sorted(DISPLAY_NAMES, reverse=True)
    assert on_postgres['display_name < "a"'] == sorted(n for n in DISPLAY_NAMES if n < "a")
    assert on_postgres['metadata.m.string_value < "a"'] == on_postgres['display_name < "a"']
    assert on_postgres["param.optimizer < b"] == ["run a", "run B", "run _", "run Z"]
    assert on_postgres["param keys"] == sorted(["optimizer", *PARAM_KEYS])
    assert on_postgres["series keys"] == sorted(PARAM_KEYS)


def test_an_en_us_database_compares_tensorboard_names_like_sqlite(
    en_us_store: SqlStore, sqlite_store: SqlStore
) -> None:
    from mlineage.store.base import Tensorboard

    location = "projects/p/locations/us-central1"
    found = []
    for store in (sqlite_store, en_us_store):
        for display_name in DISPLAY_NAMES:
            store.create_tensorboard(location, Tensorboard(display_name=display_name))
        page = store.list_tensorboards(location, filter='display_name < "a"')
        found.append(sorted(tb.display_name for tb in page.items))
    assert found[0] == found[1] == sorted(n for n in DISPLAY_NAMES if n < "a")


def _plans(store: SqlStore, parent: StoreName, listings: list[dict[str, Any]]) -> list[str]:
    """PostgreSQL's plan of the artifacts query each listing runs."""
    statements: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        _conn, _cursor, statement, parameters, _context, _many = args
        if statement.lstrip().startswith("SELECT") and "FROM artifacts" in statement:
            statements.append((statement, parameters))

    sa.event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        for listing in listings:
            store.list(parent, Artifact, **listing)
    finally:
        sa.event.remove(store.db.engine, "before_cursor_execute", capture)
    with store.db.engine.connect() as connection:
        return [
            "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
            for statement, parameters in statements
        ]


def test_the_display_name_index_serves_equality_ordered_pages_and_prefixes(
    en_us_store: SqlStore, parent: StoreName
) -> None:
    en_us_store.create(parent, Artifact(display_name="seed"))
    with en_us_store.db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO artifacts (store_id, resource_id, display_name, schema_title, "
            "schema_version, description, metadata, labels, etag, create_time, update_time, "
            "uri, state, fingerprint) SELECT (SELECT store_id FROM artifacts LIMIT 1), "
            "'r' || i, 'name-' || i, 'system.Dataset', '', '', '{}', '{}', 1, i, i, "
            "'file:///' || i, 'LIVE', '' FROM generate_series(1, 5000) i"
        )
        connection.exec_driver_sql("ANALYZE artifacts")
    first = en_us_store.list(parent, Artifact, order_by="display_name", page_size=50)
    plans = _plans(
        en_us_store,
        parent,
        [
            {"filter": 'display_name = "name-77"'},
            {"order_by": "display_name", "page_size": 50},
            {"order_by": "display_name", "page_size": 50, "page_token": first.next_page_token},
            {"order_by": "display_name desc", "page_size": 50},
            {"filter": 'display_name:"name-7*"'},  # a prefix is an index range under "C"
        ],
    )
    assert len(plans) == 5
    for plan in plans:
        assert "ix_artifacts_store_id_display_name" in plan, plan
        assert "Seq Scan" not in plan, plan
    assert "display_name)::text = 'name-77'" in plans[0]
    assert "display_name)::text >= 'name-7'::text) AND ((display_name)::text < 'name-8'" in plans[4]
