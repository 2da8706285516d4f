"""Foundation benchmark: mlineage's embedded store beside ml-metadata and MLflow.

Workloads (sizes: quick / full):

  (a) artifacts   batch artifact creation, batches of 100, 4 metadata fields
                  (10,000 / 20,000 artifacts) vs ml-metadata put_artifacts
  (b) executions  one execution with 2 input and 1 new output artifact and their events
                  (2,000 / 5,000 executions) vs ml-metadata put_execution
  (c) log_metric  per-call logging, one value per call (500 / 5,000 calls) vs MLflow
                  log_metric; mlineage runs it for log_metrics and log_time_series_metrics
  (d) experiment_df  get_experiment_df of N runs x 20 params x 20 metrics
                  (1,000 / 10,000 runs) vs MLflow search_runs(output_format="pandas")

Under (a) and (b), a floor: Python's sqlite3 module alone running the same statements in
the same transactions, on values made before the clock starts (floors.py).

mlineage runs in this process on a fresh SQLite file, once with synchronous=NORMAL (its
default) and once with synchronous=FULL; the peers run in their own virtualenvs with their
own defaults (see benchmarks/peers/README.md; `--peer-sync full` makes MLflow use FULL too).

    python benchmarks/peers/setup_venvs.py          # once: the peers' virtualenvs
    python benchmarks/bench_foundation.py --quick   # about a minute
    python benchmarks/bench_foundation.py           # the full sizes
    python benchmarks/bench_foundation.py --repeat 3   # medians of 3 rounds

(a) and (b) run in parts, mlineage's two sides and the peer's process taking turns part by
part (`run_in_turns`); the others run on both sides back to back (mlineage's two, then the
peer's; the peer's first in every other round). So a shared machine that slows down for a
while weighs on both sides of a comparison alike; `--repeat` reports the medians of the
rounds, and each round's own ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlineage
from mlineage.sdk import provenance
from mlineage.sdk.config import settings
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, Execution, StoreName

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from _workload_common import part_ranges
from run_peer import PeerError, PeerParts, run_peer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors

PARENT = StoreName("bench", "us-central1")
SYNCS = ("normal", "full")
"""mlineage's two sides: its default durability, and ml-metadata's (see the docstring)."""
SIZES = {
    "quick": {"artifacts": 10_000, "executions": 2_000, "log_metric": 500, "experiment_df": 1_000},
    "full": {
        "artifacts": 20_000,
        "executions": 5_000,
        "log_metric": 5_000,
        "experiment_df": 10_000,
    },
}
PEER_OF = {
    "artifacts": ("mlmd", "artifacts"),
    "artifacts floor": ("mlmd", "artifacts"),
    "executions": ("mlmd", "executions"),
    "executions floor": ("mlmd", "executions"),
    "log_metric": ("mlflow", "log_metric"),
    "log_time_series": ("mlflow", "log_metric"),
    "experiment_df": ("mlflow", "search_runs_df"),
}
TARGETS = {
    "artifacts": 5,
    "executions": 5,
    "log_metric": 10,
    "log_time_series": 10,
    "experiment_df": 5,
}


@dataclass
class Measure:
    workload: str
    size: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.size / self.seconds


def _timed(work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _open(folder: Path, name: str, sync: str) -> SqlStore:
    """A fresh store, prepared untimed: schema created and metadata store registered (as
    ml-metadata's peer registers its types before timing)."""
    store = SqlStore(f"sqlite:///{folder / name}.db?synchronous={sync}")
    store.get_or_create_metadata_store(PARENT)
    return store


def _dataset(i: int) -> dict[str, Any]:
    """The fields of the i-th artifact of workload (a)."""
    return {
        "schema_title": "system.Dataset",
        "display_name": f"dataset-{i}",
        "uri": f"gs://bench/data/{i}.csv",
        "metadata": {"rows": i, "source": "bigquery", "null_rate": 0.01, "split": "train"},
    }


def _batches(n: int) -> list[range]:
    return [range(start, min(start + 100, n)) for start in range(0, n, 100)]


Steps = tuple[Callable[[int], None], int]
"""A timed workload as its steps: the function running step i, and how many steps there are."""


def artifact_steps(store: SqlStore, n: int) -> Steps:
    """Workload (a) on `store`: step k creates the k-th batch of 100 artifacts. The step makes
    their objects, as ml-metadata's workload makes its protos: a caller pays for them."""
    batches = _batches(n)

    def create_batch(k: int) -> None:
        store.create_many(PARENT, [Artifact(**_dataset(i)) for i in batches[k]])

    return create_batch, len(batches)


def _inputs(store: SqlStore, n: int) -> list[Artifact]:
    """The 2 input artifacts of each of workload (b)'s n executions, made untimed."""
    return store.create_many(
        PARENT, [Artifact(uri=f"gs://bench/in/{i}", display_name=f"in-{i}") for i in range(2 * n)]
    )


def execution_steps(store: SqlStore, n: int) -> Steps:
    """Workload (b) on `store`: step i records the i-th execution (its inputs made first)."""
    inputs = _inputs(store, n)

    def record(i: int) -> None:
        store.record_execution(
            PARENT,
            Execution(display_name=f"train-{i}"),
            inputs=[inputs[2 * i].name, inputs[2 * i + 1].name],
            outputs=[Artifact(schema_title="system.Model", uri=f"gs://bench/out/{i}")],
        )

    return record, n


STEPS: dict[str, Callable[[SqlStore, int], Steps]] = {
    "artifacts": artifact_steps,
    "executions": execution_steps,
}
"""The workloads that run in parts beside their peer's (see `run_in_turns`)."""


def _timed_steps(steps: Steps, part: range | None = None) -> float:
    """The seconds of the steps of `part` (all of them when None)."""
    run, count = steps
    start = time.perf_counter()
    for i in range(count) if part is None else part:
        run(i)
    return time.perf_counter() - start


def bench_artifacts(store: SqlStore, n: int) -> float:
    return _timed_steps(artifact_steps(store, n))


def bench_executions(store: SqlStore, n: int) -> float:
    return _timed_steps(execution_steps(store, n))


PARTS = 10
"""Workloads (a) and (b) run in this many parts on every side, the sides taking turns."""


def run_in_turns(
    stores: dict[str, SqlStore], n: int, group: str, peer: PeerParts | None, first: int
) -> dict[str, float]:
    """Workload `group` ((a) or (b), `n` operations) on each of `stores` and on `peer`, in
    `PARTS` parts each. The sides take turns part by part, the side that starts rotating
    (from `first`), so a machine whose speed drifts weighs on every side alike (run one
    after the other, a minute apart, the sides' ratio moved by a third from round to
    round). After each of its parts a store's log is checkpointed untimed (`_settle`), as
    the peer, whose rollback journal writes everything before a call returns, leaves no
    work behind either. Returns each store's seconds (the peer's come with its result)."""
    steps = {side: STEPS[group](store, n) for side, store in stores.items()}
    sides: list[str | None] = [*stores, None] if peer else [*stores]  # None: the peer
    seconds = dict.fromkeys(stores, 0.0)
    for k in range(PARTS):
        start = (first + k) % len(sides)
        for side in sides[start:] + sides[:start]:
            if side is None:
                assert peer is not None
                peer.next_part()
            else:
                part = part_ranges(steps[side][1], PARTS)[k]
                seconds[side] += _timed_steps(steps[side], part)
                _settle(stores[side])
    return seconds


def _settle(store: SqlStore) -> None:
    """Checkpoint `store`'s log now, untimed: the checkpoint that its background thread
    would run shortly after a part must not run in the next side's turn."""
    database = store.db.engine.url.database
    assert database is not None
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def floor_artifacts(folder: Path, name: str, sync: str, n: int) -> tuple[float, int]:
    """Workload (a) as sqlite3 alone runs its statements (see floors.py): the seconds and
    the artifacts inserted."""
    _open(folder, name, sync).close()
    batches = []
    for batch in _batches(n):
        fields = [_dataset(i) for i in batch]
        batches.append(
            [
                (f["display_name"], f["schema_title"], f["uri"], json.dumps(f["metadata"]))
                for f in fields
            ]
        )
    return floors.artifacts_written(folder / f"{name}.db", sync, batches)


def floor_executions(folder: Path, name: str, sync: str, n: int) -> tuple[float, dict[str, int]]:
    """Workload (b) as sqlite3 alone runs its statements (see floors.py): the seconds and
    the rows inserted per table."""
    store = _open(folder, name, sync)
    made = _inputs(store, n)
    inputs = [(a.resource_id, b.resource_id) for a, b in zip(made[::2], made[1::2], strict=True)]
    store.close()
    uris = [f"gs://bench/out/{i}" for i in range(n)]
    return floors.executions_written(folder / f"{name}.db", sync, inputs, uris)


def _sdk_run(url: str) -> None:
    settings.close()
    settings.current_run = None
    mlineage.init(project="bench", experiment="per-call", store=url)
    mlineage.start_run("run")


def bench_log_metric(url: str, n: int) -> float:
    def work() -> None:
        for i in range(n):
            mlineage.log_metrics({"loss": 1.0 / (i + 1)})

    _sdk_run(url)
    seconds = _timed(work)
    mlineage.end_run()
    return seconds


def bench_log_time_series(url: str, n: int) -> float:
    def work() -> None:
        for i in range(n):
            mlineage.log_time_series_metrics({"loss": 1.0 / (i + 1)}, step=i)

    _sdk_run(url)
    seconds = _timed(work)
    mlineage.end_run()
    return seconds


def bench_experiment_df(store: SqlStore, url: str, n: int) -> float:
    experiment = store.create(PARENT, Context(schema_title="system.Experiment"), "sweep")
    for i in range(n):
        run = store.create_run(
            PARENT,
            Context(schema_title="system.ExperimentRun", display_name=f"run-{i}"),
            f"sweep-run-{i}",
            experiment=experiment.name,
        )
        store.log_params(run.context.name, {f"p{k}": i * k + 0.5 for k in range(20)})
        store.log_metrics(run.context.name, {f"m{k}": i / (k + 1) for k in range(20)})
    settings.close()
    mlineage.init(project="bench", store=url)
    frame: Any = None

    def work() -> None:
        nonlocal frame
        frame = mlineage.get_experiment_df("sweep")

    seconds = _timed(work)
    assert frame is not None
    assert frame.shape == (n, 4 + 40), frame.shape
    return seconds


def warm_up(folder: Path, sync: str) -> None:
    """Warm up once per process and round, on a store of its own: imports (pandas for the
    DataFrame), compiled statements, and the provenance scan of installed packages that the
    first run of a process does in a background thread. The timed workloads are unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'warmup'}.db?synchronous={sync}"
    bench_log_metric(url, 50)
    warm = _open(folder, "warmup", sync)
    bench_artifacts(warm, 200)
    bench_executions(warm, 20)
    bench_experiment_df(warm, url, 5)
    warm.close()
    provenance.imported_packages()  # the scan's thread must not share the timed part's CPU
    provenance.wait_for_pending()
    settings.close()


GROUPS: dict[str, tuple[str, ...]] = {
    "artifacts": ("artifacts", "artifacts floor"),
    "executions": ("executions", "executions floor"),
    "log_metric": ("log_metric", "log_time_series"),
    "experiment_df": ("experiment_df",),
}
"""Each group of mlineage's workloads, by the peer workload they are compared with."""


def run_mlineage(folder: Path, sizes: dict[str, int], sync: str, group: str) -> dict[str, Measure]:
    """The workloads of `group` (see GROUPS) that run on their own, on fresh stores in
    `folder`: all but (a) and (b) themselves, which `run_side_by_side` runs."""
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Measure] = {}
    if group in STEPS:  # the workload itself runs in turns with its peer: run_side_by_side
        n = sizes[group]
        floor = floor_artifacts if group == "artifacts" else floor_executions
        seconds, _ = floor(folder, f"{group}-floor-{sync}", sync, n)
        results[f"{group} floor"] = Measure(f"{group} floor", n, seconds)
    elif group == "log_metric":
        n = sizes["log_metric"]
        for workload, bench_call in (
            ("log_metric", bench_log_metric),
            ("log_time_series", bench_log_time_series),
        ):
            url = f"sqlite:///{folder / f'{workload}-{sync}'}.db?synchronous={sync}"
            results[workload] = Measure(workload, n, bench_call(url, n))
    else:
        n = sizes["experiment_df"]
        url = f"sqlite:///{folder / f'df-{sync}'}.db?synchronous={sync}"
        store = _open(folder, f"df-{sync}", sync)
        results["experiment_df"] = Measure("experiment_df", n, bench_experiment_df(store, url, n))
        store.close()
    settings.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--no-peers", action="store_true", help="measure mlineage only")
    parser.add_argument("--peer-sync", choices=("default", "normal", "full"), default="default")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run this many rounds (every workload once on each side) and report the "
        "medians (on a shared machine one run can be off by half)",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    repeat = max(args.repeat, 1)

    with tempfile.TemporaryDirectory(prefix="mlineage-bench-") as tmp:
        folder = Path(tmp)
        normals: list[dict[str, Measure]] = []
        fulls: list[dict[str, Measure]] = []
        peer_runs: dict[str, list[dict[str, Any]]] = {}
        unavailable: set[str] = set()
        # A round runs each workload on both sides back to back (mlineage with NORMAL and
        # FULL, then the peer; the peer first in every other round), so a machine that slows
        # down for a while weighs on both sides of a comparison alike.
        for i in range(repeat):  # fresh files each time
            normal: dict[str, Measure] = {}
            full: dict[str, Measure] = {}
            for sync in SYNCS:
                warm_up(folder / f"{sync}-{i}", sync)
            for group in GROUPS:
                with_peer = not args.no_peers
                if group in STEPS:  # (a) and (b) take turns with their peer
                    both = run_side_by_side(
                        folder, i, sizes, group, with_peer, peer_runs, unavailable
                    )
                    normal[group], full[group] = both["normal"], both["full"]
                    with_peer = False  # it has run
                peer_first = i % 2 == 1
                if with_peer and peer_first:
                    _run_peer(group, args.peer_sync, sizes, folder, repeat, peer_runs, unavailable)
                normal.update(run_mlineage(folder / f"normal-{i}", sizes, "normal", group))
                full.update(run_mlineage(folder / f"full-{i}", sizes, "full", group))
                if with_peer and not peer_first:
                    _run_peer(group, args.peer_sync, sizes, folder, repeat, peer_runs, unavailable)
            normals.append(normal)
            fulls.append(full)
        normal_median, full_median = _median_measures(normals), _median_measures(fulls)
        peers = {
            key: _median_peer(runs) for key, runs in peer_runs.items() if key not in unavailable
        }

    if repeat > 1:
        print(f"\nmedians of {repeat} rounds (each workload's sides side by side in a round)")
    paired = paired_ratios(normals, fulls, peer_runs)
    rows = report(normal_median, full_median, peers, mode, paired)
    if repeat > 1:
        report_rounds(normals, fulls, peer_runs)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def report_rounds(
    normals: list[dict[str, Measure]],
    fulls: list[dict[str, Measure]],
    peer_runs: dict[str, list[dict[str, Any]]],
) -> None:
    """Each round's figures and ratios, in the order the rounds ran: how far apart the runs
    were (a round's two sides ran back to back, so its ratios are paired)."""
    print("\neach round (ops/s; experiment_df in seconds): mlineage NORMAL | FULL | peer")
    print("and each round's ratios: NORMAL | FULL")
    for workload in normals[0]:
        seconds = workload == "experiment_df"
        spell = "{:.2f}" if seconds else "{:,.0f}"
        ours = [
            " ".join(
                spell.format(m[workload].seconds if seconds else m[workload].rate) for m in side
            )
            for side in (normals, fulls)
        ]
        theirs_runs = peer_runs.get(_peer_key(workload), [])
        theirs = " ".join(
            spell.format(run["seconds"] if seconds else run["ops_per_sec"]) for run in theirs_runs
        )
        print(f"  {workload:<18}{ours[0]} | {ours[1]} | {theirs or '-'}")
        if len(theirs_runs) == len(normals):
            ratios = [
                " ".join(
                    f"{_ratio(m[workload], run):.1f}x"
                    for m, run in zip(side, theirs_runs, strict=True)
                )
                for side in (normals, fulls)
            ]
            print(f"  {'':<18}{ratios[0]} | {ratios[1]}")


