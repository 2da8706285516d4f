"""The compare page (runs side by side, the diff of two runs or models) and series.json."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response

from mlineage.errors import InvalidArgumentError
from mlineage.server.app import store_of
from mlineage.store import MetadataStore

from .compare import diff_sections, resolve_subjects, side_by_side
from .routing import STORE_PATH, UiRoute, store_name
from .series import MAX_POINTS, XAxis, run_series
from .templating import render

__all__ = ["router"]

router = APIRouter(route_class=UiRoute)
Store = Annotated[MetadataStore, Depends(store_of)]
Items = Annotated[list[str] | None, Query()]


@router.get(STORE_PATH + "/compare")
def compare_page(
    request: Request,
    store: Store,
    project: str,
    location: str,
    store_id: str,
    item: Items = None,
) -> Response:
    parent = store_name(project, location, store_id)
    subjects = resolve_subjects(store, parent, item or [])
    if len(subjects) < 2:
        raise InvalidArgumentError("item", "choose at least two runs or artifacts to compare")
    runs = [s for s in subjects if s.kind == "run"]
    if len(subjects) == 2 and subjects[0].kind != subjects[1].kind:
        raise InvalidArgumentError("item", "compare two runs or two artifacts, not one of each")
    if len(subjects) > 2 and len(runs) != len(subjects):
        raise InvalidArgumentError("item", "more than two at once works for runs only")
    result, sections = (None, {}) if len(subjects) != 2 else diff_sections(store, *subjects)
    return render(
        request,
        "compare.html",
        {
            "parent": parent,
            "subjects": subjects,
            "runs": runs,
            "table": side_by_side(store, runs) if runs else {},
            "diff": result,
            "sections": sections,
        },
    )


@router.get(STORE_PATH + "/series.json")
def series_json(
    store: Store,
    project: str,
    location: str,
    store_id: str,
    run: Items = None,
    x: XAxis = "step",
    key: Items = None,
    points: Annotated[int, Query(ge=4, le=20_000)] = MAX_POINTS,
) -> JSONResponse:
    """Time series of `run`s (resource names or ids), each line downsampled to `points`."""
    parent = store_name(project, location, store_id)
    subjects = resolve_subjects(store, parent, run or [])
    if not subjects or any(s.kind != "run" for s in subjects):
        raise InvalidArgumentError("run", "name one or more runs of this store")
    return JSONResponse(
        run_series(
            store,
            [(s.name, s.label) for s in subjects],
            x_axis=x,
            keys=key or None,
            max_points=points,
        )
    )
