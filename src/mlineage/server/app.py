"""The ASGI application: the REST API under `/v1`, auth, and the web UI under `/`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import FastAPI, Request

from mlineage.server.auth import install_auth
from mlineage.server.errors import install_error_handlers
from mlineage.server.limits import install_limits
from mlineage.store import MetadataStore
from mlineage.store.sql import SqlStore

__all__ = ["ServerSettings", "app_from_environment", "create_app", "store_of"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How a server runs; `mlineage server` passes them to each worker via the environment."""

    store_url: str
    insecure_allow_anonymous: bool = False
    max_body_bytes: int = 32 * 1024 * 1024
    max_page_size: int = 1000
    max_lineage_nodes: int = 10_000
    points_per_series: int = 1000
    """Points per time series a read returns unless it asks for more (Vertex's default);
    a longer series comes back downsampled (`store.downsample`)."""
    max_points_per_series: int = 10_000
    """The most points per series a read may ask for (Vertex's cap on `maxDataPoints`)."""
    max_series_per_read: int = 100
    """The most time series one `:batchRead` may name (the Vertex SDK asks for 20)."""

    def to_environment(self) -> dict[str, str]:
        return {
            "MLINEAGE_SERVER_STORE": self.store_url,
            "MLINEAGE_SERVER_INSECURE": "1" if self.insecure_allow_anonymous else "",
        }

    @classmethod
    def from_environment(cls) -> ServerSettings:
        return cls(
            store_url=os.environ["MLINEAGE_SERVER_STORE"],
            insecure_allow_anonymous=bool(os.environ.get("MLINEAGE_SERVER_INSECURE")),
        )


def create_app(store: MetadataStore, settings: ServerSettings) -> FastAPI:
    """The server application over an open `store`."""
    app = FastAPI(
        title="mlineage",
        version="v1",
        description="ML metadata and lineage: Vertex AI MetadataService resource model.",
    )
    app.state.store = store
    app.state.settings = settings
    from mlineage.server import additions, metadata, runs  # they import this module
    from mlineage.server.ui import error_page  # the web UI, under /
    from mlineage.server.ui import router as ui_router

    install_error_handlers(app, page=error_page)  # a browser sees its errors as pages

    for routes in (metadata.router, runs.router, additions.router):
        app.include_router(routes)
    from mlineage.server import tensorboard  # TensorboardService, for the Vertex SDK

    app.include_router(tensorboard.router)
    app.include_router(ui_router)
    install_limits(app, max_body_bytes=settings.max_body_bytes)
    # outermost: refuses before any limit or route runs
    install_auth(app, store, settings, page=error_page)
    return app


def app_from_environment() -> FastAPI:
    """The factory uvicorn workers call (`mlineage server` sets the environment)."""
    settings = ServerSettings.from_environment()
    return create_app(SqlStore(settings.store_url, auto_upgrade=False), settings)


async def store_of(request: Request) -> MetadataStore:
    """The store behind this request's application (a FastAPI dependency; async, so
    FastAPI does not hand it to a worker thread as it does sync dependencies)."""
    store: MetadataStore = request.app.state.store
    return store
