"""Time series for the charts, downsampled on the server so any series draws fast."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from mlineage.store import MetadataStore
from mlineage.types import TimeSeriesPoint

__all__ = ["MAX_POINTS", "XAxis", "downsample", "run_series"]

MAX_POINTS = 2000
"""Points per drawn line: enough for any screen, few enough to draw at once."""

XAxis = Literal["step", "wall_time"]


def downsample(count: int, values: Sequence[float], max_points: int) -> list[int]:
    """Indexes of at most `max_points` of `count` points that keep the line's shape: the
    first and last point and, in each of equal buckets between them, the lowest and the
    highest (so spikes survive, unlike taking every n-th point)."""
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    if count <= max_points:
        return list(range(count))
    y = np.asarray(values, dtype=float)
    low = np.where(np.isnan(y), np.inf, y)
    high = np.where(np.isnan(y), -np.inf, y)
    buckets = (max_points - 2) // 2
    edges = np.linspace(1, count - 1, buckets + 1).astype(int)
    keep = [0]
    for start, end in itertools.pairwise(edges):
        if end <= start:
            continue
        lo = start + int(low[start:end].argmin())
        hi = start + int(high[start:end].argmax())
        keep.extend(sorted({lo, hi}))
    keep.append(count - 1)
    return keep


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
    each at most `max_points` long: `{"x_axis": ..., "metrics": {key: [line, ...]}}`."""
    metrics: dict[str, list[dict[str, Any]]] = {}
    for run, label in runs:
        for key, line in sorted(_lines(store.read_time_series(run, keys)).items()):
            keep = downsample(len(line.values), line.values, max_points)
            if x_axis == "step":
                xs: list[Any] = [line.steps[i] for i in keep]
            else:
                xs = [line.times[i].isoformat() for i in keep]
            metrics.setdefault(key, []).append(
                {
                    "run": run,
                    "label": label,
                    "x": xs,
                    "y": [_number(line.values[i]) for i in keep],
                    "points": len(line.values),
                }
            )
    return {"x_axis": x_axis, "metrics": metrics}
