"""Shared fixtures: every test gets its own embedded store and fresh SDK settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlineage.sdk import provenance
from mlineage.sdk.config import settings
from mlineage.store.sql import SqlStore
from mlineage.types import StoreName
from tests.backends import contract_store, sql_engine
from tests.postgres import postgres_server, postgres_template, postgres_url

__all__ = [  # fixtures
    "contract_store",
    "postgres_server",
    "postgres_template",
    "postgres_url",
    "sql_engine",
]


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "metadata.db"


@pytest.fixture(autouse=True)
def fresh_sdk(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the SDK at a new SQLite file and forget any init() of an earlier test."""
    monkeypatch.setenv("MLINEAGE_STORE", str(store_path))
    monkeypatch.setenv("MLINEAGE_CACHE_DIR", str(store_path.parent / "cache"))
    monkeypatch.delenv("MLINEAGE_PROJECT", raising=False)
    monkeypatch.delenv("MLINEAGE_LOCATION", raising=False)
    settings.close()
    settings.project = settings.location = settings.experiment = settings.store_url = None
    settings.current_run = None
    yield
    provenance.wait_for_pending()  # background provenance writes go to this test's store
    settings.current_run = None
    settings.close()


@pytest.fixture
def store(store_path: Path) -> Iterator[SqlStore]:
    """The store contract over a fresh SQLite file."""
    opened = SqlStore(str(store_path))
    yield opened
    opened.close()


@pytest.fixture
def parent() -> StoreName:
    return StoreName("test-project", "us-central1", "default")