def _peer_key(workload: str) -> str:
    """How the results of the peer `workload` is compared with are keyed: "peer:workload"."""
    return ":".join(PEER_OF[workload])


def _leave_out(key: str, error: PeerError, unavailable: set[str]) -> None:
    """Say why the peer `key` is left out of the comparison, and leave it out."""
    print(f"peer {key} unavailable: {error}", file=sys.stderr)
    unavailable.add(key)


def _ratio(ours: Measure, theirs: dict[str, Any]) -> float:
    """How many times faster mlineage is (rates: ours/theirs; seconds: theirs/ours)."""
    if ours.workload == "experiment_df":
        return float(theirs["seconds"]) / ours.seconds
    return ours.rate / float(theirs["ops_per_sec"])


def run_side_by_side(
    folder: Path,
    i: int,
    sizes: dict[str, int],
    group: str,
    with_peer: bool,
    runs: dict[str, list[dict[str, Any]]],
    unavailable: set[str],
) -> dict[str, Measure]:
    """Workload `group` ((a) or (b)) of round `i` on fresh NORMAL and FULL stores and, when
    `with_peer`, on its peer, the three taking turns (`run_in_turns`); the peer's result is
    appended to `runs` (a peer that cannot start is left out). Each sync's measure."""
    n = sizes[group]
    peer, peer_workload = PEER_OF[group]
    key = _peer_key(group)
    stores = {sync: _open(folder / f"{sync}-{i}", f"{group}-{sync}", sync) for sync in SYNCS}
    try:
        with contextlib.ExitStack() as stack:
            parts = None
            if with_peer and key not in unavailable:
                try:
                    parts = stack.enter_context(
                        PeerParts(peer, peer_workload, n, folder / "peers", PARTS)
                    )
                except PeerError as exc:
                    _leave_out(key, exc, unavailable)
            seconds = run_in_turns(stores, n, group, parts, first=i)
            if parts is not None:
                runs.setdefault(key, []).append(parts.result())
    finally:
        for store in stores.values():
            store.close()
    return {sync: Measure(group, n, seconds[sync]) for sync in SYNCS}


