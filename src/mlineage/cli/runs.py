"""`mlineage runs list|show|compare`: an experiment's runs as a table, one run, side by side."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mlineage.cli import resolve
from mlineage.cli.options import (
    ExperimentOption,
    FormatOption,
    LocationOption,
    ProjectOption,
    StoreOption,
    connect,
)
from mlineage.cli.output import Format, cell, emit, plain, stdout
from mlineage.errors import InvalidArgumentError
from mlineage.sdk.config import settings
from mlineage.sdk.experiments import Experiment
from mlineage.store import RunInfo
from mlineage.types import EventType

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register", "sort_rows"]

runs_app = typer.Typer(help="Experiment and pipeline runs.", no_args_is_help=True)

BASE_COLUMNS = ["run_name", "run_type", "state"]


def _parse_sort(sort: str) -> tuple[str, bool]:
    """`metric.auc`, `metric.auc desc`, `metric.auc asc` or `-metric.auc` -> (column, desc)."""
    text = sort.strip()
    if text.startswith("-"):
        return text[1:].strip(), True
    words = text.split()
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        return words[0], words[1].lower() == "desc"
    if len(words) != 1:
        raise InvalidArgumentError(
            "sort", f"expected a column, then optionally asc or desc, got {sort!r}"
        )
    return words[0], False


def _unknown(field: str, names: Sequence[str], known: Sequence[str]) -> InvalidArgumentError:
    listed = ", ".join(known)
    return InvalidArgumentError(field, f"no column {', '.join(names)}; the columns are {listed}")


def sort_rows(frame: pd.DataFrame, sort: str) -> pd.DataFrame:
    """The rows ordered by one column; missing values always last, ties by name."""
    import pandas as pd  # imported here: it costs about a second of every start

    column, descending = _parse_sort(sort)
    if column not in frame.columns:
        raise _unknown("sort", [column], list(frame.columns))
    values = frame[column]
    numeric = pd.to_numeric(values, errors="coerce")
    key = numeric if numeric.notna().sum() == values.notna().sum() else values.astype("string")
    order = frame.assign(_key=key).sort_values(
        ["_key", "run_name"], ascending=[not descending, True], na_position="last", kind="stable"
    )
    return order.drop(columns="_key")


def _constant(values: pd.Series) -> bool:
    """The same value (present) in every row."""
    present = [plain(v) for v in values]
    return None not in present and all(v == present[0] for v in present)


def _columns(frame: pd.DataFrame, wanted: str | None) -> tuple[list[str], dict[str, Any]]:
    """The columns to show, and those left out because every run has the same value."""
    if wanted:
        names = [c.strip() for c in wanted.split(",") if c.strip()]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise _unknown("columns", missing, list(frame.columns))
        return (names if "run_name" in names else ["run_name", *names]), {}
    shown = ["run_name"]
    same: dict[str, Any] = {}
    for column in frame.columns:
        if column not in ("run_type", "state") and not column.startswith(("param.", "metric.")):
            continue
        if not frame[column].notna().any():
            continue  # columns no listed run has a value for only take room
        if len(frame) > 1 and _constant(frame[column]):
            same[column] = frame[column].iloc[0]
        else:
            shown.append(column)
    return shown, same


def _frame(experiment: Experiment) -> pd.DataFrame:
    """One row per run, values as logged: an int parameter stays an int beside runs that
    lack it (a DataFrame of numbers would make it a float)."""
    import pandas as pd  # imported here: it costs about a second of every start

    records: list[dict[str, Any]] = []
    for row in settings.store().experiment_rows(experiment.resource_name).items:
        record: dict[str, Any] = {
            "run_name": row.run_name,
            "run_type": row.run_type,
            "state": row.state.name,
        }
        for prefix, values in (
            ("param.", row.params),
            ("metric.", row.metrics),
            ("time_series_metric.", row.time_series),
        ):
            record.update({prefix + key: value for key, value in sorted(values.items())})
        records.append(record)
    columns = list(dict.fromkeys(BASE_COLUMNS + [k for r in records for k in r]))
    prefixes = ("param.", "metric.", "time_series_metric.")
    ordered = BASE_COLUMNS + [
        c for prefix in prefixes for c in sorted(c for c in columns if c.startswith(prefix))
    ]
    return pd.DataFrame(records, columns=ordered, dtype=object)


@runs_app.command("list")
def list_runs(
    experiment: Annotated[
        str,
        typer.Option(
            "--experiment", "-e", envvar="MLINEAGE_EXPERIMENT", help="The experiment to list."
        ),
    ],
    filter: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help='e.g. metric.accuracy > 0.9 AND param.optimizer = "adam" (the filter language, '
            "plus param.<key> and metric.<key>)",
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(help='A column, e.g. "metric.accuracy desc" (ascending unless desc).'),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns, e.g. param.learning_rate,metric.accuracy "
            "(time_series_metric.<key> is the last value of a series).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """List the runs of an experiment with their parameters and metrics."""
    connect(store, project, location)
    found = Experiment(experiment)
    frame = _frame(found)
    if filter:
        names = {run.name for run in found.get_runs(filter=filter)}
        frame = frame[frame["run_name"].isin(names)]
    if sort:
        frame = sort_rows(frame, sort)
    if limit is not None:
        frame = frame.head(limit)
    shown, same = _columns(frame, columns)
    if fmt is not Format.table:
        shown += list(same)  # scripts get every column they would have seen
    rows = [{str(k): v for k, v in record.items()} for record in frame.to_dict("records")]
    numeric = [c for c in shown if c.startswith(("metric.", "time_series_metric."))]
    title = f"{experiment}: {len(rows)} run{'s' if len(rows) != 1 else ''}"
    caption = "Same in every run: " + ", ".join(f"{k}={cell(v)}" for k, v in same.items())
    emit(
        rows,
        shown,
        fmt,
        title=title,
        numeric=numeric,
        caption=caption if same else None,
        transpose_on="run_name",
    )


def _artifacts(run: RunInfo) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The run's inputs (read, not made within the run) and outputs."""
    graph = settings.store().query_context_lineage_subgraph(run.context.name)
    made = {e.artifact for e in graph.events if e.type is EventType.OUTPUT}
    read = {e.artifact for e in graph.events if e.type is EventType.INPUT}
    inputs, outputs = [], []
    for artifact in graph.artifacts:
        row = {
            "id": artifact.resource_id,
            "display_name": artifact.display_name,
            "schema_title": artifact.schema_title,
            "uri": artifact.uri,
        }
        if artifact.name in made:
            outputs.append(row)
        elif artifact.name in read:
            inputs.append(row)
    return inputs, outputs


