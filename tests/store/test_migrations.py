"""Schema versions: migrations build exactly the declared schema; old and new are handled."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mlineage.errors import FailedPreconditionError
from mlineage.store import migrate
from mlineage.store.engine import Database, create_engine
from mlineage.store.schema import POSTGRESQL_ONLY_INDEXES, metadata
from mlineage.store.sql import SqlStore


def test_head_constant_matches_the_migrations_folder() -> None:
    assert migrate.script_head() == migrate.HEAD_REVISION


def _on_sqlite(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    """What SQLite has of the declared schema: all but the PostgreSQL-only indexes."""
    return not (type_ == "index" and name in POSTGRESQL_ONLY_INDEXES)


def declared_schema_differences(connection: sa.Connection) -> list[Any]:
    """How the database differs from the declared schema, as its dialect builds it."""
    opts = {"include_object": _on_sqlite} if connection.dialect.name == "sqlite" else {}
    return list(compare_metadata(MigrationContext.configure(connection, opts=opts), metadata))


def test_migrations_build_the_declared_schema(store_path: Path) -> None:
    SqlStore(str(store_path)).close()
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.connect() as connection:
        differences = declared_schema_differences(connection)
        indexes = set(connection.exec_driver_sql("SELECT name FROM sqlite_master").scalars())
    assert differences == []
    assert not indexes & POSTGRESQL_ONLY_INDEXES
    assert "ix_contexts_store_id_display_name" in indexes


def _sqlite_indexes(path: Path, table: str) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        names = {index["name"] for index in sa.inspect(connection).get_indexes(table)}
    engine.dispose()
    return {name for name in names if name is not None}


def test_a_store_at_0005_drops_the_sort_indexes_on_sqlite_and_gets_them_back_down(
    store_path: Path,
) -> None:
    from alembic import command

    from mlineage.types import Artifact, Execution, StoreName

    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0005")
    engine.dispose()
    sort_indexes = {"ix_artifacts_store_id_display_name", "ix_artifacts_store_id_schema_title"}
    assert sort_indexes <= _sqlite_indexes(store_path, "artifacts")

    parent = StoreName("p", "us-central1")
    store = SqlStore(str(store_path))  # upgrades to head
    store.create_many(parent, [Artifact(display_name=n) for n in ("b", "c", "a")])
    store.record_execution(parent, Execution(display_name="run"))
    ordered = store.list(parent, Artifact, order_by="display_name desc").items
    assert [a.display_name for a in ordered] == ["c", "b", "a"]
    store.close()
    assert not sort_indexes & _sqlite_indexes(store_path, "artifacts")
    assert not {"ix_executions_store_id_display_name", "ix_executions_store_id_schema_title"} & (
        _sqlite_indexes(store_path, "executions")
    )

    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0005")
    engine.dispose()
    assert sort_indexes <= _sqlite_indexes(store_path, "artifacts")


def test_an_empty_file_is_upgraded_on_open_and_data_survives_reopening(store_path: Path) -> None:
    from mlineage.types import Artifact, StoreName

    parent = StoreName("p", "us-central1")
    first = SqlStore(str(store_path))
    created = first.create(parent, Artifact(display_name="kept"))
    first.close()
    again = SqlStore(str(store_path))
    assert again.get(created.name, Artifact).display_name == "kept"
    again.close()


def test_a_database_from_a_newer_mlineage_is_refused(store_path: Path) -> None:
    SqlStore(str(store_path)).close()
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(FailedPreconditionError, match="newer than this mlineage"):
        SqlStore(str(store_path))


def test_a_server_store_is_not_upgraded_implicitly(store_path: Path) -> None:
    db = Database(create_engine(str(store_path)))
    with pytest.raises(FailedPreconditionError, match="mlineage db upgrade"):
        migrate.ensure_current(db, auto_upgrade=False)
    migrate.upgrade(db)
    migrate.ensure_current(db, auto_upgrade=False)
    db.close()


def test_a_store_made_at_the_first_revision_upgrades_in_place(store_path: Path) -> None:
    from alembic import command

    from mlineage.types import Artifact, StoreName

    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0001")
        connection.execute(
            sa.text(
                "INSERT INTO metadata_stores (project, location, store_id, description, "
                "create_time, update_time) VALUES ('p', 'us-central1', 'default', '', 1, 1)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO artifacts (store_id, resource_id, display_name, schema_title, "
                "schema_version, description, metadata, labels, etag, create_time, "
                "update_time, uri, state, fingerprint) VALUES (1, 'old', 'from 0001', "
                "'system.Dataset', '', '', '{}', '{}', 1, 1, 1, 'file:///d', 'LIVE', '')"
            )
        )
    engine.dispose()
    store = SqlStore(str(store_path))
    name = str(StoreName("p", "us-central1").child("artifacts", "old"))
    assert store.get(name, Artifact).display_name == "from 0001"
    with store.db.read() as connection:
        assert migrate.current_revision(connection) == migrate.HEAD_REVISION
    store.close()


# --- 0003: COLLATE "C" on PostgreSQL ---

_OLD_NAMES = ["b", "_x", "A", "a", "B"]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, store_path: Path) -> Iterator[str]:
    """An empty SQLite file, or an empty PostgreSQL database whose collation is en-US."""
    if request.param == "sqlite":
        yield f"sqlite:///{store_path}"
        return
    from tests.store.test_collation_postgres import linguistic_postgres_database

    with linguistic_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


def _raw_engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _fill_at_0002(connection: sa.Connection) -> None:
    """A store, artifacts and a run with values, written as revision 0002 laid them out."""
    node = (
        "store_id, resource_id, display_name, schema_title, schema_version, description, "
        "metadata, labels, etag, create_time, update_time"
    )
    statements = [
        "INSERT INTO metadata_stores (project, location, store_id, description, create_time, "
        "update_time) VALUES ('p', 'us-central1', 'default', '', 1, 1)",
        *(
            f"INSERT INTO artifacts ({node}, uri, state, fingerprint) VALUES ((SELECT id FROM "
            f"metadata_stores), 'old-{i}', '{name}', 'system.Dataset', '', '', "
            f"'{{\"k\": \"{name}\"}}', '{{}}', 1, {i}, {i}, 'file:///{name}', 'LIVE', '')"
            for i, name in enumerate(_OLD_NAMES)
        ),
        f"INSERT INTO contexts ({node}) VALUES ((SELECT id FROM metadata_stores), 'run-1', "
        "'run 1', 'system.ExperimentRun', '', '', '{}', '{}', 1, 1, 1)",
        "INSERT INTO runs (context_id, experiment_id, run_type, state, provenance, start_time, "
        "end_time) VALUES ((SELECT id FROM contexts), NULL, 'system.ExperimentRun', "
        "'RUNNING', '{}', 1, NULL)",
        *(
            "INSERT INTO run_params (run_id, key, value_type, value_text, value_number) "
            f"VALUES ((SELECT id FROM contexts), '{name}', 'str', '{name}', NULL)"
            for name in _OLD_NAMES
        ),
        "INSERT INTO run_metrics (run_id, key, value, update_time) "
        "VALUES ((SELECT id FROM contexts), 'loss', 0.25, 1)",
        "INSERT INTO time_series (run_id, key, step, value, wall_time) "
        "VALUES ((SELECT id FROM contexts), 'loss', 3, 0.5, 1)",
    ]
    for statement in statements:
        connection.execute(sa.text(statement))


def test_a_store_at_0002_with_data_upgrades_to_0003_keeping_it(empty_database: str) -> None:
    from alembic import command

    from mlineage.types import Artifact, StoreName

    engine = _raw_engine(empty_database)
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0002")
        _fill_at_0002(connection)
    engine.dispose()

    store = SqlStore(empty_database, auto_upgrade=True)
    parent = StoreName("p", "us-central1")
    run = f"{parent}/contexts/run-1"
    with store.db.read() as connection:
        assert migrate.current_revision(connection) == migrate.HEAD_REVISION
    old = store.get(f"{parent}/artifacts/old-1", Artifact)
    assert (old.display_name, old.uri, old.metadata) == ("_x", "file:///_x", {"k": "_x"})
    ordered = store.list(parent, Artifact, order_by="display_name").items
    assert [a.display_name for a in ordered] == sorted(_OLD_NAMES)
    below = store.list(parent, Artifact, filter='display_name < "a"').items
    assert sorted(a.display_name for a in below) == ["A", "B", "_x"]
    assert store.get_params(run) == {name: name for name in sorted(_OLD_NAMES)}
    assert list(store.get_params(run)) == sorted(_OLD_NAMES)
    assert store.get_metrics(run) == {"loss": 0.25}
    assert [(p.key, p.step, p.value) for p in store.read_time_series(run)] == [("loss", 3, 0.5)]
    assert store.create(parent, Artifact(display_name="new"), "new").display_name == "new"
    store.close()


def _declared_postgres_collations() -> dict[tuple[str, str], str | None]:
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    declared = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            impl = column.type.dialect_impl(dialect)
            if isinstance(impl, sa.String):
                declared[(table.name, column.name)] = impl.collation
    return declared


def _postgres_collations(connection: sa.Connection) -> dict[tuple[str, str], str | None]:
    rows = connection.execute(
        sa.text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name != 'alembic_version' "
            "AND data_type IN ('character varying', 'text')"
        )
    )
    return {(table, column): collation for table, column, collation in rows}


def test_postgres_migrations_build_the_declared_schema_and_collations(postgres_url: str) -> None:
    engine = _raw_engine(postgres_url)
    with engine.connect() as connection:
        differences = declared_schema_differences(connection)
        collations = _postgres_collations(connection)
    engine.dispose()
    assert differences == []
    assert collations == _declared_postgres_collations()
    assert collations[("artifacts", "display_name")] == "C"
    assert collations[("artifacts", "description")] is None


def test_0003_downgrades_to_the_database_default_collation_on_postgres(
    postgres_url: str,
) -> None:
    from alembic import command

    engine = _raw_engine(postgres_url)
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0002")
        assert set(_postgres_collations(connection).values()) == {None}
        command.upgrade(migrate.alembic_config(connection), "0003")
        assert _postgres_collations(connection) == _declared_postgres_collations()
    engine.dispose()


# --- 0004: runs.create_time and the index of an experiment's runs in page order ---

_T0 = 1_790_000_000_000_000  # microseconds: 2026
_RUNS_AT_0003 = [  # (resource id, create time, experiment), in row id order
    ("r-late", _T0 + 50, "exp"),
    ("r-first", _T0 + 10, "exp"),
    ("r-tie-a", _T0 + 30, "exp"),
    ("r-tie-b", _T0 + 30, "exp"),  # same time as r-tie-a: its later id puts it after
    ("r-other", _T0 + 20, "other"),
    ("r-lonely", _T0 + 40, None),
    ("r-mid", _T0 + 20, "exp"),
]
_EXP_ORDER = ["r-first", "r-mid", "r-tie-a", "r-tie-b", "r-late"]
"""The experiment's runs oldest first: context create time, then row id."""


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_database(request: pytest.FixtureRequest, store_path: Path) -> Iterator[str]:
    """An empty SQLite file, or an empty PostgreSQL database (no schema yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{store_path}"
        return
    from tests.backends import empty_postgres_database

    with empty_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


def _fill_at_0003(connection: sa.Connection) -> None:
    """Two experiments and runs with params, metrics and time series, as revision 0003 laid
    them out: the runs' create times only in their contexts, out of row id order."""
    node = (
        "store_id, resource_id, display_name, schema_title, schema_version, description, "
        "metadata, labels, etag, create_time, update_time"
    )
    values = "(SELECT id FROM metadata_stores), :rid, :rid, :title, '', '', '{}', '{}', 1, :t, :t"
    context_id = "(SELECT id FROM contexts WHERE resource_id = :rid)"
    experiment_id = "(SELECT id FROM contexts WHERE resource_id = :experiment)"
    connection.execute(
        sa.text(
            "INSERT INTO metadata_stores (project, location, store_id, description, "
            "create_time, update_time) VALUES ('p', 'us-central1', 'default', '', 1, 1)"
        )
    )
    insert_context = sa.text(f"INSERT INTO contexts ({node}) VALUES ({values})")
    for experiment in ("exp", "other"):
        connection.execute(
            insert_context, {"rid": experiment, "title": "system.Experiment", "t": 1}
        )
    for i, (rid, created, experiment) in enumerate(_RUNS_AT_0003):
        run = {"rid": rid, "t": created, "experiment": experiment, "i": i}
        connection.execute(insert_context, {**run, "title": "system.ExperimentRun"})
        if experiment is not None:
            connection.execute(
                sa.text(
                    f"INSERT INTO context_links (parent_id, child_id) "
                    f"VALUES ({experiment_id}, {context_id})"
                ),
                run,
            )
        statements = [
            "INSERT INTO runs (context_id, experiment_id, run_type, state, provenance, "
            f"start_time, end_time) VALUES ({context_id}, {experiment_id}, "
            "'system.ExperimentRun', 'COMPLETE', '{}', :t, :t)",
            "INSERT INTO run_params (run_id, key, value_type, value_text, value_number) "
            f"VALUES ({context_id}, 'i', 'int', CAST(:i AS VARCHAR(8)), :i)",
            "INSERT INTO run_metrics (run_id, key, value, update_time) "
            f"VALUES ({context_id}, 'score', :i * 0.5, :t)",
            *(
                "INSERT INTO time_series (run_id, key, step, value, wall_time) "
                f"VALUES ({context_id}, 'loss', {step}, :i + {step}, :t)"
                for step in range(3)
            ),
        ]
        for statement in statements:
            connection.execute(sa.text(statement), run)


