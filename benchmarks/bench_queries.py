"""Query benchmark: filtered listing and lineage traversal, mlineage beside ml-metadata.

Workloads (sizes: quick / full). The data is built untimed, the same on both sides. After one
untimed warm-up call per store (the first page of the filter; a 1-hop lineage query), each
query is timed 3 times and the median is reported. `--repeat N` runs N rounds, each of every
query 3 times on mlineage's side and then on ml-metadata's, and reports the median of all 3N:
the two sides interleave, so a shared machine that slows down for a few minutes weighs on both.

  filter_25k        a store of N artifacts (20,000 / 100,000) whose metadata holds `bucket`
                    (i % 4), `rows` (int) and `split` (str); the filter bucket == 1 returns
                    N/4 rows (5,000 / 25,000), ALL of them:
                    mlineage  store.list(filter='metadata.bucket.number_value = 1',
                              page_size=1000), paging to the end; also once with
                              page_size=None, which returns every row in one call
                    mlmd      get_artifacts(ListOptions(filter_query=
                              'custom_properties.bucket.int_value = 1')), which pages 100 rows
                              per request (MLMD's maximum page size) until the end
  filter_limit_100  the same filter, the first page of 100 rows only (mlmd: limit=100)
  lineage           a layered DAG of E executions (2,000 / 10,000): 100 source artifacts, then
                    E/100 layers of 100 executions, each reading 2 artifacts of the layer before
                    and writing 1 (record_execution / put_execution, one per execution).
                    Subgraphs from an artifact of the last layer, upstream at 5, 10 and 20 hops,
                    and from a middle-layer artifact in both directions at 20 hops
                    (query_artifact_lineage_subgraph / get_lineage_subgraph)
  lineage_vs_store_size  (mlineage only) the same lineage queries on a copy of the DAG store
                    (E + 100 artifacts) and on a copy of it that also holds U unrelated
                    artifacts (100,000 / 1,000,000; create_many in batches of 1,000); both
                    copies are made with SQLite's backup API, so their page layout matches
  floor             beside filter_25k and lineage both at 20 hops: Python's sqlite3 module
                    alone giving the same answer as tuples, with the least work and no
                    objects (floors.py); ml-metadata's time over it bounds every ratio
  shared_uri        (mlineage only) one dataset written by a run (raw -prep-> processed.csv)
                    and read by R training runs (200 and 2,000 / 1,000 and 10,000), each
                    recording its own artifact for the URI it read, linked to the write by
                    URI (see store/walk.py). Upstream from the last run's model (6 nodes
                    whatever R), and downstream 2 hops from the write (every run's read,
                    execution and model: compared per node returned; node_limit=100,000, so
                    it is never cut). Both should stay ~1x
                    from the small to the large R: the cost follows the answer, not how many
                    records the URI has

A hop is one event edge on both sides (artifact -> execution is one hop). mlineage's "both"
is the union of the upstream and the downstream walk from the start; ml-metadata's
BIDIRECTIONAL is not that: it is an undirected walk (from an artifact down to the execution
that read it, then up to that execution's other inputs, ...), which on this DAG returns 2.6 to
2.8 times as many nodes. So "both" is compared with one UPSTREAM plus one DOWNSTREAM call (the
same answer; the node counts show it), and BIDIRECTIONAL is shown on its own row for reference.

The mlineage lineage queries run in a child process with a time budget per query (its 3 runs;
30 s quick, 120 s full, `--budget`): one over it is stopped and shown as ">N s".

mlineage runs in this process on SQLite files with its defaults; ml-metadata runs in its own
virtualenv with its defaults (see benchmarks/peers/README.md).

    python benchmarks/peers/setup_venvs.py        # once: the peers' virtualenvs
    python benchmarks/bench_queries.py --quick    # about a minute
    python benchmarks/bench_queries.py            # the full sizes (~5 minutes)
    python benchmarks/bench_queries.py --repeat 3 # 3 interleaved rounds (~8 minutes)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from mlineage.store.base import MAX_NODE_LIMIT
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Execution, LineageGraph, StoreName

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from run_peer import PeerError, run_peer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floors

PARENT = StoreName("bench", "us-central1")
SIZES = {
    "quick": {
        "filter": 20_000,
        "lineage": 2_000,
        "unrelated": 100_000,
        "reads_small": 200,
        "reads_big": 2_000,
    },
    "full": {
        "filter": 100_000,
        "lineage": 10_000,
        "unrelated": 1_000_000,
        "reads_small": 1_000,
        "reads_big": 10_000,
    },
}
REPS = 3
BATCH = 1_000
FILTER = "metadata.bucket.number_value = 1"
PAGE = 1_000
# Keep `bucket_metadata`, DAG_WIDTH and `dag_inputs` in step with peers/mlmd_workloads.py; the
# report compares the row and node counts both sides return, which catches drift.
DAG_WIDTH = 100
LINEAGE = {  # query -> (start artifact: "last" or "middle" layer, max_hops, direction)
    "up_5": ("last", 5, "upstream"),
    "up_10": ("last", 10, "upstream"),
    "up_20": ("last", 20, "upstream"),
    "both_20": ("middle", 20, "both"),
}
FLOORED = "both_20"
"""The query whose answer is also fetched by sqlite3 alone (see floors.py)."""


Lineage = dict[str, tuple[list[float], dict[str, int]]]  # query -> (timings, counts)


@dataclass
class Row:
    """One line of the table: mlineage's timings beside those it is compared with."""

    workload: str
    store_artifacts: int
    ours: list[float]  # empty: over the time budget
    ours_returned: str
    peer: str = ""
    theirs: list[float] | None = None
    theirs_returned: str = ""
    target: str = "-"
    target_ratio: float | None = None
    target_seconds: float | None = None
    same_answer: bool | None = None
    budget: float | None = None

    @property
    def ours_median(self) -> float | None:
        return statistics.median(self.ours) if self.ours else None

    @property
    def theirs_median(self) -> float | None:
        return statistics.median(self.theirs) if self.theirs else None

    @property
    def ratio(self) -> float | None:
        ours, theirs = self.ours_median, self.theirs_median
        return theirs / ours if ours and theirs else None

    @property
    def met(self) -> bool | None:
        if self.target_ratio is None or self.theirs_median is None:
            return None
        ours, ratio = self.ours_median, self.ratio
        if ours is None or ratio is None:
            return False  # over budget
        fast_enough = self.target_seconds is None or ours < self.target_seconds
        return ratio >= self.target_ratio and fast_enough


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data ------------------------------------------------------------------------------------


