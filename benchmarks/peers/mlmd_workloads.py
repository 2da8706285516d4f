"""ml-metadata workloads; runs inside the ml-metadata virtualenv (stdlib + ml_metadata only).

    python mlmd_workloads.py --workload artifacts --size 2000 --db /tmp/mlmd.db
    python mlmd_workloads.py --workload executions --size 500 --db /tmp/mlmd.db

Prints one JSON object on stdout (see _workload_common.Result).

SQLite durability: MLMD opens the file with ``sqlite3_open_v2`` and issues no PRAGMA (see
``ml_metadata/metadata_store/sqlite_metadata_source.cc``), so it runs with the defaults of the
SQLite it bundles (3.39.2, compiled with ``SQLITE_DEFAULT_SYNCHRONOUS=2``): a rollback journal
(``DELETE``) and ``synchronous=FULL``. It offers no way to change ``synchronous``; ``--journal
wal`` works because WAL mode is stored in the file, which is created in WAL mode first.
"""

from __future__ import annotations

import sys
import time
from importlib.metadata import version
from pathlib import Path

from _workload_common import Result, emit, file_journal_kind, fresh_db, parse_args, stdout_to_stderr
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2 as mlmd

BATCH = 100
WORKLOADS = ("artifacts", "executions")


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


def artifacts(store: metadata_store.MetadataStore, n: int) -> tuple[float, float, str]:
    setup = time.perf_counter()
    type_id = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    setup = time.perf_counter() - setup

    start = time.perf_counter()
    # Building the protos is timed: it is part of what a caller pays per artifact.
    put_in_batches(store, [dataset(type_id, i) for i in range(n)])
    seconds = time.perf_counter() - start

    assert len(store.get_artifacts_by_type("system.Dataset")) == n
    return seconds, setup, f"put_artifacts in batches of {BATCH}, 4 custom properties each"


def executions(store: metadata_store.MetadataStore, n: int) -> tuple[float, float, str]:
    setup = time.perf_counter()
    ds_type = store.put_artifact_type(mlmd.ArtifactType(name="system.Dataset"))
    model_type = store.put_artifact_type(mlmd.ArtifactType(name="system.Model"))
    ex_type = store.put_execution_type(mlmd.ExecutionType(name="system.ContainerExecution"))
    inputs = [dataset(ds_type, i, "in") for i in range(2 * n)]
    for art, art_id in zip(inputs, put_in_batches(store, inputs), strict=True):
        art.id = art_id
    setup = time.perf_counter() - setup

    start = time.perf_counter()
    for i in range(n):
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
    seconds = time.perf_counter() - start

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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__.splitlines()[0], WORKLOADS, ("default",), (), argv)
    fresh_db(args.db, args.journal)
    with stdout_to_stderr():
        store = connect(args.db)
        if args.workload == "artifacts":
            seconds, setup, notes = artifacts(store, args.size)
        else:
            seconds, setup, notes = executions(store, args.size)
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
