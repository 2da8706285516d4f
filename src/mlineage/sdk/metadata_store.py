"""`MetadataStore`: the store of a project and location (`default` is made on first use)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any, Self

from mlineage.sdk.config import settings
from mlineage.types import MetadataStoreInfo, StoreName


class MetadataStore:
    """A metadata store, e.g. `MetadataStore("default").resource_name`."""

    def __init__(
        self,
        metadata_store_name: str = "default",
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> None:
        if "/" in metadata_store_name:
            name = StoreName.parse(metadata_store_name)
        else:
            name = settings.store_name(metadata_store_name, project, location)
        self._info: MetadataStoreInfo = settings.store().get_or_create_metadata_store(name)

    @classmethod
    def list(
        cls,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> builtins.list[Self]:
        """The metadata stores of the project and location (default: `init()`'s), oldest
        first. Vertex's ListMetadataStores; the Vertex SDK itself has no call for it."""
        name = settings.store_name(project=project, location=location)
        page = settings.store().list_metadata_stores(name.project, name.location)
        return [cls._wrap(info) for info in page.items]

    @classmethod
    def _wrap(cls, info: MetadataStoreInfo) -> Self:
        store = cls.__new__(cls)
        store._info = info
        return store

    @property
    def resource_name(self) -> str:
        return self._info.name

    @property
    def name(self) -> str:
        return self._info.name.rsplit("/", 1)[-1]

    @property
    def description(self) -> str:
        return self._info.description

    @property
    def create_time(self) -> datetime:
        return self._info.create_time

    def __repr__(self) -> str:
        return f"<MetadataStore {self.resource_name}>"
