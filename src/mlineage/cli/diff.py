"""`mlineage diff A B`: what changed between two models or two runs."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.text import Text

from mlineage.cli import resolve
from mlineage.cli.options import (
    ExperimentOption,
    LocationOption,
    ProjectOption,
    StoreOption,
    connect,
)
from mlineage.cli.output import Format, plain, stdout
from mlineage.sdk import diff as sdk_diff
from mlineage.sdk.diff import MISSING, Diff

__all__ = ["register"]


def _value(value: Any) -> Any:
    return None if value is MISSING else plain(value)


def as_json(result: Diff) -> dict[str, Any]:
    """The diff as JSON data; a value one side lacks is null."""

    def changes(items: Any) -> list[dict[str, Any]]:
        return [{"key": c.key, "before": _value(c.before), "after": _value(c.after)} for c in items]

    return {
        "before": result.before,
        "after": result.after,
        "changed": bool(result),
        "shared_upstream": result.shared_upstream,
        "truncated": result.truncated,
        "params": changes(result.params),
        "metrics": changes(result.metrics),
        "data": [
            {
                "key": c.key,
                "before": c.before.name if c.before else None,
                "after": c.after.name if c.after else None,
                "changes": changes(c.changes),
            }
            for c in result.data
        ],
        "steps": [
            {**{k: v for k, v in asdict(c).items() if k != "params"}, "params": changes(c.params)}
            for c in result.steps
        ],
        "code": changes(result.code),
        "environment": changes(result.environment),
    }


def _styled(line: str) -> Text:
    if not line.startswith(" "):
        return Text(line, style="bold")
    body = line.lstrip()
    if body.startswith("+ "):
        return Text(line, style="green")
    if body.startswith("- "):
        return Text(line, style="red")
    return Text(line)


def diff_command(
    a: Annotated[str, typer.Argument(help="The one before: an artifact (id, name) or a run.")],
    b: Annotated[str, typer.Argument(help="The one after.")],
    experiment: ExperimentOption = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table (readable text) or json.")
    ] = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """What changed from A to B: parameters, metrics, upstream data and steps, code, environment.

    A and B are two models (artifact ids, resource names or unique display names) or two
    runs (run names; --experiment picks the experiment)."""
    connect(store, project, location)
    before = resolve.subject(a, experiment, "A")
    after = resolve.subject(b, experiment, "B")
    result = sdk_diff.diff(before, after)
    if fmt is not Format.table:
        sys.stdout.write(json.dumps(as_json(result), indent=2, default=str) + "\n")
        return
    console = stdout()
    for line in str(result).splitlines():
        console.print(_styled(line), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
