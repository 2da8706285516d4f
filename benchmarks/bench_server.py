"""Server benchmark: the mlineage REST API beside an `mlflow server`, on SQLite and PostgreSQL.

Workloads, each driven by concurrent HTTP clients (threads, one connection each) on loopback:

  log_metrics     one summary metric per request: mlineage `:logMetrics` vs MLflow
                  `runs/log-metric`
  batch_series    1,000 time-series points per request: mlineage `:writeTimeSeriesPoints` vs MLflow
                  `runs/log-batch` (its maximum of 1,000 metrics per request)

Sizes (quick / full): clients 8 / 16; log_metrics requests 1,600 / 16,000; batch_series
requests 80 / 800 (80,000 / 800,000 points). Both servers run with the same number of worker
processes (`--workers`, default 2: the machine's cores), each on a fresh database: a SQLite file,
or a database on one throwaway PostgreSQL cluster with its default durability (fsync on). MLflow
comes from the peers' virtualenv (`python benchmarks/peers/setup_venvs.py --peer mlflow`).

    python benchmarks/bench_server.py --quick
    python benchmarks/bench_server.py --backend sqlite
    python benchmarks/bench_server.py --no-peers     # mlineage only (so does a missing MLflow)
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from run_peer import peer_python

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgcluster import postgres_cluster

SIZES = {
    "quick": {"clients": 8, "log_metrics": 1_600, "batch_series": 80},
    "full": {"clients": 16, "log_metrics": 16_000, "batch_series": 800},
}
BATCH = 1_000
TARGET_RATIO = 3.0

Request = tuple[str, str, dict[str, Any]]
"""(method, path, JSON body) of one request."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {url}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not come up: {url}")


