"""Options every data command shares (`--store`, `--project`, `--location`) and `connect`."""

from __future__ import annotations

from typing import Annotated

import typer

from mlineage.cli.output import Format
from mlineage.sdk.tracking import init

__all__ = [
    "DatabaseOption",
    "ExperimentOption",
    "FormatOption",
    "LocationOption",
    "ProjectOption",
    "StoreOption",
    "connect",
]

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="MLINEAGE_STORE",
        help="A SQLite path, sqlite:///..., postgresql://... or http(s):// server URL "
        "(default ~/.mlineage/metadata.db).",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="MLINEAGE_STORE",
        help="A database: a SQLite path, sqlite:///... or postgresql://... "
        "(default ~/.mlineage/metadata.db).",
        show_default=False,
    ),
]
"""`--store` of the commands that work on the database itself (server, ui, db, token)."""
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people, csv or json for scripts.")
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        envvar="MLINEAGE_PROJECT",
        help="Project (default: default).",
        show_default=False,
    ),
]
LocationOption = Annotated[
    str | None,
    typer.Option(
        "--location",
        envvar="MLINEAGE_LOCATION",
        help="Location (default: us-central1).",
        show_default=False,
    ),
]
ExperimentOption = Annotated[
    str | None,
    typer.Option(
        "--experiment",
        "-e",
        envvar="MLINEAGE_EXPERIMENT",
        help="The experiment the runs belong to.",
        show_default=False,
    ),
]


def connect(store: str | None, project: str | None, location: str | None) -> None:
    """Point the SDK at the store, project and location the command was given."""
    init(store=store, project=project, location=location)
