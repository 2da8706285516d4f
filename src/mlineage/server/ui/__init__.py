"""The web UI: server-rendered pages under `/`, our own small scripts, plotly.js charts.

Pages live at their resource's name (`/projects/p/locations/l/metadataStores/s/artifacts/a`
shows that artifact); the REST API is the same path under `/v1`. Data comes through the store
contract; nothing here knows SQL. A browser is shown errors as pages (`error_page`).
"""

from __future__ import annotations

from fastapi import APIRouter

from . import assets, comparing, lineage, login, pages
from .failure import error_page

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)
for part in (assets, login, pages, lineage, comparing):
    router.include_router(part.router)
