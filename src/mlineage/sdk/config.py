"""Process-wide SDK settings set by `init()`: project, location, experiment and store."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlineage.store import MetadataStore, default_store_url, open_store
from mlineage.types import StoreName

if TYPE_CHECKING:
    from mlineage.sdk.experiments import ExperimentRun

DEFAULT_PROJECT = "default"
DEFAULT_LOCATION = "us-central1"
DEFAULT_EXPERIMENT = "default"
"""The experiment a run joins when none is set (the reference walkthrough relies on it)."""


@dataclass
class Settings:
    project: str | None = None
    location: str | None = None
    experiment: str | None = None
    store_url: str | None = None
    credentials: Any = None
    current_run: ExperimentRun | None = None
    _stores: dict[str, MetadataStore] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def resolved_project(self) -> str:
        return self.project or os.environ.get("MLINEAGE_PROJECT") or DEFAULT_PROJECT

    @property
    def resolved_location(self) -> str:
        return self.location or os.environ.get("MLINEAGE_LOCATION") or DEFAULT_LOCATION

    def store_name(
        self,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
    ) -> StoreName:
        return StoreName(
            project or self.resolved_project, location or self.resolved_location, metadata_store_id
        )

    def store(self) -> MetadataStore:
        """The open store for the current setting, opened once per URL and process."""
        url = self.store_url or default_store_url()
        with self._lock:
            store = self._stores.get(url)
            if store is None:
                store = self._stores[url] = open_store(url)
            return store

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


settings = Settings()