def _row_counts(connection: sa.Connection) -> dict[str, int]:
    names = sa.inspect(connection).get_table_names()
    return {
        name: connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
        for name in names
        if name != "alembic_version"
    }


def _store_at_0003(url: str) -> dict[str, int]:
    """Build the schema of revision 0003 at `url` and fill it; its row counts."""
    from alembic import command

    engine = _raw_engine(url)
    with engine.begin() as connection:
        command.upgrade(migrate.alembic_config(connection), "0003")
        _fill_at_0003(connection)
        counts = _row_counts(connection)
    engine.dispose()
    return counts


def _token_values(token: str) -> Any:
    """The sort values a page token holds."""
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["v"]


def _every_page(call: Any, page_size: int) -> list[Any]:
    """Every item of the pages of `call` (taking page_size and page_token)."""
    items: list[Any] = []
    token = None
    while True:
        page = call(page_size=page_size, page_token=token)
        items += page.items
        token = page.next_page_token
        if not token:
            return items


def test_a_store_at_0003_with_runs_upgrades_keeping_them_in_page_order(
    unmigrated_database: str,
) -> None:
    from mlineage.types import Context, StoreName

    counts = _store_at_0003(unmigrated_database)
    assert counts["runs"] == len(_RUNS_AT_0003)
    store = SqlStore(unmigrated_database, auto_upgrade=True)
    parent = StoreName("p", "us-central1")
    experiment = f"{parent}/contexts/exp"
    with store.db.read() as connection:
        assert migrate.current_revision(connection) == migrate.HEAD_REVISION
        assert _row_counts(connection) == counts
        copied = connection.execute(
            sa.text(
                "SELECT contexts.resource_id, runs.create_time, contexts.create_time FROM runs "
                "JOIN contexts ON contexts.id = runs.context_id"
            )
        ).all()
        assert {rid: (t, t) for rid, t, _ in _RUNS_AT_0003} == {
            rid: (run_time, context_time) for rid, run_time, context_time in copied
        }
        found = connection.execute(sa.text("SELECT resource_id, id FROM contexts"))
        ids = dict(found.all())
        differences = declared_schema_differences(connection)
    assert differences == []

    assert [r.context.display_name for r in store.list_runs(experiment).items] == _EXP_ORDER
    for page_size in (1, 2, 3):
        paged = _every_page(lambda **kw: store.list_runs(experiment, **kw), page_size)
        assert [r.context.display_name for r in paged] == _EXP_ORDER
    rows = _every_page(
        lambda **kw: store.experiment_rows(experiment, include_time_series=True, **kw), 2
    )
    assert [row.run_name for row in rows] == _EXP_ORDER
    index = {rid: i for i, (rid, _, _) in enumerate(_RUNS_AT_0003)}
    for row in rows:
        i = index[row.run_name]
        assert (row.params, row.metrics, row.time_series) == (
            {"i": i},
            {"score": i * 0.5},
            {"loss": i + 2.0},
        )
    assert [r.context.display_name for r in store.list_runs(f"{parent}/contexts/other").items] == [
        "r-other"
    ]
    assert store.count_runs(experiment, filter="param.i >= 3") == 2  # r-tie-b and r-mid

    # A token holds what it held at 0003: the last run's context create time and row id.
    first = store.list_runs(experiment, page_size=2)
    time_of = {rid: t for rid, t, _ in _RUNS_AT_0003}
    assert _token_values(first.next_page_token) == [time_of["r-mid"], ids["r-mid"]]

    late = Context(display_name="r-new", schema_title="system.ExperimentRun")
    store.create_run(parent, late, "r-new", experiment=experiment)
    later = store.list_runs(experiment, page_size=3, page_token=first.next_page_token)
    assert [r.context.display_name for r in later.items] == ["r-tie-a", "r-tie-b", "r-late"]
    last = store.list_runs(experiment, page_size=3, page_token=later.next_page_token)
    assert ([r.context.display_name for r in last.items], last.next_page_token) == (["r-new"], "")
    store.close()


