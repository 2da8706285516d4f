"""`mlineage demo`: record the demo (see `mlineage.demo`) and say what to try next."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from mlineage.cli.options import LocationOption, ProjectOption, StoreOption, connect
from mlineage.cli.output import stdout
from mlineage.demo import DEMO_EXPERIMENT, STEPS, DemoSummary, record_demo

__all__ = ["register"]


def _flags(context: typer.Context) -> str:
    """The options to repeat in suggested commands: those given on this command line
    (not those from the environment, which the next commands see too)."""
    flags = []
    for name in ("store", "project", "location"):
        value = context.params.get(name)
        source = context.get_parameter_source(name)
        if value and source is not None and source.name == "COMMANDLINE":
            flags.append(f" --{name} {shlex.quote(str(value))}")
    return "".join(flags)


def next_steps(summary: DemoSummary) -> list[tuple[str, str]]:
    """(what it shows, the command) pairs to print after the demo."""
    model = summary.production_model.rsplit("/", 1)[-1]
    last_good = summary.last_good_model.rsplit("/", 1)[-1]
    raw = summary.raw_data.rsplit("/", 1)[-1]
    exp = summary.experiment
    return [
        ("every run of the experiment", f"mlineage runs list -e {exp}"),
        (
            "the sweep, best first",
            f"mlineage runs list -e {exp} --filter 'display_name:\"sweep-*\"' "
            "--sort 'metric.auc desc'",
        ),
        (
            "only the good ones",
            f"mlineage runs list -e {exp} --filter 'metric.auc > 0.93' "
            "--columns param.learning_rate,param.momentum,metric.auc",
        ),
        (
            "four configurations side by side",
            f"mlineage runs compare sweep-1 sweep-2 sweep-3 sweep-4 -e {exp}",
        ),
        (
            "one run: params, loss curve, files, provenance",
            f"mlineage runs show {summary.champion} -e {exp}",
        ),
        ("where the production model came from", f"mlineage lineage {model} --upstream"),
        ("everything made from the raw data", f"mlineage lineage {raw} --downstream"),
        ("what changed since the last good model", f"mlineage diff {last_good} {model}"),
        ("all of it in the browser", "mlineage ui"),
    ]


def demo(
    context: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the demo's files go (default: demo-data/ beside the store file).",
            show_default=False,
        ),
    ] = None,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="Experiment name (a free one is used).")
    ] = DEMO_EXPERIMENT,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """Record a realistic example: raw data -> preprocessing -> a 4-run sweep -> evaluation,
    a production model to compare with the last good one, and a pipeline run."""
    connect(store, project, location)
    console = stdout()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("recording the demo", total=STEPS)

        def report(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        summary = record_demo(experiment=experiment, data_dir=data_dir, progress=report)
    if summary.note:
        console.print(f"[yellow]Note:[/yellow] {escape(summary.note)}")
    runs = len(summary.runs) + 1
    console.print(
        f"[bold green]Recorded[/bold green] experiment [bold]{summary.experiment}[/bold]: "
        f"{runs} runs (a 4-run sweep and a pipeline run among them); "
        f"files in {escape(str(summary.data_dir))}"
    )
    last_good, production = summary.champion_metrics, summary.production_metrics
    console.print(
        f"Champion {summary.champion}: auc {last_good['auc']:.3f}, accuracy "
        f"{last_good['accuracy']:.3f}; production after the data refresh: auc "
        f"{production['auc']:.3f}, accuracy {production['accuracy']:.3f}"
    )
    console.print()
    console.print("[bold]Try next:[/bold]")
    flags = _flags(context)
    for what, command in next_steps(summary):
        console.print(f"  [dim]# {what}[/dim]")
        console.print(f"  {escape(command + flags)}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
