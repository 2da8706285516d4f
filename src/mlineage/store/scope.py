"""Resolving resource names to row ids, scoped by metadata store.

Every query runs inside one metadata store (and so one project); a name from another store
simply does not resolve.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import NotFoundError
from mlineage.store import driver, schema
from mlineage.store.engine import UNCOMMITTED_STORES
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


_STORE_LOOKUP = sa.select(schema.metadata_stores.c.id).where(
    schema.metadata_stores.c.project == sa.bindparam("project"),
    schema.metadata_stores.c.location == sa.bindparam("location"),
    schema.metadata_stores.c.store_id == sa.bindparam("store"),
)


@functools.cache
def _node_lookup(kind: str) -> sa.Select[Any]:
    """SELECT id of one node by (store, resource id); built once (building costs ~100 us)."""
    table = NODE_TABLES[kind]
    return sa.select(table.c.id).where(
        table.c.store_id == sa.bindparam("store_pk"),
        table.c.resource_id == sa.bindparam("resource_id"),
    )


@functools.cache
def nodes_lookup(kind: str) -> sa.Select[Any]:
    table = NODE_TABLES[kind]
    return sa.select(table.c.resource_id, table.c.id).where(
        table.c.store_id == sa.bindparam("store_pk"),
        table.c.resource_id.in_(sa.bindparam("resource_ids", expanding=True)),
    )


def mark_uncommitted(connection: Connection, store: StoreName) -> None:
    """Note a store inserted by this transaction: it is not cached, as the transaction may
    yet roll back (`Database.write` forgets the note when the transaction ends)."""
    connection.info.setdefault(UNCOMMITTED_STORES, set()).add(store)


class StoreIds:
    """Caches of committed row ids: metadata stores by name (store rows are never deleted)
    and runs by name for the logging hot path (see `runs.run_pk`). The store clears them
    when a write fails, in case a cached run was deleted meanwhile."""

    def __init__(self) -> None:
        self._stores: dict[StoreName, int] = {}
        self._runs: dict[str, int] = {}

    def clear(self) -> None:
        self._stores.clear()
        self._runs.clear()

    def find(self, connection: Connection, store: StoreName) -> int | None:
        cached = self._stores.get(store)
        if cached is not None:
            return cached
        pk = connection.execute(
            _STORE_LOOKUP,
            {"project": store.project, "location": store.location, "store": store.store},
        ).scalar()
        if pk is not None and store not in connection.info.get(UNCOMMITTED_STORES, ()):
            self._stores[store] = pk
        return pk

    def require(self, connection: Connection, store: StoreName) -> int:
        pk = self.find(connection, store)
        if pk is None:
            raise NotFoundError(f"MetadataStore {store} not found")
        return pk

    def cached_run(self, run: str) -> int | None:
        return self._runs.get(run)

    def remember_run(self, run: str, pk: int) -> None:
        if len(self._runs) > 10_000:
            self._runs.clear()
        self._runs[run] = pk


def not_found(name: ResourceName | str, kind: ResourceKind) -> NotFoundError:
    return NotFoundError(f"{_SINGULAR.get(kind, kind)} {name} not found")


_PARENTS: dict[str, StoreName] = {}
"""Store names already parsed, by their text: most names of a call share one store."""


def parse_name(name: str, kind: ResourceKind) -> ResourceName:
    """`ResourceName.parse(name, kind)`, the parent looked up among the store names seen
    before rather than matched again (every name read from a store has been parsed once)."""
    if type(name) is str:
        head, _, resource_id = name.rpartition("/")
        parent_text, _, found_kind = head.rpartition("/")
        parent = _PARENTS.get(parent_text)
        if parent is not None and found_kind == kind and resource_id:
            return ResourceName(parent, kind, resource_id)
    parsed = ResourceName.parse(name, kind)  # the rules, and the error naming the one broken
    text = str(parsed.parent)
    if len(_PARENTS) < 1000 and name.startswith(text + "/"):
        _PARENTS[text] = parsed.parent
    return parsed


def resource_ids_in(store: StoreName, kind: ResourceKind, names: Sequence[str]) -> list[str] | None:
    """The resource ids of `names` when each is a name of a `kind` of `store`, else None
    (`parse_name` then tells what is wrong). Builds no name objects: for hot paths."""
    prefix = f"{store}/{kind}/"
    cut = len(prefix)
    ids = []
    for name in names:
        resource_id = name[cut:] if type(name) is str and name.startswith(prefix) else ""
        if not resource_id or "/" in resource_id:
            return None
        ids.append(resource_id)
    return ids


def resolve(connection: Connection, stores: StoreIds, name: str, kind: ResourceKind) -> NodeRef:
    """The row of node `name` (which must be of `kind`), or NOT_FOUND."""
    parsed = parse_name(name, kind)
    store_pk = stores.find(connection, parsed.parent)
    if store_pk is None:
        raise not_found(parsed, kind)
    pk = driver.scalar(
        connection, _node_lookup(kind), {"store_pk": store_pk, "resource_id": parsed.resource_id}
    )
    if pk is None:
        raise not_found(parsed, kind)
    return NodeRef(pk, store_pk, parsed)


def _lookup_one(connection: Connection, kind: str, store_pk: int, name: ResourceName) -> int:
    pk = driver.scalar(
        connection, _node_lookup(kind), {"store_pk": store_pk, "resource_id": name.resource_id}
    )
    if pk is None:
        raise not_found(name, kind)  # type: ignore[arg-type]
    return int(pk)


def resolve_many(
    connection: Connection, stores: StoreIds, names: list[str], kind: ResourceKind, store_pk: int
) -> list[int]:
    """Row ids of `names`, all of which must be in store `store_pk`; NOT_FOUND names the
    first missing one."""
    if not names:
        return []
    parsed = [parse_name(n, kind) for n in names]
    checked = None
    for p in parsed:
        if p.parent is not checked:
            if stores.find(connection, p.parent) != store_pk:
                raise not_found(p, kind)
            checked = p.parent
    if len(parsed) == 1:
        return [_lookup_one(connection, kind, store_pk, parsed[0])]
    found: dict[str, int] = dict(
        driver.rows(
            connection,
            nodes_lookup(kind),
            {"store_pk": store_pk, "resource_ids": sorted({p.resource_id for p in parsed})},
        )
    )
    for p in parsed:
        if p.resource_id not in found:
            raise not_found(p, kind)
    return [found[p.resource_id] for p in parsed]
