"""The UI tests' app: the server application over the SDK's store, holding the sample."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from tests.ui.sample import Sample, record_sample

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
"""The Accept of a browser opening a page: its errors come back as pages."""


@dataclass
class Ui:
    client: TestClient
    sample: Sample
    store: SqlStore

    def get(self, path: str, **params: object) -> str:
        """The page at `path` (a leading / is added), which must be served with 200."""
        response = self.client.get(path if path.startswith("/") else "/" + path, params=params)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
def ui(store_path: Path, tmp_path: Path) -> Iterator[Ui]:
    sample = record_sample(tmp_path / "data")
    store = SqlStore(str(store_path))
    app = create_app(store, ServerSettings(store_url=str(store_path)))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield Ui(client, sample, store)
    store.close()