def bucket_metadata(i: int) -> dict[str, Any]:
    return {"bucket": i % 4, "rows": i, "split": ("train", "test", "eval")[i % 3]}


def dag_inputs(layer: int, j: int, width: int = DAG_WIDTH) -> tuple[int, int]:
    """The two artifacts of layer - 1 that execution j of `layer` reads: its own column and a
    scattered one, so upstream sets roughly double per layer until they fill the width."""
    return j, (j + 1 + (layer * 7919 + j * 104729) % (width - 1)) % width


def _repeat(query: Callable[[], Any]) -> tuple[list[float], Any]:
    """Run `query` REPS times; return each repetition's seconds and the last result."""
    seconds, result = [], None
    for _ in range(REPS):
        start = time.perf_counter()
        result = query()
        seconds.append(time.perf_counter() - start)
    return seconds, result


# -- mlineage --------------------------------------------------------------------------------


def build_filter_store(path: Path, n: int) -> SqlStore:
    store = SqlStore(f"sqlite:///{path}")
    for start in range(0, n, BATCH):
        store.create_many(
            PARENT,
            [
                Artifact(
                    schema_title="system.Dataset",
                    display_name=f"f-{i}",
                    uri=f"gs://bench/filter/{i}.csv",
                    metadata=bucket_metadata(i),
                )
                for i in range(start, min(start + BATCH, n))
            ],
        )
    return store


