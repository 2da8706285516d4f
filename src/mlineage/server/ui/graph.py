"""Lineage graphs for the browser: large fan-outs folded, laid out in layers left to right.

Data flows left to right: an INPUT event is an edge artifact -> execution, an OUTPUT event
execution -> artifact. The layout is the classic layered one: break cycles, give each node
a layer (longest path from the sources, sources pulled next to what they feed), order each
layer by the mean position of its neighbours (a few sweeps each way), then place on a grid.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mlineage.types import Artifact, EventType, Execution, LineageGraph

__all__ = ["COLUMN", "FANOUT", "ROW", "lineage_view", "merge_graphs"]

FANOUT = 12
"""Neighbours shown on each side of a node before the rest fold into one "+N more" node."""
COLUMN = 240
ROW = 60
_SWEEPS = 4

NodeKind = Literal["artifact", "execution", "more"]


@dataclass(slots=True)
class _Node:
    id: str
    kind: NodeKind
    label: str
    detail: str = ""
    state: str = ""
    uri: str = ""
    more_of: str = ""
    more_count: int = 0
    layer: int = 0
    preds: list[str] = field(default_factory=list)
    succs: list[str] = field(default_factory=list)


def merge_graphs(graphs: Iterable[LineageGraph]) -> LineageGraph:
    """One graph holding every node and event of `graphs` once."""
    merged = LineageGraph()
    artifacts: dict[str, Artifact] = {}
    executions: dict[str, Execution] = {}
    events: set[tuple[str, str, EventType]] = set()
    for graph in graphs:
        merged.truncated = merged.truncated or graph.truncated
        for artifact in graph.artifacts:
            artifacts.setdefault(artifact.name, artifact)
        for execution in graph.executions:
            executions.setdefault(execution.name, execution)
        for event in graph.events:
            key = (event.artifact, event.execution, event.type)
            if key not in events:
                events.add(key)
                merged.events.append(event)
    merged.artifacts = list(artifacts.values())
    merged.executions = list(executions.values())
    return merged


def _nodes(graph: LineageGraph) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for artifact in graph.artifacts:
        nodes[artifact.name] = _Node(
            artifact.name,
            "artifact",
            artifact.display_name or artifact.resource_id,
            artifact.schema_title,
            artifact.state.name,
            artifact.uri,
        )
    for execution in graph.executions:
        nodes[execution.name] = _Node(
            execution.name,
            "execution",
            execution.display_name or execution.resource_id,
            execution.schema_title,
            execution.state.name,
        )
    seen: set[tuple[str, str]] = set()
    for event in graph.events:
        if event.artifact not in nodes or event.execution not in nodes:
            continue
        if event.type is EventType.INPUT:
            edge = (event.artifact, event.execution)
        else:
            edge = (event.execution, event.artifact)
        if edge not in seen:
            seen.add(edge)
            nodes[edge[0]].succs.append(edge[1])
            nodes[edge[1]].preds.append(edge[0])
    return nodes


def _visible(
    nodes: dict[str, _Node], root: str, expanded: Collection[str], fanout: int
) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """Walk out from `root`; a node not expanded shows at most `fanout - 1` new neighbours
    per side and folds the rest. Returns the shown nodes in walk order and the folded
    candidates per (node, side)."""
    order = [root]
    shown = {root}
    folded: dict[tuple[str, str], list[str]] = {}
    queue = deque([root])

    def sort_key(name: str) -> tuple[str, str]:
        return (nodes[name].label, name)

    while queue:
        current = queue.popleft()
        node = nodes[current]
        for side, neighbours in (("in", node.preds), ("out", node.succs)):
            fresh = sorted((n for n in set(neighbours) if n not in shown), key=sort_key)
            if current not in expanded and len(fresh) > fanout:
                pinned = [n for n in fresh if n in expanded]
                rest = [n for n in fresh if n not in expanded]
                take = pinned + rest[: max(0, fanout - 1 - len(pinned))]
                folded[(current, side)] = [n for n in rest if n not in take]
                fresh = take
            for name in fresh:
                shown.add(name)
                order.append(name)
                queue.append(name)
    return order, folded


def _acyclic_edges(names: list[str], succs: dict[str, list[str]]) -> dict[str, list[str]]:
    """`succs` without the edges that close a cycle (found by depth-first search)."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    kept: dict[str, list[str]] = {name: [] for name in names}
    for start in names:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(succs[start]))]
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[current] = 2
                stack.pop()
            elif state.get(child) == 1:
                continue  # a back edge: leave it out of the layering
            else:
                kept[current].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(succs[child])))
    return kept


