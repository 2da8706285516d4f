"""`mlineage experiments list`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mlineage.cli.options import FormatOption, LocationOption, ProjectOption, StoreOption, connect
from mlineage.cli.output import Format, emit
from mlineage.sdk.config import settings
from mlineage.sdk.experiments import EXPERIMENT_SCHEMA
from mlineage.sdk.resources import Context

__all__ = ["register"]

experiments_app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@experiments_app.command("list")
def list_experiments(
    filter: Annotated[
        str | None,
        typer.Option(
            help='Filter language, e.g. display_name:"churn*" or create_time>"2024-01-01"'
        ),
    ] = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """List the experiments and how many runs each has."""
    connect(store, project, location)
    rows: list[dict[str, Any]] = []
    clause = f'schema_title="{EXPERIMENT_SCHEMA}"' + (f" AND ({filter})" if filter else "")
    for context in Context.list(filter=clause, order_by="create_time"):
        rows.append(
            {
                "name": context.name,
                "runs": settings.store().count_runs(context.resource_name),
                "description": context.description,
                "created": context.create_time,
            }
        )
    if not rows and fmt is Format.table:
        typer.echo("No experiments yet. Record one with `mlineage demo`.")
        return
    emit(rows, ["name", "runs", "description", "created"], fmt, numeric=["runs"])


def register(app: typer.Typer) -> None:
    app.add_typer(experiments_app, name="experiments")
