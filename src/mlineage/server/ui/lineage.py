"""An artifact's and an execution's pages, and the lineage graph they draw (graph.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response

from mlineage.errors import InvalidArgumentError
from mlineage.server.app import store_of
from mlineage.store import MetadataStore
from mlineage.types import Artifact, EventType, Execution, LineageGraph, ResourceName, StoreName

from .graph import lineage_view, merge_graphs
from .routing import STORE_PATH, UiRoute, store_name
from .templating import render

__all__ = ["DEFAULT_DEPTH", "NODE_LIMIT", "lineage_json", "router"]

router = APIRouter(route_class=UiRoute)
Store = Annotated[MetadataStore, Depends(store_of)]
Direction = Literal["upstream", "downstream", "both"]

DEFAULT_DEPTH = 6
"""Hops (event edges) drawn around the node at first: three steps each way."""
MAX_DEPTH = 200
NODE_LIMIT = 2000
"""Artifacts read for one drawing; more would not be readable on a screen anyway."""
MAX_EXPANDED = 100
NEIGHBOURS_SHOWN = 25


def _in_store(parent: StoreName, name: str, field: str) -> ResourceName:
    parsed = ResourceName.parse(name)
    if parsed.parent != parent or parsed.kind not in ("artifacts", "executions"):
        raise InvalidArgumentError(field, f"{name!r} is not an artifact or execution of {parent}")
    return parsed


def _around(
    store: MetadataStore, root: ResourceName, depth: int | None, direction: Direction
) -> LineageGraph:
    name = str(root)
    if root.kind == "artifacts":
        return store.query_artifact_lineage_subgraph(
            name, max_hops=depth, direction=direction, node_limit=NODE_LIMIT
        )
    own = store.query_execution_inputs_and_outputs(name)
    graphs = [own]
    if depth is None or depth > 1:
        rest = None if depth is None else depth - 1
        sides = {e.artifact: e.type for e in own.events}
        for artifact, kind in sides.items():
            way: Direction = direction
            if direction == "both":
                way = "upstream" if kind is EventType.INPUT else "downstream"
            graphs.append(
                store.query_artifact_lineage_subgraph(
                    artifact, max_hops=rest, direction=way, node_limit=NODE_LIMIT
                )
            )
    return merge_graphs(graphs)


def _neighbours(store: MetadataStore, node: ResourceName) -> LineageGraph:
    if node.kind == "artifacts":
        return store.query_artifact_lineage_subgraph(str(node), max_hops=1, node_limit=NODE_LIMIT)
    return store.query_execution_inputs_and_outputs(str(node))


def lineage_json(
    store: MetadataStore,
    parent: StoreName,
    root: str,
    *,
    depth: int | None = DEFAULT_DEPTH,
    direction: Direction = "both",
    expand: list[str] | None = None,
) -> dict[str, Any]:
    """The drawing of the lineage around `root` (see `graph.lineage_view`), with the
    neighbours of every node in `expand` added and shown whole."""
    start = _in_store(parent, root, "root")
    expanded = list(dict.fromkeys(expand or []))
    if len(expanded) > MAX_EXPANDED:
        raise InvalidArgumentError("expand", f"at most {MAX_EXPANDED} expanded nodes")
    graphs = [_around(store, start, depth, direction)]
    graphs += [_neighbours(store, _in_store(parent, n, "expand")) for n in expanded]
    view = lineage_view(merge_graphs(graphs), root, expanded=expanded)
    view.update(depth=depth, direction=direction)
    return view


@router.get(STORE_PATH + "/graph.json")
def graph_json(
    store: Store,
    project: str,
    location: str,
    store_id: str,
    root: str,
    depth: Annotated[int, Query(ge=0, le=MAX_DEPTH)] = DEFAULT_DEPTH,
    direction: Direction = "both",
    expand: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    """The lineage drawing around `root`; `depth=0` walks to the ends."""
    parent = store_name(project, location, store_id)
    return JSONResponse(
        lineage_json(store, parent, root, depth=depth or None, direction=direction, expand=expand)
    )


def _sides(graph: LineageGraph, root: str, artifacts: bool) -> tuple[list[Any], list[Any]]:
    """Producers and consumers of an artifact, or inputs and outputs of an execution."""
    nodes: dict[str, Any] = {a.name: a for a in graph.artifacts}
    nodes.update({e.name: e for e in graph.executions})
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for event in graph.events:
        own, other = (
            (event.artifact, event.execution) if artifacts else (event.execution, event.artifact)
        )
        if own != root or other not in nodes:
            continue
        if (event.type is EventType.OUTPUT) == artifacts:
            before.setdefault(other, nodes[other])
        else:
            after.setdefault(other, nodes[other])
    return list(before.values()), list(after.values())


@router.get(STORE_PATH + "/artifacts/{artifact_id}")
def artifact_page(
    request: Request, store: Store, project: str, location: str, store_id: str, artifact_id: str
) -> Response:
    parent = store_name(project, location, store_id)
    artifact = store.get(str(parent.child("artifacts", artifact_id)), Artifact)
    near = store.query_artifact_lineage_subgraph(artifact.name, max_hops=1, node_limit=NODE_LIMIT)
    producers, consumers = _sides(near, artifact.name, artifacts=True)
    return render(
        request,
        "artifact.html",
        {
            "parent": parent,
            "artifact": artifact,
            "producers": producers,
            "consumers": consumers,
            "shown": NEIGHBOURS_SHOWN,
            "depth": DEFAULT_DEPTH,
        },
    )


@router.get(STORE_PATH + "/executions/{execution_id}")
def execution_page(
    request: Request, store: Store, project: str, location: str, store_id: str, execution_id: str
) -> Response:
    parent = store_name(project, location, store_id)
    execution = store.get(str(parent.child("executions", execution_id)), Execution)
    graph = store.query_execution_inputs_and_outputs(execution.name)
    inputs, outputs = _sides(graph, execution.name, artifacts=False)
    runs = [
        value
        for key in ("experiment_run", "_pipeline_run")
        if isinstance(value := execution.metadata.get(key), str) and value.startswith(str(parent))
    ]
    return render(
        request,
        "execution.html",
        {
            "parent": parent,
            "execution": execution,
            "inputs": inputs,
            "outputs": outputs,
            "runs": runs,
            "depth": DEFAULT_DEPTH,
        },
    )