def _series(run: RunInfo) -> dict[str, dict[str, Any]]:
    points = settings.store().read_time_series(run.context.name)
    series: dict[str, list[tuple[int, float]]] = {}
    for point in points:
        series.setdefault(point.key, []).append((point.step, point.value))
    summary = {}
    for key, values in series.items():
        numbers = [v for _, v in values if math.isfinite(v)]
        summary[key] = {
            "points": len(values),
            "last_step": values[-1][0],
            "first": values[0][1],
            "last": values[-1][1],
            "min": min(numbers) if numbers else None,
            "max": max(numbers) if numbers else None,
        }
    return summary


def _details(run: RunInfo) -> dict[str, Any]:
    store = settings.store()
    inputs, outputs = _artifacts(run)
    return {
        "name": run.context.display_name,
        "resource_name": run.context.name,
        "experiment": resolve.experiment_name(run),
        "run_type": run.run_type,
        "state": run.state.name,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "params": store.get_params(run.context.name),
        "metrics": store.get_metrics(run.context.name),
        "time_series": _series(run),
        "inputs": inputs,
        "outputs": outputs,
        "provenance": run.provenance,
    }


def _key_values(title: str, values: dict[str, Any]) -> Table:
    table = Table(
        title=Text(title, style="bold"), title_justify="left", show_header=False, box=None
    )
    table.add_column(style="bold")
    table.add_column()
    for key, value in values.items():
        table.add_row(Text(key), Text(cell(value)))
    return table


