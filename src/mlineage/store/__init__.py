"""The metadata store: the contract (`base.MetadataStore`) and its SQL implementation."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mlineage.store.base import ExperimentRow, MetadataStore, RunInfo

__all__ = [
    "DEFAULT_STORE",
    "ExperimentRow",
    "MetadataStore",
    "RunInfo",
    "default_store_url",
    "display_url",
    "open_store",
]

DEFAULT_STORE = Path("~/.mlineage/metadata.db")


def default_store_url() -> str:
    """`$MLINEAGE_STORE` when set, else the embedded file `~/.mlineage/metadata.db`."""
    return os.environ.get("MLINEAGE_STORE") or str(DEFAULT_STORE.expanduser())


def display_url(url: str) -> str:
    """`url` as messages show it: a password (in its user part or a `password=` query
    parameter) becomes `***`. A SQLite path is returned as it is."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    user, at, host = netloc.rpartition("@")
    if at and ":" in user:
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "password" for key, _ in pairs):
        query = urlencode(
            [(key, "***" if key == "password" else value) for key, value in pairs], safe="*/"
        )
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # urlunsplit would respell some URLs (sqlite:////abs -> sqlite://abs)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def open_store(url: str | None = None) -> MetadataStore:
    """Open the store at `url` (default: `default_store_url()`)."""
    from mlineage.store.sql import SqlStore

    return SqlStore(url or default_store_url())