def list_all(store: SqlStore, page_size: int | None) -> tuple[int, int]:
    """Every row the filter matches, paging with `page_size`; (rows, calls)."""
    rows = calls = 0
    token: str | None = None
    while True:
        page = store.list(PARENT, Artifact, filter=FILTER, page_size=page_size, page_token=token)
        rows += len(page.items)
        calls += 1
        token = page.next_page_token
        if not token:
            return rows, calls


def build_filter(folder: Path, n: int) -> tuple[Path, float]:
    """The filter store (built untimed for the queries); its path and build seconds."""
    path = folder / "filter.db"
    build = time.perf_counter()
    build_filter_store(path, n).close()
    build = time.perf_counter() - build
    _progress(
        f"built the filter store ({n:,} artifacts, create_many batches of {BATCH:,}) "
        f"in {build:.1f} s"
    )
    return path, build


def time_filter(path: Path) -> dict[str, Any]:
    """One round of the filter queries on the store at `path`, and of their floor."""
    store = SqlStore(f"sqlite:///{path}")
    try:
        store.list(PARENT, Artifact, filter=FILTER, page_size=100)  # warm-up, untimed
        paged, (rows, calls) = _repeat(lambda: list_all(store, PAGE))
        one_call, (rows_one, calls_one) = _repeat(lambda: list_all(store, None))
        first, page = _repeat(lambda: store.list(PARENT, Artifact, filter=FILTER, page_size=100))
    finally:
        store.close()
    # Artifact i (row id i + 1) is in bucket i % 4: the filter's rows are the ids 2, 6, 10...
    floor, floor_rows = floors.filter_answer(path, every=4, remainder=2)
    return {
        "paged": (paged, rows, calls),
        "one": (one_call, rows_one, calls_one),
        "limit_100": (first, len(page.items)),
        "floor": (floor, floor_rows),
    }


