"""ml-metadata workloads; runs inside the ml-metadata virtualenv (stdlib + ml_metadata only).

    python mlmd_workloads.py --workload artifacts --size 2000 --db /tmp/mlmd.db
    python mlmd_workloads.py --workload executions --size 500 --db /tmp/mlmd.db
    python mlmd_workloads.py --workload executions --size 500 --db /tmp/mlmd.db --parts 10
    python mlmd_workloads.py --workload filter --size 100000 --db /tmp/mlmd.db
    python mlmd_workloads.py --workload lineage --size 10000 --db /tmp/mlmd.db

Prints one JSON object on stdout (see _workload_common.Result). The query workloads (``filter``,
``lineage``; see ``benchmarks/bench_queries.py``) add ``timings`` (query -> seconds of each
repetition) and ``counts`` (query -> rows or nodes returned) to it. With ``--parts N``
(``artifacts``, ``executions``) the timed operations run in N parts, each when a line arrives
on stdin: see ``_workload_common.timed_parts`` and ``run_peer.PeerParts``.

SQLite durability: MLMD opens the file with ``sqlite3_open_v2`` and issues no PRAGMA (see
``ml_metadata/metadata_store/sqlite_metadata_source.cc``), so it runs with the defaults of the
SQLite it bundles (3.39.2, compiled with ``SQLITE_DEFAULT_SYNCHRONOUS=2``): a rollback journal
(``DELETE``) and ``synchronous=FULL``. It offers no way to change ``synchronous``; ``--journal
wal`` works because WAL mode is stored in the file, which is created in WAL mode first.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from _workload_common import (
    Result,
    emit,
    file_journal_kind,
    fresh_db,
    parse_args,
    stdout_to_stderr,
    timed_parts,
)
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

BATCH = 100
WORKLOADS = ("artifacts", "executions", "filter", "lineage")
IN_PARTS = ("artifacts", "executions")  # the workloads that may run in parts (--parts)
QUERY_WORKLOADS = ("filter", "lineage")


def connect(db: Path) -> metadata_store.MetadataStore:
    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = str(db)
    config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def dataset(type_id: int, i: int, prefix: str = "ds") -> mlmd.Artifact:
    """A system.Dataset-like artifact: a uri and four custom properties (int, str, double, str)."""
    art = mlmd.Artifact(
        type_id=type_id,
        name=f"{prefix}-{i}",
        uri=f"file:///data/{prefix}-{i}.csv",
        state=mlmd.Artifact.LIVE,
    )
    props = art.custom_properties
    props["rows"].int_value = 1000 + i
    props["format"].string_value = "csv"
    props["fraction"].double_value = 0.8
    props["split"].string_value = "train"
    return art


def put_in_batches(store: metadata_store.MetadataStore, arts: list[mlmd.Artifact]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(arts), BATCH):
        ids += store.put_artifacts(arts[start : start + BATCH])
    return ids


def artifacts(store: metadata_store.MetadataStore, n: int, parts: int) -> tuple[float, float, str]:
    setup = time.perf_counter()
    type_id = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    setup = time.perf_counter() - setup

    def put_batch(k: int) -> None:
        # Building the protos is timed: it is part of what a caller pays per artifact.
        batch = range(k * BATCH, min(n, (k + 1) * BATCH))
        store.put_artifacts([dataset(type_id, i) for i in batch])

    seconds = timed_parts(put_batch, len(range(0, n, BATCH)), parts)

    assert len(store.get_artifacts_by_type("system.Dataset")) == n
    return seconds, setup, f"put_artifacts in batches of {BATCH}, 4 custom properties each"


def executions(store: metadata_store.MetadataStore, n: int, parts: int) -> tuple[float, float, str]:
    setup = time.perf_counter()
    ds_type = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    model_type = store.put_artifact_type(mlmd.ArtifactType(name="system.Model"))
    ex_type = store.put_execution_type(mlmd.ExecutionType(name="system.ContainerExecution"))
    inputs = [dataset(ds_type, i, "in") for i in range(2 * n)]
    for art, art_id in zip(inputs, put_in_batches(store, inputs), strict=True):
        art.id = art_id
    setup = time.perf_counter() - setup

    def put_execution(i: int) -> None:
        execution = mlmd.Execution(
            type_id=ex_type, name=f"exec-{i}", last_known_state=mlmd.Execution.COMPLETE
        )
        model = mlmd.Artifact(
            type_id=model_type,
            name=f"model-{i}",
            uri=f"file:///models/m-{i}",
            state=mlmd.Artifact.LIVE,
        )
        store.put_execution(
            execution,
            [
                (inputs[2 * i], mlmd.Event(type=mlmd.Event.INPUT)),
                (inputs[2 * i + 1], mlmd.Event(type=mlmd.Event.INPUT)),
                (model, mlmd.Event(type=mlmd.Event.OUTPUT)),
            ],
            [],  # contexts: none, so only the execution, artifact and events are written
        )

    seconds = timed_parts(put_execution, n, parts)

    assert len(store.get_executions()) == n
    assert len(store.get_events_by_execution_ids([1, n])) == 6
    return (
        seconds,
        setup,
        (
            "one put_execution per execution: 2 existing input artifacts (created untimed) + "
            "1 new output artifact, 3 events, no contexts"
        ),
    )


# -- query workloads (benchmarks/bench_queries.py) ---------------------------------------------
#
# The data mirrors bench_queries.py: keep `bucketed`, `DAG_WIDTH` and `dag_inputs` in step with
# it (the benchmark compares the row and node counts both sides return, which catches drift).

REPS = 3  # each query is timed this many times; the benchmark reports the median
FILTER = "custom_properties.bucket.int_value = 1"
DAG_WIDTH = 100  # executions (and output artifacts) per layer of the lineage DAG
LINEAGE_MASK = ["artifacts", "executions", "events"]  # what mlineage's subgraph returns too
Direction = mlmd.LineageSubgraphQueryOptions.Direction


def bucketed(type_id: int, i: int) -> mlmd.Artifact:
    """Artifact i of the filter store: bucket = i % 4 (the filter keeps bucket 1), rows, split."""
    art = mlmd.Artifact(
        type_id=type_id,
        name=f"f-{i}",
        uri=f"gs://bench/filter/{i}.csv",
        state=mlmd.Artifact.LIVE,
    )
    props = art.custom_properties
    props["bucket"].int_value = i % 4
    props["rows"].int_value = i
    props["split"].string_value = ("train", "test", "eval")[i % 3]
    return art


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


def filter_queries(store: metadata_store.MetadataStore, n: int) -> dict[str, Any]:
    """`n` artifacts; the filter bucket == 1 returns n/4 of them, all pages and first 100."""
    setup = time.perf_counter()
    type_id = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    for start in range(0, n, 1000):  # untimed: batches of 1,000 only to build it faster
        store.put_artifacts([bucketed(type_id, i) for i in range(start, min(start + 1000, n))])
    setup = time.perf_counter() - setup
    everything = metadata_store.ListOptions(filter_query=FILTER)
    first_page = metadata_store.ListOptions(filter_query=FILTER, limit=100)
    store.get_artifacts(list_options=first_page)  # warm-up, untimed
    # No limit: get_artifacts pages itself, 100 rows per request (MLMD's maximum page size).
    all_seconds, rows = _repeat(lambda: store.get_artifacts(list_options=everything))
    limit_seconds, page = _repeat(lambda: store.get_artifacts(list_options=first_page))
    expected = sum(1 for i in range(n) if i % 4 == 1)
    assert len(rows) == expected, (len(rows), expected)
    assert len(page) == 100
    return {
        "seconds": statistics.median(all_seconds),
        "ops": len(rows),
        "setup": setup,
        "timings": {"filter_all": all_seconds, "filter_limit_100": limit_seconds},
        "counts": {"filter_all": {"rows": len(rows)}, "filter_limit_100": {"rows": len(page)}},
        "notes": (
            f"get_artifacts(ListOptions(filter_query={FILTER!r})) returning all {len(rows)} rows "
            "(the client pages 100 rows per request, MLMD's maximum), and with limit=100; "
            f"median of {REPS}; fixture put untimed in batches of 1,000"
        ),
    }


def _dag(store: metadata_store.MetadataStore, n: int) -> dict[tuple[int, int], int]:
    """Layer 0: DAG_WIDTH source artifacts; layers 1..n/DAG_WIDTH: DAG_WIDTH executions each,
    reading two artifacts of the layer before (`dag_inputs`) and writing one. Returns the
    artifact id of each (layer, column)."""
    ds_type = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    ex_type = store.put_execution_type(mlmd.ExecutionType(name="system.ContainerExecution"))
    ids: dict[tuple[int, int], int] = {}
    sources = [
        mlmd.Artifact(type_id=ds_type, name=f"a-0-{j}", uri=f"gs://bench/dag/0/{j}")
        for j in range(DAG_WIDTH)
    ]
    for j, art_id in enumerate(store.put_artifacts(sources)):
        ids[0, j] = art_id
    for layer in range(1, n // DAG_WIDTH + 1):
        for j in range(DAG_WIDTH):
            a, b = dag_inputs(layer, j)
            _, (_, _, out_id), _ = store.put_execution(
                mlmd.Execution(
                    type_id=ex_type,
                    name=f"e-{layer}-{j}",
                    last_known_state=mlmd.Execution.COMPLETE,
                ),
                [
                    (mlmd.Artifact(id=ids[layer - 1, a]), mlmd.Event(type=mlmd.Event.INPUT)),
                    (mlmd.Artifact(id=ids[layer - 1, b]), mlmd.Event(type=mlmd.Event.INPUT)),
                    (
                        mlmd.Artifact(
                            type_id=ds_type,
                            name=f"a-{layer}-{j}",
                            uri=f"gs://bench/dag/{layer}/{j}",
                        ),
                        mlmd.Event(type=mlmd.Event.OUTPUT),
                    ),
                ],
                [],
            )
            ids[layer, j] = out_id
    return ids


def _subgraph(
    store: metadata_store.MetadataStore, artifact_id: int, hops: int, direction: int
) -> mlmd.LineageGraph:
    options = mlmd.LineageSubgraphQueryOptions(max_num_hops=hops, direction=direction)
    options.starting_artifacts.filter_query = f"id = {artifact_id}"
    return store.get_lineage_subgraph(options, field_mask_paths=LINEAGE_MASK)


def _nodes(*graphs: mlmd.LineageGraph) -> dict[str, int]:
    """Distinct artifacts, executions and events over `graphs` (one walk or a union)."""
    return {
        "artifacts": len({a.id for g in graphs for a in g.artifacts}),
        "executions": len({e.id for g in graphs for e in g.executions}),
        "events": len({(e.artifact_id, e.execution_id, e.type) for g in graphs for e in g.events}),
    }


def lineage_queries(store: metadata_store.MetadataStore, n: int) -> dict[str, Any]:
    """A layered DAG of `n` executions; lineage subgraphs from a last-layer and a middle-layer
    artifact. `both_20` is the union of an UPSTREAM and a DOWNSTREAM call (mlineage's "both");
    `bidirectional_20` is MLMD's BIDIRECTIONAL, an undirected walk: a different answer."""
    setup = time.perf_counter()
    ids = _dag(store, n)
    setup = time.perf_counter() - setup
    layers = n // DAG_WIDTH
    last, middle = ids[layers, DAG_WIDTH // 2], ids[layers // 2, DAG_WIDTH // 2]
    up, down = Direction.UPSTREAM, Direction.DOWNSTREAM
    queries: dict[str, Callable[[], tuple[mlmd.LineageGraph, ...]]] = {
        "up_5": lambda: (_subgraph(store, last, 5, up),),
        "up_10": lambda: (_subgraph(store, last, 10, up),),
        "up_20": lambda: (_subgraph(store, last, 20, up),),
        "both_20": lambda: (_subgraph(store, middle, 20, up), _subgraph(store, middle, 20, down)),
        "bidirectional_20": lambda: (_subgraph(store, middle, 20, Direction.BIDIRECTIONAL),),
    }
    _subgraph(store, last, 1, up)  # warm-up, untimed
    timings, counts = {}, {}
    for name, query in queries.items():
        timings[name], graphs = _repeat(query)
        counts[name] = _nodes(*graphs)
    return {
        "seconds": statistics.median(timings["both_20"]),
        "ops": 1,
        "setup": setup,
        "timings": timings,
        "counts": counts,
        "notes": (
            f"get_lineage_subgraph(LineageSubgraphQueryOptions(starting_artifacts id = ..., "
            f"max_num_hops, direction), field_mask_paths={LINEAGE_MASK}) on a DAG of "
            f"{layers} layers x {DAG_WIDTH} executions (2 inputs, 1 output each; put_execution "
            "per execution, untimed); both_20 = UPSTREAM + DOWNSTREAM calls, union of nodes; "
            f"median of {REPS}"
        ),
    }


def query_main(workload: str, n: int, db: Path) -> int:
    with stdout_to_stderr():
        store = connect(db)
        out = filter_queries(store, n) if workload == "filter" else lineage_queries(store, n)
        del store
    journal = file_journal_kind(db)
    result = Result(
        peer="mlmd",
        workload=workload,
        size=n,
        seconds=out["seconds"],
        ops_per_sec=out["ops"] / out["seconds"],
        notes=out["notes"],
        setup_seconds=out["setup"],
        version=version("ml-metadata"),
        sqlite=f"journal={'delete' if journal == 'rollback' else journal}, synchronous=FULL",
    )
    print(
        json.dumps({**asdict(result), "timings": out["timings"], "counts": out["counts"]}),
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], WORKLOADS, ("default",), (), argv, in_parts=IN_PARTS)
    fresh_db(args.db, args.journal)
    if args.workload in QUERY_WORKLOADS:
        return query_main(args.workload, args.size, args.db)
    with stdout_to_stderr():
        store = connect(args.db)
        if args.workload == "artifacts":
            seconds, setup, notes = artifacts(store, args.size, args.parts)
        else:
            seconds, setup, notes = executions(store, args.size, args.parts)
        del store  # closes the connection
    journal = file_journal_kind(args.db)
    sqlite = f"journal={'delete' if journal == 'rollback' else journal}, synchronous=FULL"
    emit(
        Result(
            peer="mlmd",
            workload=args.workload,
            size=args.size,
            seconds=seconds,
            ops_per_sec=args.size / seconds,
            notes=notes + "; SQLite synchronous=FULL: MLMD sets no PRAGMA (source) and its bundled "
            "SQLite 3.39.2 is built with SQLITE_DEFAULT_SYNCHRONOUS=2 (strings in the .so); "
            f"journal read from the file header: {journal}",
            setup_seconds=setup,
            version=version("ml-metadata"),
            sqlite=sqlite,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
