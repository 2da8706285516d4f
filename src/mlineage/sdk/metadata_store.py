"""`MetadataStore`: the store of a project and location (`default` is made on first use)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
