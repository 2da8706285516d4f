"""Reads of time series are bounded: a downsampled read never returns more than the server's
cap whatever a client asks, a Tensorboard read is downsampled by default as on Vertex, and one
batch read names a bounded number of series. mlineage's own `:readTimeSeries` returns every
point unless asked to downsample (the store contract's promise, on every backend)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.base import Tensorboard
from mlineage.store.sql import SqlStore
from mlineage.types import Context, StoreName, TimeSeriesPoint
from tests.live_server import LiveServer

PARENT = StoreName("p", "us-central1")
RUN = f"{PARENT}/contexts/exp-r1"
POINTS = 200
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(store_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(str(store_path))
    opened.get_or_create_metadata_store(PARENT)
    opened.create(PARENT, Context(schema_title="system.Experiment"), "exp")
    opened.create_run(
        PARENT,
        Context(schema_title="system.ExperimentRun"),
        "exp-r1",
        experiment=f"{PARENT}/contexts/exp",
    )
    opened.write_time_series_points(
        RUN,
        [
            TimeSeriesPoint(key, step, float(step % 17), WHEN)
            for key in ("loss", "acc", "lr")
            for step in range(POINTS)
        ],
    )
    yield opened
    opened.close()


@pytest.fixture
def api(store: SqlStore, store_path: Path) -> Iterator[httpx.Client]:
    settings = ServerSettings(
        str(store_path), points_per_series=10, max_points_per_series=40, max_series_per_read=2
    )
    with (
        LiveServer(create_app(store, settings)) as server,
        httpx.Client(base_url=server.url, timeout=60.0) as client,
    ):
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _steps(points: list[dict[str, Any]]) -> list[int]:
    return [int(p["step"]) for p in points]


def test_read_time_series_returns_every_point_unless_asked_to_downsample(
    api: httpx.Client,
) -> None:
    path = f"/v1/{RUN}:readTimeSeries"
    everything = ok(api.get(path))["points"]
    assert {p["key"] for p in everything} == {"loss", "acc", "lr"}
    assert len(everything) == 3 * POINTS
    for asked in (1000, -1):
        capped = ok(api.get(path, params={"keys": "loss", "maxPoints": asked}))["points"]
        assert 4 <= len(capped) <= 40, asked
        assert (_steps(capped)[0], _steps(capped)[-1]) == (0, POINTS - 1)  # ends are kept
    few = ok(api.get(path, params={"keys": "loss", "maxPoints": 8}))["points"]
    assert len(few) <= 8
    refused = api.get(path, params={"maxPoints": 2})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "max_points"


@pytest.fixture
def board(store: SqlStore) -> str:
    made = store.create_tensorboard(
        "projects/p/locations/us-central1", Tensorboard(display_name="tb")
    )
    return made.name


def test_batch_read_samples_each_series_and_caps_how_many(api: httpx.Client, board: str) -> None:
    series = [f"{board}/experiments/exp/runs/r1/timeSeries/{key}" for key in ("loss", "acc", "lr")]
    read = ok(api.get(f"/v1/{board}:batchRead", params=[("timeSeries", s) for s in series[:2]]))
    for data in read["timeSeriesData"]:
        steps = _steps(data["values"])
        assert 4 <= len(steps) <= 10
        assert (steps[0], steps[-1]) == (0, POINTS - 1)
    too_many = api.get(f"/v1/{board}:batchRead", params=[("timeSeries", s) for s in series])
    assert too_many.status_code == 400
    violation = too_many.json()["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == "time_series"
    assert "at most 2" in violation["description"]


def test_read_of_one_series_honours_max_data_points_up_to_the_cap(
    api: httpx.Client, board: str
) -> None:
    path = f"/v1/{board}/experiments/exp/runs/r1/timeSeries/loss:read"
    assert len(ok(api.get(path))["timeSeriesData"]["values"]) <= 10
    assert (
        10 < len(ok(api.get(path, params={"maxDataPoints": 30}))["timeSeriesData"]["values"]) <= 30
    )
    for asked in (-1, 5000):
        values = ok(api.get(path, params={"maxDataPoints": asked}))["timeSeriesData"]["values"]
        assert 10 < len(values) <= 40, asked
    assert api.get(path, params={"maxDataPoints": 0}).status_code == 400
