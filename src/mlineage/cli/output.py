"""Rendering rows for people (a rich table) and for scripts (CSV, JSON)."""

from __future__ import annotations

import csv
import enum
import json
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mlineage.csvtext import spreadsheet_safe

__all__ = ["Format", "cell", "emit", "plain", "print_table", "stdout"]


class Format(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def stdout(width: int | None = None) -> Console:
    """A console on the current standard output (looked up per command, so tests capture it)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def plain(value: Any) -> Any:
    """`value` as JSON data: NaN is null, times are RFC 3339, enums are their names."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return plain(value.item())
    return value


def cell(value: Any) -> str:
    """One value as table text: numbers to 6 significant digits, missing values blank,
    times to the second in local time."""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return spreadsheet_safe(json.dumps(value, sort_keys=True))
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def _csv_value(value: Any) -> str:
    """Full precision, unlike a table cell."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return spreadsheet_safe(json.dumps(value, sort_keys=True))
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def _table(
    cells: Sequence[Sequence[str]],
    columns: Sequence[str],
    *,
    title: str | None,
    caption: str | None,
    numeric: Sequence[str],
    styles: Sequence[str | None] | None,
) -> Table:
    table = Table(
        title=Text(title, style="bold") if title else None,
        title_justify="left",
        header_style="bold",
        caption=Text(caption, style="dim") if caption else None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for i, column in enumerate(columns):
        # Values are what people came for: their columns keep their width (up to a point)
        # and long headers fold, "param." on a line of its own.
        widest = max((len(line[i]) for line in cells), default=0)
        prefix, dot, _ = column.partition(".")
        split = bool(dot) and widest < len(column)
        header = column.replace(".", ".\n", 1) if split else column
        floor = len(prefix) + 1 if split else 4
        table.add_column(
            Text(header),
            justify="right" if column in numeric else "left",
            min_width=min(max(widest, floor), 36),
            overflow="fold",
        )
    for i, line in enumerate(cells):
        table.add_row(*(Text(value) for value in line), style=styles[i] if styles else None)
    return table


def _needed(table: Table) -> int:
    """The width a table needs to show every value whole: its columns' minimum widths,
    plus a padding and a separator each (the SIMPLE_HEAD box draws no vertical lines)."""
    return sum(column.min_width or 0 for column in table.columns) + 3 * len(table.columns) + 1


def print_table(table: Table) -> None:
    """Print a table; one wider than the terminal is printed whole (lines wrap) rather
    than cut."""
    console = stdout()
    needed = _needed(table)
    if needed > console.width:
        console = stdout(width=needed)
    console.print(table)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    *,
    title: str | None = None,
    numeric: Sequence[str] = (),
    styles: Sequence[str | None] | None = None,
    caption: str | None = None,
    transpose_on: str | None = None,
) -> None:
    """Write `rows` (only `columns`, in that order) as a table, CSV or JSON on stdout.

    `styles` gives each table row a rich style (e.g. to mark differences). With
    `transpose_on` (a column), a table too wide for the terminal is turned a quarter: one
    column per row, headed by its value in that column, one row per other column.
    """
    if fmt is Format.json:
        data = [{c: plain(row.get(c)) for c in columns} for row in rows]
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in columns])
        return
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    table = _table(cells, columns, title=title, caption=caption, numeric=numeric, styles=styles)
    if transpose_on is not None and rows and _needed(table) > stdout().width:
        heads = [cell(row.get(transpose_on)) for row in rows]
        keys = [c for c in columns if c != transpose_on]
        turned = [[key, *(cell(row.get(key)) for row in rows)] for key in keys]
        turned_table = _table(
            turned,
            [transpose_on, *heads],
            title=title,
            caption=caption,
            numeric=heads if all(c in numeric for c in keys) else [],
            styles=None,
        )
        if _needed(turned_table) <= stdout().width:
            table = turned_table
    print_table(table)
