"""An experiment's runs as a table: filtered, sorted, narrowed to the columns that differ."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlineage.csvtext import spreadsheet_safe
from mlineage.errors import InvalidArgumentError
from mlineage.store import ExperimentRow, MetadataStore

__all__ = ["PAGE_SIZE", "Column", "Row", "RunsTable", "runs_csv", "runs_table"]

PAGE_SIZE = 200
FIXED = ("run", "state", "run_type", "start_time")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """`run`, `state`, `run_type`, `start_time`, `param.X`, `metric.X` or `time_series.X`."""
    label: str
    group: str
    """"run", "param", "metric" or "time_series"."""


class Row:
    """One run of the table; its cells (`values`, by column key) are built when first asked
    for, so a page of 200 rows of 10,000 builds 200 (sorting reads single values)."""

    __slots__ = ("_cells", "run", "source")

    def __init__(self, source: ExperimentRow) -> None:
        self.run = source.name
        """The run's resource name."""
        self.source = source
        self._cells: dict[str, Any] | None = None

    @property
    def values(self) -> dict[str, Any]:
        if self._cells is None:
            self._cells = _values(self.source)
        return self._cells

    def value(self, key: str) -> Any:
        """The cell of column `key` (None when the run has no such value)."""
        if self._cells is not None:
            return self._cells.get(key)
        group, _, name = key.partition(".")
        source = self.source
        if group == "param":
            return source.params.get(name)
        if group == "metric":
            return source.metrics.get(name)
        if group == "time_series":
            return source.time_series.get(name)
        return self.values.get(key)


@dataclass(slots=True)
class RunsTable:
    columns: list[Column]
    rows: list[Row]
    total: int
    """Runs in the experiment."""
    matched: int
    """Runs the filter kept."""
    page: int = 1
    pages: int = 1
    error: str = ""
    """The filter's error (the table then shows every run)."""
    hidden: int = 0
    """Columns left out because every run has the same value."""
    sort: str = ""
    descending: bool = False
    selected: list[str] = field(default_factory=list)


def _rows(store: MetadataStore, experiment: str, filter: str) -> tuple[list[Row], int, str]:
    """The rows the filter keeps, the number of runs, and the filter's error (then every
    run is shown). Two store calls however many runs there are: no page size, so every
    run comes back (the table sorts and pages them itself)."""
    filter = filter.strip()
    error = ""
    found: list[ExperimentRow] = []
    if filter:
        try:
            found = store.experiment_rows(experiment, filter=filter).items
        except InvalidArgumentError as exc:
            error = exc.rule or exc.message
    if not filter or error:
        found = store.experiment_rows(experiment).items
        total = len(found)
    else:
        total = store.count_runs(experiment)
    return [Row(row) for row in found], total, error


def _values(row: ExperimentRow) -> dict[str, Any]:
    values: dict[str, Any] = {
        "run": row.run_name or row.name.rsplit("/", 1)[-1],
        "state": row.state.name,
        "run_type": row.run_type,
        "start_time": row.start_time,
    }
    values.update({f"param.{k}": v for k, v in row.params.items()})
    values.update({f"metric.{k}": v for k, v in row.metrics.items()})
    values.update({f"time_series.{k}": v for k, v in row.time_series.items()})
    return values


def _columns(rows: Sequence[ExperimentRow]) -> list[Column]:
    names: dict[str, set[str]] = {"param": set(), "metric": set(), "time_series": set()}
    for row in rows:
        names["param"].update(row.params)
        names["metric"].update(row.metrics)
        names["time_series"].update(row.time_series)
    columns = [Column(key, key.replace("_", " "), "run") for key in FIXED]
    for group, found in names.items():
        columns += [Column(f"{group}.{name}", name, group) for name in sorted(found)]
    return columns


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text; missing and NaN values are put last by the caller."""
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, int | float):
        return (0, float(value))
    return (1, str(value))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _same(values: Sequence[Any]) -> bool:
    first = values[0]
    return all(v == first or (_missing(v) and _missing(first)) for v in values[1:])


def _arrange(
    rows: list[Row], columns: list[Column], sort: str, descending: bool, differ_only: bool
) -> tuple[list[Row], list[Column], int]:
    if sort:
        present = [r for r in rows if not _missing(r.value(sort))]
        absent = [r for r in rows if _missing(r.value(sort))]
        present.sort(key=lambda r: _sort_key(r.value(sort)), reverse=descending)
        rows = present + absent
    hidden = 0
    if differ_only and len(rows) > 1:
        kept = []
        for column in columns:
            if column.group != "run" and _same([r.value(column.key) for r in rows]):
                hidden += 1
            else:
                kept.append(column)
        columns = kept
    return rows, columns, hidden


def runs_table(
    store: MetadataStore,
    experiment: str,
    *,
    filter: str = "",
    sort: str = "",
    descending: bool = False,
    differ_only: bool = False,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> RunsTable:
    """One page of the experiment's runs; `sort` is a column key (unknown keys sort nothing)."""
    rows, total, error = _rows(store, experiment, filter)
    columns = _columns([row.source for row in rows])
    if sort and sort not in {c.key for c in columns}:
        sort = ""
    rows, columns, hidden = _arrange(rows, columns, sort, descending, differ_only)
    pages = max(1, math.ceil(len(rows) / page_size))
    page = min(max(1, page), pages)
    start = (page - 1) * page_size
    return RunsTable(
        columns=columns,
        rows=rows[start : start + page_size],
        total=total,
        matched=len(rows),
        page=page,
        pages=pages,
        error=error,
        hidden=hidden,
        sort=sort,
        descending=descending,
    )


def runs_csv(table: RunsTable) -> str:
    """The table's rows (call `runs_table` with a page size covering every run) as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys = [c.key for c in table.columns]
    writer.writerow(["resource_name", *keys])
    writer.writerows(
        [row.run, *[_csv_value(row.values.get(k)) for k in keys]] for row in table.rows
    )
    return out.getvalue()


def _csv_value(value: Any) -> str:
    if type(value) is float:  # most cells: checked first
        return repr(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return spreadsheet_safe(str(value))
