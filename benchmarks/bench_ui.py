"""Web UI benchmark: server-side time of the heavy pages, through the ASGI app in-process.

Workloads (sizes: quick / full):

  runs_table   an experiment's runs page (sorted by a metric, first page of 200 rows) of
               N runs x 10 params x 10 metrics x 1 time series (last value shown)
               (2,000 / 10,000 runs); the same with a filter; the CSV of every run
  lineage      graph.json (layout included) and the artifact page of a layered DAG: 64 source
               artifacts, then 12 layers of 64 executions, each reading 2 artifacts of the
               layer before (i and i + 2**(layer % 6): a butterfly, so the inputs of one
               artifact double at each step back until they cover a whole layer) and
               writing 1; drawn whole (depth 0: to the ends) from a last-layer artifact,
               whose upstream is 958 of the 1,600 nodes (the same graph in both modes)
  series       series.json of one run with one time series of P points, downsampled to
               2,000 (200,000 / 1,000,000 points)

The data is built untimed in a fresh SQLite file; each request runs once untimed, then
REPEATS times; the table shows the median wall time and the median CPU time of the process
(the app runs in it: on a shared machine the wall time also counts waiting for a CPU).
Target: under 1 s of wall time for the runs page at 10,000 runs and for the lineage of
1,000 nodes (the issue's "page loads" budget).

    python benchmarks/bench_ui.py --quick   # about a minute
    python benchmarks/bench_ui.py           # full sizes, a few minutes (building 10,000 runs)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, Execution, StoreName, TimeSeriesPoint

PARENT = StoreName("bench", "us-central1")
SIZES = {
    "quick": {"runs": 2_000, "lineage_width": 64, "lineage_layers": 12, "points": 200_000},
    "full": {"runs": 10_000, "lineage_width": 64, "lineage_layers": 12, "points": 1_000_000},
}
REPEATS = {"quick": 3, "full": 5}
TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Timing:
    seconds: float
    """Wall-clock time, median."""
    cpu: float
    """CPU time of this process (the app runs in it), median: on a shared machine the wall
    time also counts waiting for a CPU."""


@dataclass
class Row:
    workload: str
    size: str
    timing: Timing
    target: float | None = None


def build_runs(store: SqlStore, n: int) -> str:
    experiment = store.create(PARENT, Context(schema_title="system.Experiment"), "sweep")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(n):
        run = store.create_run(
            PARENT,
            Context(schema_title="system.ExperimentRun", display_name=f"run-{i}"),
            f"sweep-run-{i}",
            experiment=experiment.name,
        )
        name = run.context.name
        store.log_params(name, {f"p{k}": i * k + 0.5 for k in range(9)} | {"opt": "adam"})
        store.log_metrics(name, {f"m{k}": i / (k + 1) for k in range(10)})
        store.write_time_series_points(name, [TimeSeriesPoint("loss", 0, 1.0 / (i + 1), start)])
    return experiment.name


def build_lineage(store: SqlStore, width: int, layers: int) -> tuple[str, int, int]:
    """A layered butterfly DAG (`width` a power of two, at least 64); returns a last-layer
    artifact, the number of nodes, and how many of them are its upstream."""
    if width < 64 or width & (width - 1):
        raise ValueError("width must be a power of two of at least 64")
    previous = [
        a.name
        for a in store.create_many(
            PARENT,
            [Artifact(display_name=f"source-{i}", uri=f"gs://b/s/{i}") for i in range(width)],
        )
    ]
    nodes = width
    for layer in range(layers):
        # Any 6 layers in a row read at distinct power-of-two strides, so the upstream of
        # one artifact has 2**k artifacts k layers back, until it fills a layer.
        stride = 2 ** (layer % 6)
        made = []
        for i in range(width):
            _, outputs = store.record_execution(
                PARENT,
                Execution(display_name=f"step-{layer}-{i}"),
                inputs=[previous[i], previous[(i + stride) % width]],
                outputs=[Artifact(display_name=f"out-{layer}-{i}", uri=f"gs://b/{layer}/{i}")],
            )
            made.append(outputs[0].name)
        nodes += 2 * width
        previous = made
    upstream = width  # the sources
    for back in range(layers):  # executions and their outputs, from the last layer back
        upstream += 2 * min(2**back, width)
    return previous[0], nodes, upstream


def build_series(store: SqlStore, experiment: str, points: int) -> str:
    run = store.create_run(
        PARENT,
        Context(schema_title="system.ExperimentRun", display_name="long"),
        "sweep-long",
        experiment=experiment,
    ).context.name
    start = datetime(2024, 1, 1, tzinfo=UTC)
    batch = 50_000
    for first in range(0, points, batch):
        store.write_time_series_points(
            run,
            [
                TimeSeriesPoint("loss", s, 1.0 / (s + 1), start + timedelta(seconds=s))
                for s in range(first, min(first + batch, points))
            ],
        )
    return run


def timed(request: Callable[[], object], repeats: int) -> Timing:
    request()  # warm-up: imports, compiled statements, template compilation
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        request()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return Timing(statistics.median(walls), statistics.median(cpus))


def get(client: TestClient, path: str, **params: object) -> Callable[[], object]:
    def request() -> object:
        response = client.get(path, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
        return response

    return request


def run(mode: str) -> list[Row]:
    sizes, repeats = SIZES[mode], REPEATS[mode]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        url = str(Path(folder) / "ui.db")
        store = SqlStore(url)
        print(f"building {sizes['runs']:,} runs...", file=sys.stderr)
        experiment = build_runs(store, sizes["runs"])
        print("building the lineage DAG...", file=sys.stderr)
        root, nodes, upstream = build_lineage(
            store, sizes["lineage_width"], sizes["lineage_layers"]
        )
        print(f"building a {sizes['points']:,}-point series...", file=sys.stderr)
        long_run = build_series(store, experiment, sizes["points"])
        app = create_app(store, ServerSettings(store_url=url))
        client = TestClient(app, base_url="http://127.0.0.1")  # tokenless: loopback only
        runs = f"{sizes['runs'] + 1:,} runs"
        page = "/" + experiment
        rows.append(
            Row(
                "runs page, sorted",
                runs,
                timed(get(client, page, sort="metric.m3", desc=1), repeats),
                TARGET_SECONDS,
            )
        )
        rows.append(
            Row(
                "runs page, filtered + sorted",
                runs,
                timed(get(client, page, filter="metric.m1 > 100", sort="param.p2"), repeats),
                TARGET_SECONDS,
            )
        )
        rows.append(
            Row(
                "runs page, differing columns",
                runs,
                timed(get(client, page, differ="true"), repeats),
            )
        )
        rows.append(
            Row("runs CSV (every run)", runs, timed(get(client, page + "/runs.csv"), repeats))
        )
        graph = client.get(f"/{PARENT}/graph.json", params={"root": root, "depth": 0}).json()
        if len(graph["nodes"]) < upstream:
            raise RuntimeError(
                f"graph.json drew {len(graph['nodes'])} nodes; the root's upstream has {upstream}"
            )
        drawn = f"{len(graph['nodes']):,} of {nodes:,} nodes"
        rows.append(
            Row(
                "lineage graph.json (whole)",
                drawn,
                timed(get(client, f"/{PARENT}/graph.json", root=root, depth=0), repeats),
                TARGET_SECONDS,
            )
        )
        rows.append(
            Row("artifact page", drawn, timed(get(client, "/" + root), repeats), TARGET_SECONDS)
        )
        rows.append(
            Row(
                "series.json (downsampled)",
                f"{sizes['points']:,} points",
                timed(get(client, f"/{PARENT}/series.json", run=long_run), repeats),
            )
        )
        store.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    rows = run(mode)
    print(f"\nmlineage web UI, server side ({mode}; median of {REPEATS[mode]})\n")
    print(f"| {'request':<30} | {'size':<22} | {'seconds':>8} | {'cpu s':>6} | {'target':>7} |")
    print(f"|{'-' * 32}|{'-' * 24}|{'-' * 10}|{'-' * 8}|{'-' * 9}|")
    failed = False
    for row in rows:
        target = ""
        if row.target is not None:
            ok = row.timing.seconds < row.target
            failed = failed or not ok
            target = f"< {row.target:g} s {'ok' if ok else 'SLOW'}"
        print(
            f"| {row.workload:<30} | {row.size:<22} | {row.timing.seconds:>8.3f} "
            f"| {row.timing.cpu:>6.3f} | {target:>7} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