def test_0004_downgrades_to_0003_keeping_every_row(unmigrated_database: str) -> None:
    from alembic import command

    counts = _store_at_0003(unmigrated_database)
    SqlStore(unmigrated_database, auto_upgrade=True).close()
    engine = _raw_engine(unmigrated_database)
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0003")
        assert _row_counts(connection) == counts
        inspector = sa.inspect(connection)
        assert "create_time" not in {c["name"] for c in inspector.get_columns("runs")}
        assert [i["column_names"] for i in inspector.get_indexes("runs")] == [["experiment_id"]]
        command.upgrade(migrate.alembic_config(connection), "head")
        assert _row_counts(connection) == counts
    engine.dispose()


PRODUCED_REVISION = "0005"
"""The migration that adds `artifacts.produced` and fills it from the events."""


def test_an_upgraded_store_keeps_its_lineage_through_uris(empty_database: str) -> None:
    """A store made before `produced` existed: the upgrade marks what executions wrote,
    so a read of a URI still traces back to the run that wrote it."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from mlineage.types import Artifact, Execution, StoreName

    parent = StoreName("p", "us-central1")
    store = SqlStore(empty_database, auto_upgrade=True)
    store.record_execution(
        parent, Execution(display_name="clean"), outputs=[Artifact(uri="gs://b/c.csv")]
    )
    read = store.create(parent, Artifact(display_name="read", uri="gs://b/c.csv"))
    _, (model,) = store.record_execution(
        parent, Execution(display_name="train"), inputs=[read.name], outputs=[Artifact()]
    )
    store.close()

    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(PRODUCED_REVISION)
    db = Database(create_engine(empty_database))
    db.write(lambda c: command.downgrade(migrate.alembic_config(c), str(before.down_revision)))
    with db.read() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("artifacts")}
    db.close()
    assert "produced" not in columns

    upgraded = SqlStore(empty_database, auto_upgrade=True)
    up = upgraded.query_artifact_lineage_subgraph(model.name, direction="upstream")
    assert {e.display_name for e in up.executions} == {"train", "clean"}
    assert len(up.artifacts) == 3
    upgraded.close()
