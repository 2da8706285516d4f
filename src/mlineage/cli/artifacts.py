"""`mlineage artifacts list|show`."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from mlineage import types
from mlineage.cli import resolve
from mlineage.cli.options import FormatOption, LocationOption, ProjectOption, StoreOption, connect
from mlineage.cli.output import Format, cell, emit, plain, stdout
from mlineage.sdk.config import settings
from mlineage.types import EventType

__all__ = ["register"]

artifacts_app = typer.Typer(help="Artifacts: datasets, models, metrics, ...", no_args_is_help=True)

LIST_COLUMNS = ["id", "display_name", "schema_title", "uri", "created"]


def _row(artifact: types.Artifact) -> dict[str, Any]:
    return {
        "id": artifact.resource_id,
        "display_name": artifact.display_name,
        "schema_title": artifact.schema_title,
        "uri": artifact.uri,
        "state": artifact.state.name,
        "fingerprint": artifact.fingerprint,
        "created": artifact.create_time,
        "resource_name": artifact.name,
    }


@artifacts_app.command("list")
def list_artifacts(
    filter: Annotated[
        str | None,
        typer.Option(help='e.g. schema_title="system.Model" AND metadata.rows.number_value>100'),
    ] = None,
    order_by: Annotated[
        str, typer.Option("--order-by", help='e.g. "create_time desc" or display_name.')
    ] = "create_time desc",
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many.")] = 50,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """List artifacts, newest first."""
    connect(store, project, location)
    rows: list[dict[str, Any]] = []
    token: str | None = None
    more = False
    while len(rows) < limit:
        page = settings.store().list(
            settings.store_name(),
            types.Artifact,
            filter=filter,
            order_by=order_by,
            page_size=min(1000, limit - len(rows)),
            page_token=token,
        )
        rows += [_row(a) for a in page.items]
        token = page.next_page_token
        if not token:
            break
    more = bool(token)
    columns = LIST_COLUMNS if fmt is Format.table else list(_row(types.Artifact()))
    emit(rows, columns, fmt, title=f"{len(rows)} artifact{'s' if len(rows) != 1 else ''}")
    if more and fmt is Format.table:
        typer.echo(f"(the first {limit}: --limit shows more)", err=True)


def _neighbours(artifact: types.Artifact) -> tuple[list[types.Execution], list[types.Execution]]:
    """The executions that made the artifact and those that read it."""
    graph = settings.store().query_artifact_lineage_subgraph(artifact.name, max_hops=1)
    by_name = {e.name: e for e in graph.executions}
    made_by: list[types.Execution] = []
    read_by: list[types.Execution] = []
    for event in graph.events:
        if event.artifact != artifact.name or event.execution not in by_name:
            continue
        (made_by if event.type is EventType.OUTPUT else read_by).append(by_name[event.execution])
    return made_by, read_by


def _execution_row(execution: types.Execution) -> dict[str, Any]:
    return {
        "id": execution.resource_id,
        "display_name": execution.display_name,
        "schema_title": execution.schema_title,
        "state": execution.state.name,
    }


@artifacts_app.command("show")
def show_artifact(
    artifact: Annotated[str, typer.Argument(help="Artifact id, resource name or display name.")],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table (readable) or json.")
    ] = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """Show an artifact: its fields, metadata, and the executions that made and read it."""
    connect(store, project, location)
    found = resolve.artifact(artifact)
    made_by, read_by = _neighbours(found)
    details = {
        **_row(found),
        "description": found.description,
        "labels": found.labels,
        "metadata": found.metadata,
        "made_by": [_execution_row(e) for e in made_by],
        "read_by": [_execution_row(e) for e in read_by],
    }
    if fmt is not Format.table:
        sys.stdout.write(json.dumps(plain(details), indent=2, default=str) + "\n")
        return
    console = stdout()
    label = escape(found.display_name or found.resource_id)
    console.print(f"[bold]{label}[/bold]  {escape(found.schema_title)}")
    console.print(Text(found.name, style="dim"))
    fields = ["uri", "fingerprint", "state", "created", "description", "labels"]
    for key in fields:
        if details[key]:
            console.print(f"[bold]{key}:[/bold] {escape(cell(details[key]))}")
    if found.metadata:
        console.print("[bold]metadata:[/bold]")
        console.print_json(json.dumps(plain(found.metadata), default=str))
    columns = ["id", "display_name", "schema_title", "state"]
    for title, rows in (("Made by", details["made_by"]), ("Read by", details["read_by"])):
        if rows:
            console.print()
            emit(rows, columns, Format.table, title=title)


def register(app: typer.Typer) -> None:
    app.add_typer(artifacts_app, name="artifacts")
