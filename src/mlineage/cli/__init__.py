"""The `mlineage` command line: thin commands over the SDK and the store contract."""

from mlineage.cli.app import app, main

__all__ = ["app", "main"]