def _provenance_lines(provenance: dict[str, Any]) -> dict[str, Any]:
    lines: dict[str, Any] = {}
    for key, value in provenance.items():
        if key == "git" and isinstance(value, dict):
            lines.update({f"git.{k}": v for k, v in value.items() if k != "root"})
        elif key == "packages" and isinstance(value, dict):
            lines["packages"] = f"{len(value)} recorded (see --format json)"
        else:
            lines[key] = value
    return lines


def _show_table(details: dict[str, Any]) -> None:
    console = stdout()
    started, ended = details["start_time"], details["end_time"]
    took = f" ({(ended - started).total_seconds():.1f}s)" if started and ended else ""
    console.print(
        f"[bold]{escape(details['name'])}[/bold]  {details['state']}  {escape(details['run_type'])}"
    )
    where = escape(details["experiment"] or "-")
    console.print(f"experiment {where}; started {cell(started)}{took}")
    console.print(Text(details["resource_name"], style="dim"))
    for title in ("params", "metrics"):
        if details[title]:
            console.print()
            console.print(_key_values(title.capitalize(), details[title]))
    if details["time_series"]:
        columns = ["key", "points", "first", "last", "min", "max"]
        rows = [{"key": key, **summary} for key, summary in details["time_series"].items()]
        console.print()
        emit(rows, columns, Format.table, title="Time series", numeric=columns[1:])
    for title in ("inputs", "outputs"):
        if details[title]:
            console.print()
            rows = details[title]
            emit(
                rows,
                ["id", "display_name", "schema_title", "uri"],
                Format.table,
                title=title.capitalize(),
            )
    if details["provenance"]:
        console.print()
        console.print(_key_values("Provenance", _provenance_lines(details["provenance"])))


@runs_app.command("show")
def show_run(
    run: Annotated[str, typer.Argument(help="Run name (or its resource name).")],
    experiment: ExperimentOption = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="table (readable) or json.")
    ] = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """Show a run: parameters, metrics, time series, input and output artifacts, provenance."""
    connect(store, project, location)
    details = _details(resolve.run(run, experiment))
    if fmt is Format.table:
        _show_table(details)
    else:
        sys.stdout.write(json.dumps(plain(details), indent=2, default=str) + "\n")


def _same(values: list[Any]) -> bool:
    cleaned = [plain(v) for v in values]
    return all(v == cleaned[0] and type(v) is type(cleaned[0]) for v in cleaned)


@runs_app.command("compare")
def compare_runs(
    runs: Annotated[list[str], typer.Argument(help="Two or more run names.")],
    experiment: ExperimentOption = None,
    only_diff: Annotated[
        bool, typer.Option("--only-diff", help="Only the rows whose values differ.")
    ] = False,
    fmt: FormatOption = Format.table,
    store: StoreOption = None,
    project: ProjectOption = None,
    location: LocationOption = None,
) -> None:
    """Compare runs side by side: state, parameters and metrics (differences highlighted)."""
    if len(runs) < 2:
        raise InvalidArgumentError("RUNS", "give at least two runs to compare")
    connect(store, project, location)
    found = [resolve.run(ref, experiment, field=f"RUNS[{i}]") for i, ref in enumerate(runs)]
    names = [r.context.display_name for r in found]
    if len(set(names)) < len(names):
        names = [f"{resolve.experiment_name(r)}/{r.context.display_name}" for r in found]
    if len(set(names)) < len(names):
        raise InvalidArgumentError("RUNS", "a run is named twice")
    store_ = settings.store()
    values: dict[str, list[Any]] = {"state": [r.state.name for r in found]}
    params = [store_.get_params(r.context.name) for r in found]
    metrics = [store_.get_metrics(r.context.name) for r in found]
    for prefix, per_run in (("param.", params), ("metric.", metrics)):
        for key in sorted(set().union(*per_run)):
            values[prefix + key] = [got.get(key) for got in per_run]
    rows, styles = [], []
    for key, row_values in values.items():
        differs = not _same(row_values)
        if only_diff and not differs:
            continue
        rows.append({"key": key, **dict(zip(names, row_values, strict=True))})
        styles.append("bold yellow" if differs else None)
    title = "Compared runs (rows that differ in yellow)" if not only_diff else "What differs"
    emit(rows, ["key", *names], fmt, title=title, styles=styles)


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
