"""Running CLI commands in-process (typer's CliRunner) and through `main` (error path)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from mlineage.cli.app import _register, app, main

Invoke = Callable[..., Result]


@pytest.fixture
def cli() -> Invoke:
    """`cli("runs", "list", ...)`: the command's result, with a 200-column terminal."""
    _register()
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return invoke


@pytest.fixture
def fails(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """`fails("runs", "list", ...)`: (exit code, stderr) of a command expected to fail."""

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as stopped:
            main(list(args))
        code = stopped.value.code
        assert isinstance(code, int)
        return code, capsys.readouterr().err

    return run
