"""Metadata stores: reading one, and listing those of a project and location.

A store's row is made on first use (`SqlStore._store_pk`) and never deleted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import NotFoundError
from mlineage.store import codec, pagination, schema
from mlineage.types import MetadataStoreInfo, Page, StoreName

__all__ = ["get", "list_page"]

_TABLE = schema.metadata_stores
_KEYS = [pagination.SortKey(_TABLE.c.create_time), pagination.SortKey(_TABLE.c.id)]


def _info(row: Any) -> MetadataStoreInfo:
    return MetadataStoreInfo(
        str(StoreName(row.project, row.location, row.store_id)),
        row.description,
        codec.from_micros(row.create_time),
        codec.from_micros(row.update_time),
    )


def get(connection: Connection, store: StoreName) -> MetadataStoreInfo:
    row = connection.execute(
        sa.select(_TABLE).where(
            _TABLE.c.project == store.project,
            _TABLE.c.location == store.location,
            _TABLE.c.store_id == store.store,
        )
    ).first()
    if row is None:
        raise NotFoundError(f"MetadataStore {store} not found")
    return _info(row)


def list_page(
    connection: Connection,
    project: str,
    location: str,
    *,
    page_size: int | None,
    page_token: str | None,
) -> Page[MetadataStoreInfo]:
    """The stores of `project` and `location`, oldest first (then by row id)."""
    StoreName(project, location)  # INVALID_ARGUMENT naming a bad project or location
    limit = pagination.check_page_size(page_size)
    fingerprint = pagination.query_fingerprint("metadataStores", project, location)
    statement = sa.select(_TABLE).where(_TABLE.c.project == project, _TABLE.c.location == location)
    if page_token:
        values = pagination.decode_token(page_token, fingerprint, len(_KEYS))
        statement = statement.where(pagination.after(_KEYS, values))
    statement = statement.order_by(*(key.column for key in _KEYS))
    if limit is not None:
        statement = statement.limit(limit + 1)
    rows = connection.execute(statement).all()
    token = ""
    if limit is not None and len(rows) > limit:
        rows = rows[:limit]
        token = pagination.encode_token([rows[-1].create_time, rows[-1].id], fingerprint)
    return Page([_info(row) for row in rows], token)
