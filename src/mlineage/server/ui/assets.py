"""Static files: our own scripts and styles, and plotly.js from the installed plotly package."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse

from mlineage.errors import NotFoundError

__all__ = ["router", "static_files"]

router = APIRouter()
_HERE = Path(__file__).resolve().parent
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@cache
def static_files() -> dict[str, Path]:
    """Every file the UI serves under /static, by name (nothing else can be reached)."""
    files = {path.name: path for path in (_HERE / "static").iterdir() if path.suffix in _TYPES}
    plotly = importlib.util.find_spec("plotly")
    if plotly is not None and plotly.origin is not None:  # the bundle of the installed plotly
        files["plotly.min.js"] = Path(plotly.origin).parent / "package_data" / "plotly.min.js"
    return files


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    path = static_files().get(name)
    if path is None or not path.is_file():
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(
        path,
        media_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600"},
    )