def _layers(names: list[str], succs: dict[str, list[str]]) -> dict[str, int]:
    kept = _acyclic_edges(names, succs)
    preds: dict[str, list[str]] = {name: [] for name in names}
    for name, children in kept.items():
        for child in children:
            preds[child].append(name)
    remaining = {name: len(preds[name]) for name in names}
    ready = deque(name for name in names if remaining[name] == 0)
    layer = dict.fromkeys(names, 0)
    topological = []
    while ready:
        current = ready.popleft()
        topological.append(current)
        for child in kept[current]:
            layer[child] = max(layer[child], layer[current] + 1)
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    # A source sits just left of the first node it feeds, not in the first column.
    for name in reversed(topological):
        if not preds[name] and kept[name]:
            layer[name] = min(layer[child] for child in kept[name]) - 1
    shift = min(layer.values(), default=0)
    return {name: value - shift for name, value in layer.items()}


def _order(
    names: list[str], layer: dict[str, int], neighbours: dict[str, list[str]]
) -> list[list[str]]:
    """Nodes per layer, ordered to keep edges short (barycenter sweeps)."""
    count = max(layer.values(), default=0) + 1
    columns: list[list[str]] = [[] for _ in range(count)]
    for name in names:  # walk order: the root and its near neighbours first
        columns[layer[name]].append(name)
    position = {name: float(i) for column in columns for i, name in enumerate(column)}
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        indexes = range(1, count) if forward else range(count - 2, -1, -1)
        for index in indexes:
            column = columns[index]

            def barycenter(name: str, index: int = index, forward: bool = forward) -> float:
                near = [
                    position[n]
                    for n in neighbours[name]
                    if (layer[n] < index if forward else layer[n] > index)
                ]
                return sum(near) / len(near) if near else position[name]

            column.sort(key=barycenter)
            offset = (len(column) - 1) / 2
            for i, name in enumerate(column):
                position[name] = i - offset
    return columns


def lineage_view(
    graph: LineageGraph,
    root: str,
    *,
    expanded: Collection[str] = (),
    fanout: int = FANOUT,
) -> dict[str, Any]:
    """The part of `graph` to draw around `root`, with coordinates: `{"root", "nodes",
    "edges", "truncated", "width", "height"}`. Nodes in `expanded` show all neighbours."""
    nodes = _nodes(graph)
    if root not in nodes:
        raise KeyError(root)
    order, folded = _visible(nodes, root, set(expanded), fanout)
    shown = set(order)
    succs = {name: [n for n in nodes[name].succs if n in shown] for name in order}
    edges: list[dict[str, str]] = [
        {"source": name, "target": child, "kind": "flow"} for name in order for child in succs[name]
    ]
    for (owner, side), candidates in folded.items():
        hidden = [n for n in candidates if n not in shown]
        if not hidden:
            continue
        more = f"more:{side}:{owner}"
        nodes[more] = _Node(more, "more", f"+{len(hidden)} more", more_of=owner)
        nodes[more].more_count = len(hidden)
        order.append(more)
        succs[more] = []
        if side == "in":
            succs[more].append(owner)
            edges.append({"source": more, "target": owner, "kind": "more"})
        else:
            succs[owner].append(more)
            edges.append({"source": owner, "target": more, "kind": "more"})
    by_uri: dict[str, str] = {}
    for name in order:  # records of the same data (same URI) are linked, not layered
        uri = nodes[name].uri
        if uri and nodes[name].kind == "artifact":
            if uri in by_uri:
                edges.append({"source": by_uri[uri], "target": name, "kind": "same"})
            by_uri.setdefault(uri, name)
    layer = _layers(order, succs)
    neighbours: dict[str, list[str]] = {name: [] for name in order}
    for name, children in succs.items():
        for child in children:
            neighbours[name].append(child)
            neighbours[child].append(name)
    columns = _order(order, layer, neighbours)
    tallest = max((len(column) for column in columns), default=1)
    placed = []
    for index, column in enumerate(columns):
        top = (tallest - len(column)) / 2
        for i, name in enumerate(column):
            node = nodes[name]
            placed.append(
                {
                    "id": node.id,
                    "kind": node.kind,
                    "label": node.label,
                    "detail": node.detail,
                    "state": node.state,
                    "uri": node.uri,
                    "url": "" if node.kind == "more" else "/" + node.id,
                    "more_of": node.more_of,
                    "more_count": node.more_count,
                    "root": node.id == root,
                    "expanded": node.id in expanded,
                    "layer": index,
                    "x": index * COLUMN,
                    "y": round((top + i) * ROW, 1),
                }
            )
    return {
        "root": root,
        "nodes": placed,
        "edges": edges,
        "truncated": graph.truncated,
        "width": len(columns) * COLUMN,
        "height": tallest * ROW,
    }