def _run_peer(
    group: str,
    peer_sync: str,
    sizes: dict[str, int],
    folder: Path,
    repeat: int,
    runs: dict[str, list[dict[str, Any]]],
    unavailable: set[str],
) -> None:
    """The peer workload that mlineage's `group` is compared with, once, appended to `runs`
    (a peer that fails is left out)."""
    peer, peer_workload = PEER_OF[group]
    key = _peer_key(group)
    if key in unavailable:
        return
    try:
        result = run_peer(
            peer,
            peer_workload,
            sizes[group],
            folder / "peers",
            sync=peer_sync if peer == "mlflow" else "default",
            reuse_setup=repeat > 1,  # the untimed fixture, built once
        )
    except PeerError as exc:
        _leave_out(key, exc, unavailable)
        return
    runs.setdefault(key, []).append(result)


def _median_measures(runs: list[dict[str, Measure]]) -> dict[str, Measure]:
    """Per workload, the run of median time (of an odd count; the faster middle one of an
    even count)."""
    return {
        workload: sorted((run[workload] for run in runs), key=lambda m: m.seconds)[
            (len(runs) - 1) // 2
        ]
        for workload in runs[0]
    }


def _median_peer(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The peer run of median time, as `_median_measures` picks ours."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def paired_ratios(
    normals: list[dict[str, Measure]],
    fulls: list[dict[str, Measure]],
    peer_runs: dict[str, list[dict[str, Any]]],
) -> dict[str, tuple[float, float]]:
    """Per workload whose peer ran in every round, the medians of the rounds' own ratios
    (NORMAL, FULL). A round's sides ran side by side, so its ratio compares like with like;
    the ratio of the sides' medians would set one round's figures beside another's."""
    paired = {}
    for workload in normals[0]:
        theirs = peer_runs.get(_peer_key(workload), [])
        if len(theirs) == len(normals):
            n, f = (
                statistics.median(
                    _ratio(ours[workload], run) for ours, run in zip(side, theirs, strict=True)
                )
                for side in (normals, fulls)
            )
            paired[workload] = (n, f)
    return paired


