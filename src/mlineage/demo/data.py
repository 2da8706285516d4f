"""The demo's data: a synthetic customer-churn table, written as real CSV files.

Rows come from a fixed random seed, so the same call writes the same bytes (and the same
content fingerprint). `refresh=True` is next month's export: more customers, a shifted
population and more missing `support_calls` values.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FEATURES", "Split", "prepare", "read_table", "write_raw"]

FEATURES = ("tenure_months", "monthly_charges", "support_calls", "annual_contract", "fiber")
"""The model's inputs, in column order."""
RAW_COLUMNS = ("customer_id", *FEATURES, "churned")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def write_raw(path: Path, *, refresh: bool = False) -> int:
    """Write the raw export to `path` and return its number of rows."""
    rng = random.Random(20240201 if refresh else 20240101)
    rows = 1200 if refresh else 1000
    missing = 0.06 if refresh else 0.03
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RAW_COLUMNS)
        for i in range(rows):
            tenure = rng.randint(0, 72)
            charges = round(rng.uniform(20, 120) + (8 if refresh else 0), 2)
            calls = min(10, int(rng.expovariate(0.6 if refresh else 0.7)))
            annual = int(rng.random() < (0.35 if refresh else 0.45))
            fiber = int(rng.random() < 0.4)
            z = 2.0 - 0.1 * tenure + 0.06 * (charges - 70) + 1.1 * calls - 2.6 * annual
            z += 1.2 * fiber + rng.gauss(0, 0.3)
            churned = int(rng.random() < _sigmoid(z))
            # In the refresh, a logging bug loses the call count of many frequent callers.
            lost = missing * (8 if refresh and calls >= 3 else 1)
            shown_calls = "" if rng.random() < lost else str(calls)
            offset = 50_000 if refresh else 10_000
            writer.writerow(
                [f"c{offset + i}", tenure, charges, shown_calls, annual, fiber, churned]
            )
    return rows


def _read_raw(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Split:
    """What `prepare` wrote."""

    train_rows: int
    test_rows: int
    dropped_rows: int
    means: tuple[float, ...]
    stds: tuple[float, ...]


def prepare(
    raw: Path,
    train: Path,
    test: Path,
    *,
    null_handling: str = "drop",
    test_fraction: float = 0.2,
    seed: int = 7,
) -> Split:
    """Clean the raw export (drop rows with missing values, or fill them with zero), split it
    and standardise every feature with the training split's mean and deviation."""
    if null_handling not in ("drop", "fill_zero"):
        raise ValueError(f"null_handling must be 'drop' or 'fill_zero', got {null_handling!r}")
    records = _read_raw(raw)
    table: list[tuple[list[float], int]] = []
    dropped = 0
    for record in records:
        if any(record[f] == "" for f in FEATURES) and null_handling == "drop":
            dropped += 1
            continue
        features = [float(record[f] or 0) for f in FEATURES]
        table.append((features, int(record["churned"])))
    random.Random(seed).shuffle(table)
    cut = int(len(table) * (1 - test_fraction))
    train_rows, test_rows = table[:cut], table[cut:]
    columns = list(zip(*(features for features, _ in train_rows), strict=True))
    means = tuple(sum(c) / len(c) for c in columns)
    stds = tuple(
        math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0
        for c, m in zip(columns, means, strict=True)
    )
    for path, rows in ((train, train_rows), (test, test_rows)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([*FEATURES, "churned"])
            for features, label in rows:
                scaled = [
                    round((v - m) / s, 6) for v, m, s in zip(features, means, stds, strict=True)
                ]
                writer.writerow([*scaled, label])
    return Split(len(train_rows), len(test_rows), dropped, means, stds)


def read_table(path: Path) -> tuple[list[list[float]], list[int]]:
    """A prepared CSV as feature rows and labels."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [[float(v) for v in line] for line in reader]
    return [row[:-1] for row in rows], [int(row[-1]) for row in rows]
