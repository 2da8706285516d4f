"""Resolving resource names to row ids, scoped by metadata store.

Every query runs inside one metadata store (and so one project); a name from another store
simply does not resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import NotFoundError
from mlineage.store import schema
from mlineage.types import ResourceKind, ResourceName, StoreName

NODE_TABLES: dict[str, sa.Table] = {
    "artifacts": schema.artifacts,
    "executions": schema.executions,
    "contexts": schema.contexts,
}
_SINGULAR = {"artifacts": "Artifact", "executions": "Execution", "contexts": "Context"}


@dataclass(frozen=True, slots=True)
class NodeRef:
    """A resolved node: its row id, its store's row id and its parsed name."""

    id: int
    store_pk: int
    name: ResourceName


class StoreIds:
    """Maps store names to `metadata_stores.id` (store rows are never deleted, so the
    mapping is cached for the life of the process), and remembers run ids for the
    logging hot path (see `runs.run_pk`)."""

    def __init__(self) -> None:
        self._cache: dict[StoreName, int] = {}
        self._runs: dict[str, int] = {}

    def find(self, connection: Connection, store: StoreName) -> int | None:
        cached = self._cache.get(store)
        if cached is not None:
            return cached
        table = schema.metadata_stores
        pk = connection.execute(
            sa.select(table.c.id).where(
                table.c.project == store.project,
                table.c.location == store.location,
                table.c.store_id == store.store,
            )
        ).scalar()
        # A row seen inside a write transaction may yet be rolled back: cache only what a
        # read transaction saw, which is committed.
        if pk is not None and not connection.get_execution_options().get("mlineage_write"):
            self._cache[store] = pk
        return pk

    def require(self, connection: Connection, store: StoreName) -> int:
        pk = self.find(connection, store)
        if pk is None:
            raise NotFoundError(f"MetadataStore {store} not found")
        return pk

    def cached_run(self, run: str) -> int | None:
        return self._runs.get(run)

    def remember_run(self, run: str, pk: int) -> None:
        """Remember a run's id; only for runs known to be committed (see `runs.run_pk`)."""
        if len(self._runs) > 10_000:
            self._runs.clear()
        self._runs[run] = pk

    def forget_runs(self) -> None:
        self._runs.clear()


def not_found(name: ResourceName | str, kind: ResourceKind) -> NotFoundError:
    return NotFoundError(f"{_SINGULAR.get(kind, kind)} {name} not found")


def resolve(connection: Connection, stores: StoreIds, name: str, kind: ResourceKind) -> NodeRef:
    """The row of node `name` (which must be of `kind`), or NOT_FOUND."""
    parsed = ResourceName.parse(name, kind)
    store_pk = stores.find(connection, parsed.parent)
    if store_pk is None:
        raise not_found(parsed, kind)
    table = NODE_TABLES[kind]
    pk = connection.execute(
        sa.select(table.c.id).where(
            table.c.store_id == store_pk, table.c.resource_id == parsed.resource_id
        )
    ).scalar()
    if pk is None:
        raise not_found(parsed, kind)
    return NodeRef(pk, store_pk, parsed)


def resolve_many(
    connection: Connection, stores: StoreIds, names: list[str], kind: ResourceKind, store_pk: int
) -> list[int]:
    """Row ids of `names`, all of which must be in store `store_pk`; NOT_FOUND names the
    first missing one."""
    if not names:
        return []
    parsed = [ResourceName.parse(n, kind) for n in names]
    table = NODE_TABLES[kind]
    wanted = {p.resource_id for p in parsed if stores.find(connection, p.parent) == store_pk}
    found = dict(
        connection.execute(
            sa.select(table.c.resource_id, table.c.id).where(
                table.c.store_id == store_pk, table.c.resource_id.in_(wanted)
            )
        ).all()
    )
    for p in parsed:
        if p.resource_id not in found or stores.find(connection, p.parent) != store_pk:
            raise not_found(p, kind)
    return [found[p.resource_id] for p in parsed]
