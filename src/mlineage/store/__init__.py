"""The metadata store: the contract (`base.MetadataStore`) and its SQL implementation."""

from __future__ import annotations

import os
from pathlib import Path

from mlineage.store.base import ExperimentRow, MetadataStore, RunInfo

__all__ = [
    "DEFAULT_STORE",
    "ExperimentRow",
    "MetadataStore",
    "RunInfo",
    "default_store_url",
    "open_store",
]

DEFAULT_STORE = Path("~/.mlineage/metadata.db")


def default_store_url() -> str:
    """`$MLINEAGE_STORE` when set, else the embedded file `~/.mlineage/metadata.db`."""
    return os.environ.get("MLINEAGE_STORE") or str(DEFAULT_STORE.expanduser())


def open_store(url: str | None = None) -> MetadataStore:
    """Open the store at `url` (default: `default_store_url()`)."""
    from mlineage.store.sql import SqlStore

    return SqlStore(url or default_store_url())
