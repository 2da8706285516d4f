"""The store's pages: experiments and artifacts, an experiment's runs, a run, a context."""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.sdk.config import DEFAULT_LOCATION, DEFAULT_PROJECT
from mlineage.server.app import store_of
from mlineage.server.auth import principal_of
from mlineage.store import MetadataStore, RunInfo
from mlineage.types import Artifact, Context, EventType, Execution, StoreName

from .routing import STORE_PATH, UiRoute, store_name
from .table import runs_csv, runs_table
from .templating import render

__all__ = ["router"]

router = APIRouter(route_class=UiRoute)
Store = Annotated[MetadataStore, Depends(store_of)]
EXPERIMENT_SCHEMA = "system.Experiment"
PIPELINE_RUN_SCHEMA = "system.PipelineRun"
LIST_SIZE = 100


@router.get("/")
def home(request: Request) -> Response:
    """The caller's project (a token's own), else the environment's."""
    project = principal_of(request).project or os.environ.get("MLINEAGE_PROJECT") or DEFAULT_PROJECT
    location = os.environ.get("MLINEAGE_LOCATION") or DEFAULT_LOCATION
    return RedirectResponse("/" + str(StoreName(project, location)), status_code=307)


@router.get("/open")
def open_store_page(project: str, location: str, store_id: str = "default") -> Response:
    """Where the header's project form goes."""
    return RedirectResponse("/" + str(StoreName(project, location, store_id)), status_code=303)


def _listed(
    store: MetadataStore, parent: StoreName, kind: type[Any], filter: str, **options: Any
) -> tuple[list[Any], str]:
    try:
        page = store.list(parent, kind, filter=filter or None, page_size=LIST_SIZE, **options)
    except InvalidArgumentError as exc:
        return [], exc.rule or exc.message
    return page.items, ""


@router.get(STORE_PATH)
def store_page(
    request: Request,
    store: Store,
    project: str,
    location: str,
    store_id: str,
    artifact_filter: Annotated[str, Query(alias="filter")] = "",
) -> Response:
    parent = store_name(project, location, store_id)
    experiments, _ = _listed(
        store, parent, Context, f'schema_title="{EXPERIMENT_SCHEMA}"', order_by="create_time desc"
    )
    pipelines, _ = _listed(
        store, parent, Context, f'schema_title="{PIPELINE_RUN_SCHEMA}"', order_by="create_time desc"
    )
    artifacts, error = _listed(
        store, parent, Artifact, artifact_filter, order_by="create_time desc"
    )
    return render(
        request,
        "store.html",
        {
            "parent": parent,
            "experiments": experiments,
            "pipelines": pipelines,
            "artifacts": artifacts,
            "filter": artifact_filter,
            "error": error,
            "limit": LIST_SIZE,
        },
    )


def _run_or_none(store: MetadataStore, name: str) -> RunInfo | None:
    try:
        return store.get_run(name)
    except NotFoundError:
        return None


@router.get(STORE_PATH + "/contexts/{context_id}")
def context_page(
    request: Request,
    store: Store,
    project: str,
    location: str,
    store_id: str,
    context_id: str,
    filter: str = "",
    sort: str = "",
    desc: bool = False,
    differ: bool = False,
    page: int = 1,
) -> Response:
    parent = store_name(project, location, store_id)
    name = str(parent.child("contexts", context_id))
    context = store.get(name, Context)
    if context.schema_title == EXPERIMENT_SCHEMA:
        table = runs_table(
            store, name, filter=filter, sort=sort, descending=desc, differ_only=differ, page=page
        )
        return render(
            request,
            "experiment.html",
            {"parent": parent, "experiment": context, "table": table, "filter": filter},
        )
    run = _run_or_none(store, name)
    if run is not None:
        return _run_page(request, store, parent, run)
    artifacts, _ = _listed(store, parent, Artifact, f'in_context("{name}")')
    executions, _ = _listed(store, parent, Execution, f'in_context("{name}")')
    return render(
        request,
        "context.html",
        {"parent": parent, "context": context, "artifacts": artifacts, "executions": executions},
    )


@router.get(STORE_PATH + "/contexts/{context_id}/runs.csv")
def runs_csv_download(
    store: Store,
    project: str,
    location: str,
    store_id: str,
    context_id: str,
    filter: str = "",
    sort: str = "",
    desc: bool = False,
    differ: bool = False,
) -> Response:
    name = str(store_name(project, location, store_id).child("contexts", context_id))
    if store.get(name, Context).schema_title != EXPERIMENT_SCHEMA:
        raise InvalidArgumentError("experiment", f"{name} is not an experiment")
    table = runs_table(
        store,
        name,
        filter=filter,
        sort=sort,
        descending=desc,
        differ_only=differ,
        page_size=1_000_000_000,
    )
    if table.error:
        raise InvalidArgumentError("filter", table.error)
    return Response(
        runs_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{context_id}-runs.csv"'},
    )


def _run_page(request: Request, store: MetadataStore, parent: StoreName, run: RunInfo) -> Response:
    name = run.context.name
    graph = store.query_context_lineage_subgraph(name)
    by_name = {a.name: a for a in graph.artifacts}
    inputs: dict[str, Artifact] = {}
    outputs: dict[str, Artifact] = {}
    for event in graph.events:
        artifact = by_name.get(event.artifact)
        if artifact is not None:
            side = inputs if event.type is EventType.INPUT else outputs
            side.setdefault(artifact.name, artifact)
    attached, _ = _listed(store, parent, Artifact, f'in_context("{name}")')
    others = [a for a in attached if a.name not in inputs and a.name not in outputs]
    executions, _ = _listed(store, parent, Execution, f'in_context("{name}")')
    return render(
        request,
        "run.html",
        {
            "parent": parent,
            "run": run,
            "params": store.get_params(name),
            "metrics": store.get_metrics(name),
            "inputs": list(inputs.values()),
            "outputs": list(outputs.values()),
            "others": others,
            "executions": executions,
        },
    )
