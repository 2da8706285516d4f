"""Time series for the charts, downsampled on the server so any series draws fast."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mlineage.store import MetadataStore
from mlineage.types import TimeSeriesPoint

__all__ = ["MAX_POINTS", "XAxis", "run_series"]

MAX_POINTS = 2000
"""Points per drawn line: enough for any screen, few enough to draw at once."""

XAxis = Literal["step", "wall_time"]


@dataclass(frozen=True, slots=True)
class _Line:
    steps: list[int]
    times: list[datetime]
    values: list[float]


def _lines(points: Sequence[TimeSeriesPoint]) -> dict[str, _Line]:
    by_key: dict[str, list[TimeSeriesPoint]] = {}
    for point in points:
        by_key.setdefault(point.key, []).append(point)
    lines = {}
    for key, found in by_key.items():
        found.sort(key=lambda p: p.step)
        lines[key] = _Line(
            [p.step for p in found], [p.wall_time for p in found], [p.value for p in found]
        )
    return lines


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity: such a value is a gap in the line."""
    return value if math.isfinite(value) else None


def run_series(
    store: MetadataStore,
    runs: Sequence[tuple[str, str]],
    *,
    x_axis: XAxis = "step",
    keys: Sequence[str] | None = None,
    max_points: int = MAX_POINTS,
) -> dict[str, Any]:
    """The series of `runs` ((resource name, label) pairs) by metric key, one line per run,
    each at most `max_points` long (downsampled by the store, which keeps each step range's
    first, last, lowest and highest point): `{"x_axis": ..., "metrics": {key: [line, ...]}}`."""
    metrics: dict[str, list[dict[str, Any]]] = {}
    for run, label in runs:
        points = store.read_time_series(run, keys, max_points=max_points)
        for key, line in sorted(_lines(points).items()):
            if x_axis == "step":
                xs: list[Any] = line.steps
            else:
                xs = [t.isoformat() for t in line.times]
            metrics.setdefault(key, []).append(
                {"run": run, "label": label, "x": xs, "y": [_number(v) for v in line.values]}
            )
    return {"x_axis": x_axis, "metrics": metrics}