@contextmanager
def serving(command: list[str], health: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_up(health, process)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


# -- the two servers ---------------------------------------------------------------------


class Mlflow:
    name = "MLflow"

    def __init__(self, base: str) -> None:
        self.base = base

    @staticmethod
    def command(store_url: str, port: int, workers: int, workdir: Path) -> list[str]:
        mlflow = peer_python("mlflow").parent / "mlflow"
        if store_url.startswith("sqlite"):
            backend = store_url
        else:
            backend = store_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        return [
            str(mlflow), "server", "--backend-store-uri", backend,
            "--default-artifact-root", str(workdir / "mlflow-artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip

    def health(self) -> str:
        return f"{self.base}/health"

    def make_runs(self, count: int) -> list[str]:
        self._warm_up()
        with httpx.Client(base_url=self.base, timeout=60) as client:
            reply = client.post(
                "/api/2.0/mlflow/experiments/create", json={"name": f"bench-{os.urandom(4).hex()}"}
            )
            reply.raise_for_status()
            experiment = reply.json()["experiment_id"]
            runs = []
            for i in range(count):
                reply = client.post(
                    "/api/2.0/mlflow/runs/create",
                    json={"experiment_id": experiment, "run_name": f"run-{i}",
                          "start_time": int(time.time() * 1000)},
                )  # fmt: skip
                reply.raise_for_status()
                runs.append(reply.json()["run"]["info"]["run_id"])
        return runs

    def _warm_up(self, timeout: float = 300.0) -> None:
        """Wait until a worker answers a store query: on a fresh database MLflow creates
        its tables on the first request, and a worker may be restarted meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = httpx.post(
                    f"{self.base}/api/2.0/mlflow/experiments/search",
                    json={"max_results": 1},
                    timeout=timeout,
                )
                if reply.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"MLflow at {self.base} never answered a query")
            time.sleep(1.0)

    def log_metric(self, run: str, i: int) -> Request:
        body = {"run_id": run, "key": "loss", "value": 1.0 / (i + 1),
                "timestamp": int(time.time() * 1000), "step": i}  # fmt: skip
        return "POST", "/api/2.0/mlflow/runs/log-metric", body

    def batch_series(self, run: str, i: int) -> Request:
        now = int(time.time() * 1000)
        metrics = [
            {"key": "loss", "value": 1.0 / (s + 1), "timestamp": now, "step": i * BATCH + s}
            for s in range(BATCH)
        ]
        return "POST", "/api/2.0/mlflow/runs/log-batch", {"run_id": run, "metrics": metrics}


class Mlineage:
    name = "mlineage"
    store = "v1/projects/bench/locations/us-central1/metadataStores/default"

    def __init__(self, base: str) -> None:
        self.base = base

    @staticmethod
    def command(store_url: str, port: int, workers: int, workdir: Path) -> list[str]:
        del workdir
        return [
            sys.executable, "-m", "mlineage.cli", "server", "--store", store_url,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip

    def health(self) -> str:
        return f"{self.base}/openapi.json"

    def make_runs(self, count: int) -> list[str]:
        from mlineage.client import RestStore
        from mlineage.types import Context, StoreName

        store = RestStore(self.base)
        parent = StoreName("bench", "us-central1")
        name = f"bench-{os.urandom(4).hex()}"
        experiment = store.create(
            parent, Context(schema_title="system.Experiment", display_name=name), name
        )
        runs = []
        for i in range(count):
            context = Context(schema_title="system.ExperimentRun", display_name=f"run-{i}")
            run = store.create_run(parent, context, f"{name}-{i}", experiment=experiment.name)
            runs.append(run.context.name)
        store.close()
        return runs

    def log_metric(self, run: str, i: int) -> Request:
        return "POST", f"/v1/{run}:logMetrics", {"metrics": {"loss": 1.0 / (i + 1)}}

    def batch_series(self, run: str, i: int) -> Request:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        points = [
            {"key": "loss", "step": i * BATCH + s, "value": 1.0 / (s + 1), "wallTime": now}
            for s in range(BATCH)
        ]
        return "POST", f"/v1/{run}:writeTimeSeriesPoints", {"points": points}


# -- the load ------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def drive(base: str, runs: list[str], total: int, make: Callable[[str, int], Request]) -> Result:
    """`len(runs)` clients, one run and one connection each, `total` requests in all."""
    per_client = total // len(runs)
    latencies: list[list[float]] = [[] for _ in runs]
    errors: list[BaseException] = []
    start = threading.Barrier(len(runs) + 1)

    def client(index: int) -> None:
        run = runs[index]
        requests = [make(run, i) for i in range(per_client)]
        with httpx.Client(base_url=base, timeout=120) as http:
            http.get("/")  # open the connection before the clock starts
            start.wait()
            try:
                for method, path, body in requests:
                    began = time.perf_counter()
                    reply = http.request(method, path, json=body)
                    latencies[index].append(time.perf_counter() - began)
                    if reply.status_code != 200:
                        raise RuntimeError(f"{path}: {reply.status_code} {reply.text[:300]}")
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(runs))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    flat = [x for per in latencies for x in per]
    return Result(len(flat), seconds, flat)


def measure(
    system: type[Mlflow] | type[Mlineage],
    store_url: str,
    workers: int,
    sizes: dict[str, int],
    workdir: Path,
) -> dict[str, Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    target = system(base)
    command = system.command(store_url, port, workers, workdir)
    log = workdir / f"{system.name}-{port}.log"
    with serving(command, target.health(), log):
        results = {}
        for workload in ("log_metrics", "batch_series"):
            runs = target.make_runs(sizes["clients"])
            make = target.log_metric if workload == "log_metrics" else target.batch_series
            results[workload] = drive(base, runs, sizes[workload], make)
            rate = results[workload].rate
            print(f"  {system.name:8} {workload:13} {rate:9.1f} req/s", flush=True)
    return results


def store_urls(backend: str, workdir: Path, pg: str | None) -> tuple[str, str]:
    """Fresh databases for (mlineage, MLflow)."""
    if backend == "sqlite":
        return str(workdir / "mlineage.db"), f"sqlite:///{workdir / 'mlflow.db'}"
    assert pg is not None
    import sqlalchemy as sa

    admin = sa.create_engine(
        pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    suffix = os.urandom(3).hex()
    with admin.connect() as connection:
        for name in (f"mlineage_{suffix}", f"mlflow_{suffix}"):
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    root = pg.rsplit("/", 1)[0]
    return f"{root}/mlineage_{suffix}", f"{root}/mlflow_{suffix}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-peers", action="store_true", help="measure mlineage only")
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"sizes: {sizes}, {BATCH} points per batch request, {args.workers} workers per server")
    with_peer = not args.no_peers and _mlflow_available()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mlineage-bench-server-") as directory:
        workdir = Path(directory)
        workdir.chmod(0o755)  # the postgres user must reach the cluster's folder inside it
        with postgres_cluster(workdir / "pg") if "postgresql" in backends else _none() as pg:
            for backend in backends:
                print(f"{backend}:", flush=True)
                ours, theirs = store_urls(backend, workdir, pg)
                mine = measure(Mlineage, ours, args.workers, sizes, workdir)
                peer = measure(Mlflow, theirs, args.workers, sizes, workdir) if with_peer else {}
                for workload in ("log_metrics", "batch_series"):
                    rows.append((backend, workload, mine[workload], peer.get(workload)))
        shutil.rmtree(workdir / "pg", ignore_errors=True)
    print()
    print("| backend | workload | mlineage req/s | p50 / p99 ms | MLflow req/s | p50 / p99 ms "
          "| ratio | target |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for backend, workload, mine_result, peer_result in rows:
        print(f"| {backend} | {workload} | {_rate_and_latency(mine_result)} ", end="")
        if peer_result is None:
            print(f"| - | - | - | >= {TARGET_RATIO:.0f}x |")
            continue
        ratio = mine_result.rate / peer_result.rate
        verdict = f">= {TARGET_RATIO:.0f}x {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
        print(f"| {_rate_and_latency(peer_result)} | {ratio:.1f}x | {verdict} |")
    print(f"\nlatencies over all requests of all clients; a batch request is {BATCH} points")
    return 0


def _mlflow_available() -> bool:
    if (peer_python("mlflow").parent / "mlflow").exists():
        return True
    print("MLflow unavailable: no peer virtualenv (python benchmarks/peers/setup_venvs.py "
          "--peer mlflow); measuring mlineage only")  # fmt: skip
    return False


def _rate_and_latency(result: Result) -> str:
    return f"{result.rate:,.0f} | {_ms(result.percentile(50))} / {_ms(result.percentile(99))}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


@contextmanager
def _none() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    raise SystemExit(main())
