"""MLflow workloads on a SQLite tracking store; runs inside the MLflow virtualenv.

    python mlflow_workloads.py --workload log_metric --size 500 --db /tmp/mlflow.db
    python mlflow_workloads.py --workload search_runs_df --size 1000 --db /tmp/mlflow.db
    # keep the 10,000-run fixture between runs (built once, a few minutes):
    python mlflow_workloads.py --workload search_runs_df --size 10000 --db unused.db \\
        --setup-db ~/.cache/mlineage-bench/mlflow-runs-10000.db

Prints one JSON object on stdout (see _workload_common.Result).

SQLite durability: MLflow's SqlAlchemyStore issues no PRAGMA, so it runs with the defaults of
Python's sqlite3 module: a rollback journal (``DELETE``) and ``synchronous=FULL``. The values
reported in ``sqlite`` are read back from MLflow's own connections. ``--sync`` applies a
PRAGMA through a SQLAlchemy ``connect`` listener; ``--journal wal`` creates the file in WAL mode.
"""

from __future__ import annotations

import os

# Before importing mlflow, which starts its telemetry client at import time.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
import sqlalchemy
from _workload_common import (
    Result,
    emit,
    fresh_db,
    parse_args,
    stdout_to_stderr,
)
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

WORKLOADS = ("log_metric", "search_runs_df")
N_PARAMS = 20
N_METRICS = 20
DONE_TAG = "bench.runs_complete"

# What the SQLAlchemy connect listener applies, and what it read back from the last connection.
pragmas: dict[str, str] = {}
observed: dict[str, str] = {}


@sqlalchemy.event.listens_for(sqlalchemy.engine.Engine, "connect")
def _on_connect(dbapi_con: Any, _record: Any) -> None:
    if not isinstance(dbapi_con, sqlite3.Connection):
        return
    for name, value in pragmas.items():
        dbapi_con.execute(f"PRAGMA {name}={value}")
    sync = dbapi_con.execute("PRAGMA synchronous").fetchone()[0]
    observed["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[sync]
    observed["journal"] = dbapi_con.execute("PRAGMA journal_mode").fetchone()[0]


def sqlite_mode() -> str:
    return f"journal={observed.get('journal', '?')}, synchronous={observed.get('synchronous', '?')}"


def log_metric(client: MlflowClient, n: int) -> tuple[float, float, str]:
    setup = time.perf_counter()
    exp_id = client.create_experiment("bench-log-metric")
    run_id = client.create_run(exp_id).info.run_id
    setup = time.perf_counter() - setup

    start = time.perf_counter()
    for i in range(n):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    seconds = time.perf_counter() - start

    assert len(client.get_metric_history(run_id, "loss")) == n
    return seconds, setup, "one client.log_metric(run_id, 'loss', v, step=i) per call, one run"


def build_runs(client: MlflowClient, n: int) -> str:
    """Create an experiment of ``n`` runs x 20 params x 20 metrics; return its id."""
    exp_id = client.create_experiment(f"bench-search-runs-{n}")
    now = int(time.time() * 1000)
    for r in range(n):
        run_id = client.create_run(exp_id, run_name=f"run-{r}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(f"m{j}", (r * 31 + j) % 997 / 997, now, 0) for j in range(N_METRICS)],
            params=[Param(f"p{j}", str((r + j) % 17)) for j in range(N_PARAMS)],
        )
    client.set_experiment_tag(exp_id, DONE_TAG, str(n))
    return exp_id


def fixture_ready(db: Path, n: int) -> bool:
    """Whether ``db`` holds a complete ``build_runs(n)`` fixture (read without MLflow)."""
    if not db.exists():
        return False
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(
            "SELECT t.value FROM experiments e JOIN experiment_tags t"
            " ON t.experiment_id = e.experiment_id WHERE e.name = ? AND t.key = ?",
            (f"bench-search-runs-{n}", DONE_TAG),
        ).fetchone()
    except sqlite3.Error:
        return False
    finally:
        con.close()
    return row is not None and row[0] == str(n)


def search_runs_df(uri: str, n: int, reuse: bool) -> tuple[float, float, str]:
    client = MlflowClient(tracking_uri=uri)
    setup = 0.0
    if reuse:
        exp_id = client.get_experiment_by_name(f"bench-search-runs-{n}").experiment_id
    else:
        setup = time.perf_counter()
        exp_id = build_runs(client, n)
        setup = time.perf_counter() - setup

    mlflow.set_tracking_uri(uri)
    # Warm-up outside the timer: store/engine creation, schema check, imports.
    mlflow.search_runs(experiment_ids=[exp_id], max_results=1, output_format="pandas")
    start = time.perf_counter()
    # max_results=n: mlflow.search_runs pages through the store itself (10,000 runs a page).
    df = mlflow.search_runs(experiment_ids=[exp_id], max_results=n, output_format="pandas")
    seconds = time.perf_counter() - start

    n_params = sum(c.startswith("params.") for c in df.columns)
    n_metrics = sum(c.startswith("metrics.") for c in df.columns)
    assert (len(df), n_params, n_metrics) == (n, N_PARAMS, N_METRICS), df.shape
    notes = (
        f"mlflow.search_runs(output_format='pandas', max_results={n}) -> {len(df)} rows x "
        f"{len(df.columns)} columns ({N_PARAMS} params, {N_METRICS} metrics per run); "
        "MLflow pages internally, 10,000 runs per store call; "
        + ("reused fixture" if reuse else "fixture built untimed with log_batch, one client")
        + "; fixture written with synchronous=OFF (the timed part only reads)"
    )
    return seconds, setup, notes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__.splitlines()[0], WORKLOADS, ("default", "normal", "full"), ("search_runs_df",), argv
    )
    db: Path = (args.setup_db or args.db).expanduser().resolve()
    reuse = args.setup_db is not None and fixture_ready(db, args.size)
    if not reuse:
        fresh_db(db, args.journal)
    uri = f"sqlite:///{db}"
    is_search = args.workload == "search_runs_df"
    if is_search:
        pragmas["synchronous"] = "OFF"  # only the untimed setup writes
    elif args.sync != "default":
        pragmas["synchronous"] = args.sync.upper()

    with stdout_to_stderr():
        if args.workload == "log_metric":
            seconds, setup, notes = log_metric(MlflowClient(tracking_uri=uri), args.size)
        else:
            seconds, setup, notes = search_runs_df(uri, args.size, reuse)
    emit(
        Result(
            peer="mlflow",
            workload=args.workload,
            size=args.size,
            seconds=seconds,
            ops_per_sec=args.size / seconds,
            notes=notes + f"; SQLite mode read back from MLflow's connection: {sqlite_mode()}",
            setup_seconds=setup,
            version=mlflow.__version__,
            sqlite=sqlite_mode() + (" (setup only; timed part reads)" if is_search else ""),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
