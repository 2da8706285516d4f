"""`mlineage lineage ARTIFACT`: an artifact's lineage as a tree in the terminal.

Upstream, each artifact branches into the execution that made it and that execution into
what it read; downstream, into the executions that read it and what they made. Lineage is a
graph, not a tree: a node met again is shown once more, marked "(shown above)", and not
expanded twice. An artifact that no execution made but that stands for an earlier record of
the same data (same URI, see `store.walk`) links to that record ("same data as").
"""

from __future__ import annotations

import enum
import json
import sys
from collections import defaultdict
from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from mlineage import types
from mlineage.cli import resolve
from mlineage.cli.options import LocationOption, ProjectOption, StoreOption, connect
from mlineage.cli.output import stdout
from mlineage.errors import InvalidArgumentError
from mlineage.sdk.config import settings
from mlineage.types import EventType, LineageGraph
from mlineage.wire import dump
from mlineage.wire.resources import LineageSubgraphJson

__all__ = ["LineageTree", "register"]


def _artifact_label(artifact: types.Artifact, note: str = "") -> Text:
    text = Text()
    if note:
        text.append(note + " ", style="dim")
    text.append(artifact.display_name or artifact.resource_id, style="bold cyan")
    text.append(f"  {artifact.schema_title}  {artifact.resource_id}", style="dim")
    if artifact.uri:
        text.append(f"  {artifact.uri}")
    return text


def _execution_label(execution: types.Execution, note: str) -> Text:
    text = Text()
    text.append(note + " ", style="dim")
    text.append(execution.display_name or execution.resource_id, style="bold magenta")
    if execution.schema_title != "system.ContainerExecution":
        text.append(f"  {execution.schema_title}", style="dim")
    state = execution.state.name
    text.append(f"  {state}", style="green" if state in ("COMPLETE", "CACHED") else "yellow")
    return text


class LineageTree:
    """A lineage graph arranged for walking one way from an artifact."""

    def __init__(self, graph: LineageGraph) -> None:
        self.artifacts = {a.name: a for a in graph.artifacts}
        self.executions = {e.name: e for e in graph.executions}
        self.made_by: dict[str, list[str]] = defaultdict(list)
        self.reads: dict[str, list[str]] = defaultdict(list)
        self.read_by: dict[str, list[str]] = defaultdict(list)
        self.makes: dict[str, list[str]] = defaultdict(list)
        for event in graph.events:
            if event.artifact not in self.artifacts or event.execution not in self.executions:
                continue
            if event.type is EventType.OUTPUT:
                self.made_by[event.artifact].append(event.execution)
                self.makes[event.execution].append(event.artifact)
            else:
                self.reads[event.execution].append(event.artifact)
                self.read_by[event.artifact].append(event.execution)
        self.same_data: dict[str, str] = {}
        """An artifact no execution made -> the earlier made record of its data."""
        self.copies: dict[str, list[str]] = defaultdict(list)
        self._link_same_data()

    def _link_same_data(self) -> None:
        made = [a for a in self.artifacts.values() if a.name in self.made_by and a.uri]
        for artifact in self.artifacts.values():
            if artifact.name in self.made_by or not artifact.uri:
                continue
            earlier = [
                m
                for m in made
                if m.uri == artifact.uri
                and _before(m, artifact)
                and not (
                    m.fingerprint and artifact.fingerprint and m.fingerprint != artifact.fingerprint
                )
            ]
            if earlier:
                source = max(earlier, key=_when)
                self.same_data[artifact.name] = source.name
                self.copies[source.name].append(artifact.name)

    def render(self, root: str, direction: str) -> Tree:
        tree = Tree(_artifact_label(self.artifacts[root]))
        if direction == "both":
            for way in ("upstream", "downstream"):
                branch = tree.add(Text(way, style="bold"))
                self._grow(branch, root, way, {root})
        else:
            self._grow(tree, root, direction, {root})
        return tree

    def _grow(self, node: Tree, artifact: str, way: str, seen: set[str]) -> None:
        if way == "upstream":
            steps = self.made_by.get(artifact, [])
            step_note, item_note, next_items = "made by", "read", self.reads
            links = [self.same_data[artifact]] if artifact in self.same_data else []
        else:
            steps = self.read_by.get(artifact, [])
            step_note, item_note, next_items = "read by", "made", self.makes
            links = self.copies.get(artifact, [])
        for link in links:
            self._add_artifact(node, link, way, seen, "same data as")
        for execution in sorted(steps, key=self._order):
            label = _execution_label(self.executions[execution], step_note)
            if execution in seen:
                node.add(label.append("  (shown above)", style="dim"))
                continue
            seen.add(execution)
            branch = node.add(label)
            for item in sorted(next_items.get(execution, []), key=self._order):
                if way == "downstream" or item != artifact:
                    self._add_artifact(branch, item, way, seen, item_note)

    def _add_artifact(self, node: Tree, artifact: str, way: str, seen: set[str], note: str) -> None:
        label = _artifact_label(self.artifacts[artifact], note)
        if artifact in seen:
            node.add(label.append("  (shown above)", style="dim"))
            return
        seen.add(artifact)
        self._grow(node.add(label), artifact, way, seen)

    def _order(self, name: str) -> tuple[str, str]:
        node = self.artifacts.get(name) or self.executions.get(name)
        created = node.create_time.isoformat() if node and node.create_time else ""
        return created, name


def _when(artifact: types.Artifact) -> tuple[str, str]:
    return (artifact.create_time.isoformat() if artifact.create_time else "", artifact.name)


def _before(a: types.Artifact, b: types.Artifact) -> bool:
    return _when(a) < _when(b)


class LineageFormat(enum.StrEnum):
    tree = "tree"
    json = "json"


def lineage_command(
    artifact: Annotated[str, typer.Argument(help="Artifact id, resource name or display name.")],
    upstream: Annotated[
        bool, typer.Option("--upstream", help="What it was made from (the default).")
    ] = False,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="What was made from it.")
    ] = False,
    both: Annotated[bool, typer.Option("--both", help="Upstream and downstream.")] = False,
    depth: Annotated[
        int | None, typer.Option(min=0, help="At most this many event hops (1 reaches the maker).")
    ] = None,
    fmt: Annotated[
        LineageFormat,
        typer.Option(
            "--format",
            "-f",
            help="tree for people; json for scripts (the REST API's LineageSubgraph).",
        ),
    ] = LineageFormat.tree,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """Show where an artifact came from (or what came of it) as a tree."""
    chosen = [
        name
        for name, on in (("upstream", upstream), ("downstream", downstream), ("both", both))
        if on
    ]
    if len(chosen) > 1:
        raise InvalidArgumentError("--upstream/--downstream/--both", "choose one of them")
    direction = chosen[0] if chosen else "upstream"
    connect(store, project, location)
    found = resolve.artifact(artifact)
    graph = settings.store().query_artifact_lineage_subgraph(
        found.name,
        max_hops=depth,
        direction=direction,  # type: ignore[arg-type]
    )
    if fmt is LineageFormat.json:
        message = json.loads(dump(LineageSubgraphJson.from_domain(graph)))
        sys.stdout.write(json.dumps(message, indent=2) + "\n")
        return
    console = stdout()
    console.print(LineageTree(graph).render(found.name, direction))
    if graph.truncated:
        console.print(
            "(the lineage was too large to read whole: this is part of it)", style="yellow"
        )


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage_command)
