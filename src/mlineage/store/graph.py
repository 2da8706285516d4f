"""Context membership and the context DAG (parent/child links, cycles refused)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError
from mlineage.store import dialects, driver, schema
from mlineage.store.scope import StoreIds, resolve, resolve_many


@functools.cache
def _insert_or_keep(dialect: str, table: sa.Table) -> Any:
    return dialects.insert(dialect, table).on_conflict_do_nothing()


def _insert_missing(connection: Connection, table: sa.Table, rows: list[tuple[int, int]]) -> None:
    """Insert link rows (tuples of the table's two columns); one already present (even just
    added by a concurrent writer) is kept as it is: adding twice is a no-op."""
    if rows:
        statement = _insert_or_keep(connection.dialect.name, table)
        driver.insert_rows(connection, statement, tuple(table.columns.keys()), rows)


def link_members(
    connection: Connection,
    context_pks: Sequence[int],
    artifact_pks: Sequence[int],
    execution_pks: Sequence[int],
) -> None:
    """Make the artifacts and executions members of every context (no-op when already)."""
    for context_pk in context_pks:
        _insert_missing(
            connection,
            schema.attributions,
            [(context_pk, a) for a in artifact_pks],
        )
        _insert_missing(
            connection,
            schema.associations,
            [(context_pk, e) for e in execution_pks],
        )


def add_members(
    connection: Connection,
    stores: StoreIds,
    context: str,
    artifacts: Sequence[str],
    executions: Sequence[str],
) -> None:
    ref = resolve(connection, stores, context, "contexts")
    artifact_ids = resolve_many(connection, stores, list(artifacts), "artifacts", ref.store_pk)
    execution_ids = resolve_many(connection, stores, list(executions), "executions", ref.store_pk)
    link_members(connection, [ref.id], artifact_ids, execution_ids)


def descendants_and_self(connection: Connection, context_id: int) -> set[int]:
    links = schema.context_links
    walk = sa.select(sa.literal(context_id).label("id")).cte("walk", recursive=True)
    walk = walk.union(sa.select(links.c.child_id).join(walk, links.c.parent_id == walk.c.id))
    return set(connection.execute(sa.select(walk.c.id)).scalars())


def add_children(
    connection: Connection, stores: StoreIds, context: str, children: Sequence[str]
) -> None:
    ref = resolve(connection, stores, context, "contexts")
    child_ids = resolve_many(connection, stores, list(children), "contexts", ref.store_pk)
    # Links are added one transaction at a time per store: two writers each adding half
    # of a cycle would both pass the check below (PostgreSQL; SQLite writes one at a time).
    stores_table = schema.metadata_stores
    connection.execute(
        sa.select(stores_table.c.id).where(stores_table.c.id == ref.store_pk).with_for_update()
    )
    for child_name, child_id in zip(children, child_ids, strict=True):
        if ref.id in descendants_and_self(connection, child_id):
            raise InvalidArgumentError(
                "child_contexts",
                f"linking {child_name} under {context} would make a cycle in the context graph",
            )
    _insert_missing(
        connection,
        schema.context_links,
        [(ref.id, c) for c in child_ids],
    )


def remove_children(
    connection: Connection, stores: StoreIds, context: str, children: Sequence[str]
) -> None:
    ref = resolve(connection, stores, context, "contexts")
    child_ids = resolve_many(connection, stores, list(children), "contexts", ref.store_pk)
    links = schema.context_links
    connection.execute(
        links.delete().where(links.c.parent_id == ref.id, links.c.child_id.in_(child_ids))
    )
