"""Process-wide SDK settings set by `init()`: project, location, experiment and store."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlineage.errors import InvalidArgumentError
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
    credentials: Any = field(default=None, repr=False)
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
        """The open store for the current setting, opened once per URL and process: a
        server's REST API for an `http(s)://` URL, else a SQLite or PostgreSQL database."""
        url = self.store_url or default_store_url()
        with self._lock:
            store = self._stores.get(url)
            if store is None:
                store = self._stores[url] = self._open(url)
            return store

    def _open(self, url: str) -> MetadataStore:
        if not is_server_url(url):
            return open_store(url)
        from mlineage.client import RestStore, RetryPolicy

        timeout = os.environ.get("MLINEAGE_RETRY_TIMEOUT")
        try:
            retry = RetryPolicy(timeout=float(timeout)) if timeout else RetryPolicy()
        except ValueError:
            raise InvalidArgumentError(
                "MLINEAGE_RETRY_TIMEOUT", f"must be a number of seconds, got {timeout!r}"
            ) from None
        return RestStore(url, token=self.token, retry=retry)

    def token(self) -> str | None:
        """The bearer token for a server: `init(credentials=...)` (a string, or an object
        with a `.token`, such as google-auth credentials), else `$MLINEAGE_TOKEN`."""
        credentials = self.credentials
        if isinstance(credentials, str) and credentials:
            return credentials
        token = getattr(credentials, "token", None)
        if isinstance(token, str) and token:
            return token
        return os.environ.get("MLINEAGE_TOKEN") or None

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


def is_server_url(url: str) -> bool:
    """Whether a store URL names an mlineage server (`http://` or `https://`)."""
    return url.startswith(("http://", "https://"))


def endpoint_url(api_endpoint: str) -> str:
    """A server URL from a Vertex-style `api_endpoint`: as Vertex does, an endpoint without
    a scheme means https (`host:8080` -> `https://host:8080`)."""
    if not isinstance(api_endpoint, str) or not api_endpoint.strip():
        raise InvalidArgumentError("api_endpoint", "must be a non-empty URL or host:port")
    endpoint = api_endpoint.strip().rstrip("/")
    return endpoint if "://" in endpoint else f"https://{endpoint}"


settings = Settings()
