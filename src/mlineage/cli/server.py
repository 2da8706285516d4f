"""`mlineage server` and `mlineage db upgrade`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from mlineage.cli.options import DatabaseOption
from mlineage.errors import FailedPreconditionError
from mlineage.store import default_store_url, migrate

__all__ = ["register"]

db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(store: DatabaseOption = None) -> None:
    """Apply the schema migrations this mlineage needs (safe to run again)."""
    migrate.upgrade_store(store or default_store_url())
    typer.echo(f"schema at revision {migrate.HEAD_REVISION}")


def server(
    store: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    insecure_allow_anonymous: Annotated[
        bool,
        typer.Option(
            "--insecure-allow-anonymous",
            help="With no tokens configured, serve clients that are not on loopback too.",
        ),
    ] = False,
) -> None:
    """Serve the REST API (/v1) and the web UI (/) over a store."""
    import uvicorn

    from mlineage.server.app import ServerSettings

    url = store or default_store_url()
    try:
        migrate.prepare_store(url)
    except FailedPreconditionError as exc:
        raise FailedPreconditionError(f"the server will not start: {exc.message}") from exc
    _warn_if_unreachable(url, host, insecure_allow_anonymous)
    settings = ServerSettings(store_url=url, insecure_allow_anonymous=insecure_allow_anonymous)
    os.environ.update(settings.to_environment())
    uvicorn.run(
        "mlineage.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def _warn_if_unreachable(store_url: str, host: str, insecure: bool) -> None:
    """Say so when other machines will be refused: no token exists yet."""
    from mlineage.store.tokens import TokenStore

    if insecure or host in ("127.0.0.1", "localhost", "::1"):
        return
    tokens = TokenStore.open(store_url)
    try:
        if tokens.any_exist():
            return
    finally:
        tokens.close()
    typer.echo(
        f"warning: listening on {host}, but with no token yet only loopback clients are "
        "served; create one with `mlineage token create --project P --role writer`, or "
        "start with --insecure-allow-anonymous",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.add_typer(db_app, name="db")