def report(
    normal: dict[str, Measure],
    full: dict[str, Measure],
    peers: dict[str, dict[str, Any]],
    mode: str,
    paired: dict[str, tuple[float, float]],
) -> list[dict[str, Any]]:
    print(f"\nmlineage foundation benchmark ({mode} sizes; rates in operations per second)\n")
    header = (
        f"{'workload':<18}{'size':>7}  {'mlineage NORMAL':>16}{'mlineage FULL':>15}"
        f"{'peer':>24}{'peer rate':>11}{'ratio N':>9}{'ratio F':>9}{'target':>8}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for workload, measure in normal.items():
        peer, peer_workload = PEER_OF[workload]
        peer_result = peers.get(_peer_key(workload))
        if workload == "experiment_df":
            ours_n, ours_f = measure.seconds, full[workload].seconds
            theirs = peer_result["seconds"] if peer_result else None
            cells = (
                f"{ours_n:>15.3f}s",
                f"{ours_f:>14.3f}s",
                f"{theirs:>10.3f}s" if theirs else f"{'-':>11}",
            )
        else:
            ours_n, ours_f = measure.rate, full[workload].rate
            theirs = peer_result["ops_per_sec"] if peer_result else None
            cells = (
                f"{ours_n:>16,.0f}",
                f"{ours_f:>15,.0f}",
                f"{theirs:>11,.0f}" if theirs else f"{'-':>11}",
            )
        ratio_n, ratio_f = paired.get(workload, (None, None)) if peer_result else (None, None)
        peer_label = f"{peer} {peer_workload}"
        ratio_cells = "".join(f"{r:>8.1f}x" if r else f"{'-':>9}" for r in (ratio_n, ratio_f))
        target = f"{TARGETS[workload]:>7}x" if workload in TARGETS else f"{'bound':>8}"
        print(
            f"{workload:<18}{measure.size:>7}  {''.join(cells[:2])}{peer_label:>24}{cells[2]}"
            f"{ratio_cells}{target}"
        )
        rows.append(
            {
                "workload": workload,
                "size": measure.size,
                "mlineage_normal": ours_n,
                "mlineage_full": ours_f,
                "peer": peer_label,
                "peer_value": theirs,
                "ratio_normal": ratio_n,
                "ratio_full": ratio_f,
                "target_ratio": TARGETS.get(workload),
                "unit": "seconds" if workload == "experiment_df" else "ops/s",
            }
        )
    print(
        "\nratio = how many times faster mlineage is (rates: ours/theirs; seconds: theirs/ours),"
        "\nthe median of the rounds' own ratios (a round's sides run side by side)"
    )
    print(
        "a floor is sqlite3 alone running the statements of the workload above it, on values\n"
        "made before the clock starts (floors.py): its ratio bounds what any library working\n"
        "from Python on these tables can reach here"
    )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