def build_dag(store: SqlStore, executions: int) -> dict[tuple[int, int], str]:
    """The layered DAG; returns the resource name of each artifact by (layer, column)."""
    names: dict[tuple[int, int], str] = {}
    sources = store.create_many(
        PARENT,
        [
            Artifact(schema_title="system.Dataset", uri=f"gs://bench/dag/0/{j}")
            for j in range(DAG_WIDTH)
        ],
    )
    for j, artifact in enumerate(sources):
        names[0, j] = artifact.name
    for layer in range(1, executions // DAG_WIDTH + 1):
        for j in range(DAG_WIDTH):
            a, b = dag_inputs(layer, j)
            _, (made,) = store.record_execution(
                PARENT,
                Execution(schema_title="system.ContainerExecution", display_name=f"e-{layer}-{j}"),
                inputs=[names[layer - 1, a], names[layer - 1, b]],
                outputs=[
                    Artifact(schema_title="system.Dataset", uri=f"gs://bench/dag/{layer}/{j}")
                ],
            )
            names[layer, j] = made.name
    return names


def _count(graph: LineageGraph) -> dict[str, int]:
    return {
        "artifacts": len(graph.artifacts),
        "executions": len(graph.executions),
        "events": len(graph.events),
    }


def _lineage_child(db: Path, starts: dict[str, str], out: Connection) -> None:
    """In a child process: the warm-up, then each lineage query, one message per query."""
    store = SqlStore(f"sqlite:///{db}")
    try:
        store.query_artifact_lineage_subgraph(starts["last"], max_hops=1, direction="upstream")
        out.send(("warm-up", [], {}))
        for query, (start, hops, direction) in LINEAGE.items():
            timings, graph = _repeat(
                lambda s=starts[start], h=hops, d=direction: store.query_artifact_lineage_subgraph(
                    s, max_hops=h, direction=d
                )
            )
            if graph.truncated:
                raise RuntimeError(f"lineage {query} hit the node limit: the DAG is too big")
            out.send((query, timings, _count(graph)))
            if query == FLOORED:
                out.send((f"floor {query}", *floors.lineage_answer(db, starts[start], hops)))
    except Exception as exc:
        out.send(("error", repr(exc), {}))
    finally:
        store.close()
        out.close()


def lineage_queries(db: Path, starts: dict[str, str], budget: float) -> Lineage:
    """The LINEAGE queries on the store at `db`, each given `budget` seconds for its REPS runs
    (the warm-up too). They run in a child process, stopped when one overruns; the queries
    not done by then are missing from the result."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_lineage_child, args=(db, starts, sender), daemon=True)
    child.start()
    sender.close()
    results: Lineage = {}
    try:
        for _ in range(len(LINEAGE) + 2):  # the warm-up, the queries, the floor
            if not receiver.poll(budget):
                print(
                    f"lineage on {db.name}: a query ran over its {budget:.0f} s budget; stopped "
                    f"after {', '.join(results) or 'nothing'}",
                    file=sys.stderr,
                )
                break
            try:
                query, timings, counts = receiver.recv()
            except EOFError:
                raise RuntimeError(f"lineage on {db.name}: the child process died") from None
            if query == "error":
                raise RuntimeError(f"lineage on {db.name} failed: {timings}")
            results[query] = (timings, counts)
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receiver.close()
    results.pop("warm-up", None)
    return results


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (the backup API, so WAL content comes along)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def add_unrelated(store: SqlStore, n: int) -> None:
    for start in range(0, n, BATCH):
        store.create_many(
            PARENT,
            [
                Artifact(
                    schema_title="system.Dataset",
                    display_name=f"u-{i}",
                    uri=f"gs://bench/unrelated/{i}.csv",
                    metadata=bucket_metadata(i),
                )
                for i in range(start, min(start + BATCH, n))
            ],
        )


SHARED_URI = "gs://bench/shared/processed.csv"
SHARED = {  # query -> (start: "last_model" or "write", max_hops, direction)
    "shared_up": ("last_model", None, "upstream"),
    "shared_down": ("write", 2, "downstream"),
}


def build_shared(path: Path, reads: int) -> dict[str, str]:
    """One dataset written once (raw -prep-> SHARED_URI) and read by `reads` training runs,
    each recording its own read of the URI, as a script does (create, then record_execution).
    Returns the start artifacts of SHARED."""
    store = SqlStore(f"sqlite:///{path}")
    (raw,) = store.create_many(PARENT, [Artifact(uri="gs://bench/shared/raw")])
    _, (write,) = store.record_execution(
        PARENT,
        Execution(display_name="prep"),
        inputs=[raw.name],
        outputs=[Artifact(schema_title="system.Dataset", uri=SHARED_URI)],
    )
    model = write
    for i in range(reads):
        (read,) = store.create_many(PARENT, [Artifact(uri=SHARED_URI)])
        _, (model,) = store.record_execution(
            PARENT,
            Execution(display_name=f"train-{i}"),
            inputs=[read.name],
            outputs=[Artifact(schema_title="system.Model", uri=f"gs://bench/shared/m/{i}")],
        )
    store.close()
    return {"last_model": model.name, "write": write.name}


def build_shared_stores(folder: Path, sizes: dict[str, int]) -> dict[str, Any]:
    """The shared-URI store at both read counts (built untimed)."""
    build = time.perf_counter()
    stores = {
        name: (folder / f"shared-{name}.db", build_shared(folder / f"shared-{name}.db", reads))
        for name, reads in (("small", sizes["reads_small"]), ("big", sizes["reads_big"]))
    }
    build = time.perf_counter() - build
    _progress(
        f"built the shared-URI stores ({sizes['reads_small']:,} and {sizes['reads_big']:,} "
        f"runs reading one dataset) in {build:.1f} s"
    )
    return {"build": build, "stores": stores}


def time_shared(shared: dict[str, Any]) -> dict[str, Lineage]:
    """One round of the SHARED queries on each shared-URI store."""
    return {
        name: _shared_queries(path, starts) for name, (path, starts) in shared["stores"].items()
    }


def _shared_queries(path: Path, starts: dict[str, str]) -> Lineage:
    store = SqlStore(f"sqlite:///{path}")
    try:
        store.query_artifact_lineage_subgraph(starts["write"], max_hops=1)  # warm-up, untimed
        results: Lineage = {}
        for query, (start, hops, direction) in SHARED.items():
            timings, graph = _repeat(
                lambda s=starts[start], h=hops, d=direction: store.query_artifact_lineage_subgraph(
                    s, max_hops=h, direction=d, node_limit=MAX_NODE_LIMIT
                )
            )
            if graph.truncated:
                raise RuntimeError(f"{query} hit the node limit: too many reads for one query")
            results[query] = (timings, _count(graph))
        return results
    finally:
        store.close()


def build_lineage(folder: Path, executions: int, unrelated: int) -> dict[str, Any]:
    """The DAG store, a copy of it, and a copy that also holds `unrelated` artifacts (built
    untimed for the queries): their paths, the start artifacts, and the build seconds."""
    small_path, big_path = folder / "dag.db", folder / "dag-big.db"
    build = time.perf_counter()
    store = SqlStore(f"sqlite:///{small_path}")
    names = build_dag(store, executions)
    store.close()
    build = time.perf_counter() - build
    _progress(f"built the DAG ({executions:,} record_execution calls) in {build:.1f} s")
    layers = executions // DAG_WIDTH
    starts = {
        "last": names[layers, DAG_WIDTH // 2],
        "middle": names[layers // 2, DAG_WIDTH // 2],
    }
    # The store-size comparison sets the big store beside a copy of the small one made the
    # same way (the backup API lays pages out afresh, which alone can change timings).
    copy_path = folder / "dag-copy.db"
    copy_store(small_path, copy_path)
    copy_store(small_path, big_path)
    grow = time.perf_counter()
    big_store = SqlStore(f"sqlite:///{big_path}")
    add_unrelated(big_store, unrelated)
    big_store.close()
    grow = time.perf_counter() - grow
    _progress(
        f"added {unrelated:,} unrelated artifacts to a copy of the DAG store "
        f"(create_many batches of {BATCH:,}) in {grow:.1f} s"
    )
    paths = {"small": small_path, "copy": copy_path, "big": big_path}
    return {"build": build, "grow": grow, "paths": paths, "starts": starts}


def time_lineage(stores: dict[str, Any], budget: float) -> dict[str, Lineage]:
    """One round of the lineage queries on each store of `build_lineage`."""
    return {
        name: lineage_queries(path, stores["starts"], budget)
        for name, path in stores["paths"].items()
    }


def _merge_lineage(rounds: list[dict[str, Lineage]]) -> dict[str, Lineage]:
    """The rounds' timings of each query on each store together (the counts of the last)."""
    merged: dict[str, Lineage] = {}
    for one in rounds:
        for store, queries in one.items():
            into = merged.setdefault(store, {})
            for query, (timings, counts) in queries.items():
                into[query] = (into.get(query, ([], counts))[0] + timings, counts)
    return merged


def _merge_filter(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(rounds[-1])
    for key in merged:
        timings = [t for one in rounds for t in one[key][0]]
        merged[key] = (timings, *rounds[-1][key][1:])
    return merged


def _merge_peer(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(rounds[-1])
    merged["timings"] = {
        query: [t for one in rounds for t in one["timings"].get(query) or []]
        for query in rounds[-1]["timings"]
    }
    return merged


# -- report ----------------------------------------------------------------------------------


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0.001:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def _fmt_nodes(counts: dict[str, int] | None) -> str:
    if not counts:
        return "-"
    return f"{counts['artifacts']}a {counts['executions']}e"


def _same(ours: dict[str, int] | None, theirs: dict[str, int] | None) -> bool | None:
    if not ours or not theirs:
        return None
    return all(ours[key] == theirs[key] for key in ("artifacts", "executions", "events"))


FLOOR_TARGET = "the most any ratio can be"


def _filter_rows(n: int, filtered: dict[str, Any], peer: dict[str, Any] | None) -> list[Row]:
    timings = peer["timings"] if peer else {}
    counts = peer["counts"] if peer else {}
    their_rows = counts.get("filter_all", {}).get("rows")
    rows = []
    for label, key in (("filter_25k paged 1000", "paged"), ("filter_25k page_size=None", "one")):
        seconds, count, calls = filtered[key]
        if key == "one" and calls != 1:  # a page size cap: say how many calls it took
            label = f"filter_25k page_size=None, {calls} calls"
        rows.append(
            Row(
                label,
                n,
                seconds,
                f"{count:,} rows",
                "mlmd get_artifacts (100/request)",
                timings.get("filter_all"),
                f"{their_rows:,} rows" if their_rows is not None else "",
                ">=50x, <1 s",
                50,
                1.0,
                count == their_rows if their_rows is not None else None,
            )
        )
    seconds, count = filtered["floor"]
    rows.append(
        Row(
            "floor filter_25k",
            n,
            seconds,
            f"{count:,} rows",
            "mlmd get_artifacts (100/request)",
            timings.get("filter_all"),
            f"{their_rows:,} rows" if their_rows is not None else "",
            FLOOR_TARGET,
            same_answer=count == their_rows if their_rows is not None else None,
        )
    )
    seconds, count = filtered["limit_100"]
    their_first = counts.get("filter_limit_100", {}).get("rows")
    rows.append(
        Row(
            "filter_limit_100",
            n,
            seconds,
            f"{count} rows",
            "mlmd get_artifacts limit=100",
            timings.get("filter_limit_100"),
            f"{their_first} rows" if their_first is not None else "",
            same_answer=count == their_first if their_first is not None else None,
        )
    )
    return rows


def _lineage_rows(
    sizes: dict[str, int], lineage: dict[str, Any], peer: dict[str, Any] | None, budget: float
) -> list[Row]:
    timings = peer["timings"] if peer else {}
    counts = peer["counts"] if peer else {}
    dag_artifacts = DAG_WIDTH * (sizes["lineage"] // DAG_WIDTH + 1)  # whole layers only
    rows = []
    for query, (_, hops, direction) in LINEAGE.items():
        seconds, ours = lineage["small"].get(query, ([], None))
        both = direction == "both"
        rows.append(
            Row(
                f"lineage {direction} {hops} hops",
                dag_artifacts,
                seconds,
                _fmt_nodes(ours),
                "mlmd UPSTREAM+DOWNSTREAM" if both else "mlmd UPSTREAM",
                timings.get(query),
                _fmt_nodes(counts.get(query)),
                ">=3x" if both else "-",
                3 if both else None,
                same_answer=_same(ours, counts.get(query)),
                budget=budget,
            )
        )
        floor = lineage["small"].get(f"floor {query}")
        if floor:
            rows.append(
                Row(
                    f"floor {direction} {hops} hops",
                    dag_artifacts,
                    floor[0],
                    _fmt_nodes(floor[1]),
                    "mlmd UPSTREAM+DOWNSTREAM" if both else "mlmd UPSTREAM",
                    timings.get(query),
                    _fmt_nodes(counts.get(query)),
                    FLOOR_TARGET,
                )
            )
        if both and peer:
            rows.append(
                Row(
                    f"lineage {direction} {hops} hops",
                    dag_artifacts,
                    seconds,
                    _fmt_nodes(ours),
                    "mlmd BIDIRECTIONAL (*)",
                    timings.get("bidirectional_20"),
                    _fmt_nodes(counts.get("bidirectional_20")),
                    "not the same walk",
                    budget=budget,
                )
            )
    big_artifacts = dag_artifacts + sizes["unrelated"]
    for query, (_, hops, direction) in LINEAGE.items():
        seconds, ours = lineage["big"].get(query, ([], None))
        small_seconds, small = lineage["copy"].get(query, ([], None))
        rows.append(
            Row(
                f"store_size {direction} {hops}",
                big_artifacts,
                seconds,
                _fmt_nodes(ours),
                f"mlineage, {dag_artifacts:,}-artifact copy",
                small_seconds,
                _fmt_nodes(small),
                "~1x",
                same_answer=_same(ours, small),
                budget=budget,
            )
        )
    return rows


def _shared_rows(sizes: dict[str, int], shared: dict[str, Lineage]) -> list[Row]:
    """The shared-URI queries on the big store beside the small one: the upstream of the
    last model returns the same few nodes (~1x); the downstream of the write returns every
    run's read, execution and model, so it is compared per node returned (~1x)."""
    rows = []
    for query, (_, hops, _) in SHARED.items():
        big, big_counts = shared["big"][query]
        small, small_counts = shared["small"][query]
        per_node = query == "shared_down"
        if per_node:
            big = [t / sum(big_counts.values()) for t in big]
            small = [t / sum(small_counts.values()) for t in small]
        rows.append(
            Row(
                f"{query} {hops or 'all'} hops" + (" /node" if per_node else ""),
                2 * sizes["reads_big"] + 2,
                big,
                _fmt_nodes(big_counts),
                f"mlineage, {sizes['reads_small']:,} reads" + (", per node" if per_node else ""),
                small,
                _fmt_nodes(small_counts),
                "~1x",
            )
        )
    return rows


def report(rows: list[Row], mode: str, sizes: dict[str, int], runs: int) -> None:
    print(
        f"\nmlineage query benchmark ({mode} sizes; median of {runs}; "
        "returned: a = artifacts, e = executions)\n"
    )
    header = (
        f"{'workload':<26}{'store':>10}  {'mlineage':>10} {'returned':>13}  "
        f"{'compared with':<33}{'time':>10} {'returned':>13}{'ratio':>9}  {'target'}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ours = _fmt_seconds(row.ours_median)
        ratio = _fmt_ratio(row.ratio)
        if row.ours_median is None and row.budget is not None:
            ours = f">{row.budget:.0f} s"
            theirs = row.theirs_median
            ratio = f"<{_fmt_ratio(theirs / row.budget)}" if theirs else "-"
        flag = "  " if row.same_answer in (None, True) else "!="
        met = {True: " (met)", False: " (MISSED)", None: ""}[row.met]
        print(
            f"{row.workload:<26}{row.store_artifacts:>10,}  {ours:>10} {row.ours_returned:>13}  "
            f"{row.peer:<33}{_fmt_seconds(row.theirs_median):>10} {row.theirs_returned:>13}"
            f"{flag}{ratio:>7}  {row.target}{met}"
        )
    print(
        "\nratio: how many times faster mlineage is (their median / ours). store: artifacts in "
        f"the store queried. filter_25k\nreturns 1/4 of the store ({sizes['filter'] // 4:,} rows "
        "at this size). store_size rows: mlineage on the DAG store plus\n"
        f"{sizes['unrelated']:,} unrelated artifacts, beside mlineage on a copy of the DAG "
        "store alone, made the same way\n(~1x: latency follows the subgraph, not the store).\n"
        f"shared rows: one dataset read by {sizes['reads_big']:,} runs, beside the same read by "
        f"{sizes['reads_small']:,} (~1x: latency follows the\nanswer, not the URI's records).\n"
        "(*) ml-metadata's BIDIRECTIONAL is an undirected walk (down to an execution, then up "
        "to its other inputs, ...), not\nmlineage's 'both' (the upstream walk plus the "
        "downstream walk): a different, larger subgraph, shown for reference.\n"
        "floor rows: Python's sqlite3 module alone giving the answer of the row above as "
        "tuples, with the least work and no\nobjects (floors.py): the filter's rows picked by "
        "row id, unfiltered; the lineage found by one plain recursive\nquery per direction, "
        "then read by row id. A library answering from these tables in Python pays at least "
        "that,\nso ml-metadata's time over it bounds the ratio such a library can reach on "
        "this machine.\n"
        "!= marks a row whose two sides returned different counts; >N s: stopped at the "
        "per-query time budget."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--no-peers", action="store_true", help="measure mlineage only")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run this many rounds (every query 3 times on each side) and report the "
        "medians of all of them",
    )
    parser.add_argument(
        "--budget",
        type=float,
        help="seconds each mlineage lineage query may take for its 3 runs before it is "
        "stopped (default: 30 quick, 120 full)",
    )
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    budget = args.budget or (30.0 if args.quick else 120.0)

    rounds = max(args.repeat, 1)
    with tempfile.TemporaryDirectory(prefix="mlineage-bench-") as tmp:
        folder = Path(tmp)
        filter_path, filter_build = build_filter(folder, sizes["filter"])
        dags = build_lineage(folder, sizes["lineage"], sizes["unrelated"])
        shared = build_shared_stores(folder, sizes)
        filter_rounds: list[dict[str, Any]] = []
        lineage_rounds: list[dict[str, Lineage]] = []
        shared_rounds: list[dict[str, Lineage]] = []
        peer_rounds: dict[str, list[dict[str, Any]]] = {}
        workloads = [] if args.no_peers else ["filter", "lineage"]
        # A round is every query once on each side, so the rounds of --repeat interleave the
        # two sides: a shared machine that slows down for a few minutes weighs on both alike.
        for _ in range(rounds):
            filter_rounds.append(time_filter(filter_path))
            lineage_rounds.append(time_lineage(dags, budget))
            shared_rounds.append(time_shared(shared))
            for workload in list(workloads):
                try:
                    peer = run_peer("mlmd", workload, sizes[workload], folder / "peers")
                except PeerError as exc:
                    _progress(f"peer mlmd:{workload} unavailable: {exc}")
                    workloads.remove(workload)
                    peer_rounds.pop(workload, None)
                    continue
                peer_rounds.setdefault(workload, []).append(peer)
                _progress(f"ml-metadata {workload}: fixture built in {peer['setup_seconds']:.1f} s")
        filtered = {"build": filter_build, **_merge_filter(filter_rounds)}
        lineage = {"build": dags["build"], "grow": dags["grow"], **_merge_lineage(lineage_rounds)}
        shared_timings = _merge_lineage(shared_rounds)
        peers = {workload: _merge_peer(runs) for workload, runs in peer_rounds.items()}

    rows = [
        *_filter_rows(sizes["filter"], filtered, peers.get("filter")),
        *_lineage_rows(sizes, lineage, peers.get("lineage"), budget),
        *_shared_rows(sizes, shared_timings),
    ]
    report(rows, mode, sizes, REPS * rounds)
    if args.json:
        builds = {
            "filter_store": filtered["build"],
            "dag": lineage["build"],
            "unrelated": lineage["grow"],
            "shared_uri": shared["build"],
            **{f"mlmd_{name}": peer["setup_seconds"] for name, peer in peers.items()},
        }
        args.json.write_text(
            json.dumps(
                {
                    "mode": mode,
                    "sizes": sizes,
                    "budget_seconds": budget,
                    "build_seconds": builds,
                    "rows": [
                        {
                            **asdict(row),
                            "ours_median": row.ours_median,
                            "theirs_median": row.theirs_median,
                            "ratio": row.ratio,
                            "met": row.met,
                        }
                        for row in rows
                    ],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
