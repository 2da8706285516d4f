"""`mlineage ui`: the web UI (and the REST API) on 127.0.0.1, over a store."""

from __future__ import annotations

import socket
import sys
from typing import Annotated

import typer

from mlineage.cli.options import DatabaseOption
from mlineage.errors import FailedPreconditionError, InvalidArgumentError
from mlineage.store import default_store_url, display_url, migrate, open_store

__all__ = ["register", "ui"]


def ui(
    store: DatabaseOption = None,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")
    ] = 8080,
) -> None:
    """Open the web UI on this machine: experiments, runs, charts, lineage."""
    import uvicorn

    from mlineage.server.app import ServerSettings, create_app

    url = store or default_store_url()
    if url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            "--store",
            f"{display_url(url)} is a server: it serves its own UI at that address; "
            "`mlineage ui` serves a database (a SQLite file or postgresql://...)",
        )
    try:
        migrate.prepare_store(url)
    except FailedPreconditionError as exc:
        raise FailedPreconditionError(f"the UI will not start: {exc.message}") from exc
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(128)  # the printed URL takes connections at once (queued until served)
    except OSError as exc:
        listener.close()
        raise FailedPreconditionError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror}"
        ) from None
    opened = open_store(url)
    app = create_app(opened, ServerSettings(store_url=url))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    address = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    typer.echo(f"mlineage UI: {address}  (store: {display_url(url)})")
    typer.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        server.run(sockets=[listener])
    finally:
        opened.close()


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
