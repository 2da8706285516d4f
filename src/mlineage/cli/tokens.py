"""`mlineage token create|list|revoke`: the API tokens a server accepts.

Tokens live in the server's database, so these commands take the database (`--store`), not
the server's address. A secret is printed once, by `create`, alone on standard output (so
`TOKEN=$(mlineage token create ...)` works); how to use it goes to standard error.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlineage.cli.options import DatabaseOption
from mlineage.errors import InvalidArgumentError
from mlineage.store import default_store_url, display_url
from mlineage.store.tokens import CACHE_SECONDS, Role, TokenInfo, TokenStore

__all__ = ["register", "token_app"]

token_app = typer.Typer(
    help="API tokens for `mlineage server`: create, list, revoke.", no_args_is_help=True
)


def _open(store: str | None) -> TokenStore:
    url = store or default_store_url()
    if url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            "store",
            f"tokens are kept in the server's database; give its URL (a SQLite path or "
            f"postgresql://...), not the server's address {display_url(url)!r}",
        )
    return TokenStore.open(url)


def _stdout() -> Console:
    # Piped output keeps whole rows (a table squeezed into 80 columns is hard to grep).
    width = None if sys.stdout.isatty() else 1000
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, width=width)


def _stderr() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _day(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


@token_app.command("create")
def create(
    project: Annotated[str, typer.Option(help="The project the token may see.")],
    role: Annotated[
        str, typer.Option(help="reader (read), writer (read and write) or admin (also delete).")
    ],
    description: Annotated[str, typer.Option(help="Who or what the token is for.")] = "",
    expires_in_days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Days until the token expires (default: never).", show_default=False
        ),
    ] = None,
    store: DatabaseOption = None,
) -> None:
    """Create a token and print its secret, once."""
    expires = None if expires_in_days is None else timedelta(days=expires_in_days)
    tokens = _open(store)
    try:
        info, secret = tokens.create(
            project, Role.parse(role), description=description, expires_in=expires
        )
    finally:
        tokens.close()
    notes = _stderr()
    expiry = f", expires {_when(info.expire_time)} UTC" if info.expire_time else ""
    notes.print(
        f"Created token {info.token_id}: {info.role.value} in project "
        f"{escape(info.project)}{expiry}.\n"
        "The secret below is shown only this once; keep it somewhere safe."
    )
    _stdout().print(secret)
    notes.print(
        "Use it with (having set MLINEAGE_TOKEN to the secret, which is not repeated here):\n"
        "  export MLINEAGE_TOKEN=...   (the mlineage SDK and CLI read it)\n"
        '  mlineage.init(api_endpoint=..., credentials=os.environ["MLINEAGE_TOKEN"])\n'
        '  curl -H "Authorization: Bearer $MLINEAGE_TOKEN" http://HOST:8080/v1/projects/'
        f"{escape(info.project)}/locations/us-central1/metadataStores/default/artifacts\n"
        "or paste it into the web UI's login page."
    )


@token_app.command("list")
def list_tokens(
    project: Annotated[
        str | None, typer.Option(help="Only this project's tokens.", show_default=False)
    ] = None,
    store: DatabaseOption = None,
) -> None:
    """List tokens (never their secrets), revoked and expired ones too."""
    tokens = _open(store)
    try:
        listed = tokens.list(project=project)
    finally:
        tokens.close()
    if not listed:
        _stderr().print(
            "No tokens. A server on this database serves loopback clients only "
            "(or anyone, with --insecure-allow-anonymous)."
        )
        return
    _stdout().print(_table(listed))


def _table(tokens: list[TokenInfo]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("PROJECT", overflow="fold", min_width=8)
    for header in ("ROLE", "STATUS", "CREATED", "EXPIRES"):
        table.add_column(header, no_wrap=True)
    table.add_column("DESCRIPTION", overflow="fold", min_width=12)
    for token in tokens:
        table.add_row(
            token.token_id,
            escape(token.project),
            token.role.value,
            token.status(),
            _day(token.create_time),
            _day(token.expire_time),
            escape(token.description),
        )
    return table


@token_app.command("revoke")
def revoke(
    token_id: Annotated[
        str, typer.Argument(help="The token's ID, as `mlineage token list` shows.")
    ],
    store: DatabaseOption = None,
) -> None:
    """Revoke a token: servers refuse it within a few seconds."""
    tokens = _open(store)
    try:
        info = tokens.revoke(token_id)
    finally:
        tokens.close()
    _stdout().print(
        f"Revoked token {info.token_id} ({info.role.value} in project {escape(info.project)}). "
        f"Running servers refuse it within {CACHE_SECONDS:g} seconds."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
