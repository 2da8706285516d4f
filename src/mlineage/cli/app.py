"""The root `mlineage` command: global options, error reporting, and the command groups."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mlineage.errors import MlineageError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mlineage",
    help="ML metadata and lineage: experiments, runs, artifacts and their lineage.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
errors = Console(stderr=True, soft_wrap=True)  # an error stays one line
_debug = False


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    global _debug
    _debug = debug


def _register() -> None:
    from mlineage.cli import artifacts, demo, diff, experiments, lineage, runs, server

    server.register(app)
    experiments.register(app)
    runs.register(app)
    artifacts.register(app)
    lineage.register(app)
    diff.register(app)
    demo.register(app)
    from mlineage.cli import tokens

    tokens.register(app)
    from mlineage.cli import ui

    ui.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; an error is one line on stderr and a non-zero exit, unless --debug."""
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except MlineageError as exc:
        if _debug:
            raise
        errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, markup=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        errors.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors (typer carries its own click)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            errors.print(f"error: {escape(exc.format_message())}")
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors and anything unexpected
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if _debug:
            raise
        errors.print(f"[red]error:[/red] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
        errors.print("(run with --debug for the traceback)", style="dim")
        sys.exit(1)
