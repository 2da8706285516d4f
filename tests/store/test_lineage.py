"""Lineage queries: hops, directions, limits, and data linked by URI across runs."""

from __future__ import annotations

import pytest

from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.store.base import MetadataStore
from mlineage.types import (
    Artifact,
    Context,
    Event,
    EventType,
    Execution,
    LineageGraph,
    StoreName,
)

PIPELINE = """
raw      -> clean   -> [clean_data]
clean_data, config -> train -> [model, train_metrics]
model    -> evaluate -> [report]
model    -> deploy  -> [endpoint]
"""


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


@pytest.fixture
def dag(store: MetadataStore, parent: StoreName) -> dict[str, str]:
    """raw -clean-> clean_data; clean_data+config -train-> model+train_metrics;
    model -evaluate-> report; model -deploy-> endpoint. Returns display name -> resource name."""
    names: dict[str, str] = {}
    for artifact in ("raw", "config"):
        names[artifact] = store.create(parent, Artifact(display_name=artifact)).name
    steps = [
        ("clean", ["raw"], ["clean_data"]),
        ("train", ["clean_data", "config"], ["model", "train_metrics"]),
        ("evaluate", ["model"], ["report"]),
        ("deploy", ["model"], ["endpoint"]),
    ]
    for step, inputs, outputs in steps:
        execution, made = store.record_execution(
            parent,
            Execution(display_name=step),
            inputs=[names[i] for i in inputs],
            outputs=[Artifact(display_name=o) for o in outputs],
        )
        names[step] = execution.name
        names.update({a.display_name: a.name for a in made})
    return names


def _names(graph: LineageGraph) -> tuple[set[str], set[str]]:
    return {a.display_name for a in graph.artifacts}, {e.display_name for e in graph.executions}


@pytest.mark.parametrize(
    ("max_hops", "artifacts", "executions"),
    [
        (0, {"model"}, set()),
        (1, {"model"}, {"train"}),
        (2, {"model", "clean_data", "config"}, {"train"}),
        (3, {"model", "clean_data", "config"}, {"train", "clean"}),
        (4, {"model", "clean_data", "config", "raw"}, {"train", "clean"}),
        (None, {"model", "clean_data", "config", "raw"}, {"train", "clean"}),
    ],
)
def test_upstream_by_hop_count(
    store: MetadataStore,
    dag: dict[str, str],
    max_hops: int | None,
    artifacts: set[str],
    executions: set[str],
) -> None:
    graph = store.query_artifact_lineage_subgraph(
        dag["model"], max_hops=max_hops, direction="upstream"
    )
    assert _names(graph) == (artifacts, executions)
    assert not graph.truncated
    # every event joins two nodes of the graph
    artifact_names = {a.name for a in graph.artifacts}
    execution_names = {e.name for e in graph.executions}
    for event in graph.events:
        assert event.artifact in artifact_names
        assert event.execution in execution_names


def test_downstream_and_both(store: MetadataStore, dag: dict[str, str]) -> None:
    down = store.query_artifact_lineage_subgraph(dag["clean_data"], direction="downstream")
    assert _names(down) == (
        {"clean_data", "model", "train_metrics", "report", "endpoint"},
        {"train", "evaluate", "deploy"},
    )
    both = store.query_artifact_lineage_subgraph(dag["model"], max_hops=2, direction="both")
    assert _names(both) == (
        {"model", "clean_data", "config", "report", "endpoint"},
        {"train", "evaluate", "deploy"},
    )
    # "both" is upstream plus downstream: a sibling output is neither
    assert "train_metrics" not in _names(both)[0]


def test_the_filter_applies_to_the_artifacts_returned(
    store: MetadataStore, dag: dict[str, str]
) -> None:
    graph = store.query_artifact_lineage_subgraph(
        dag["model"], direction="upstream", filter='display_name != "config"'
    )
    assert _names(graph)[0] == {"model", "clean_data", "raw"}
    assert all(not e.artifact.endswith(dag["config"].rsplit("/", 1)[1]) for e in graph.events)


def test_bad_lineage_requests(store: MetadataStore, dag: dict[str, str], parent: StoreName) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.query_artifact_lineage_subgraph(dag["model"], max_hops=-1)
    assert error.value.field == "max_hops"
    with pytest.raises(InvalidArgumentError, match="direction"):
        store.query_artifact_lineage_subgraph(dag["model"], direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.query_artifact_lineage_subgraph(f"{parent}/artifacts/nope")


def test_a_node_limit_truncates_and_says_so(store: MetadataStore, parent: StoreName) -> None:
    previous = store.create(parent, Artifact(display_name="a0")).name
    for i in range(1, 8):
        _, (made,) = store.record_execution(
            parent,
            Execution(display_name=f"e{i}"),
            inputs=[previous],
            outputs=[Artifact(display_name=f"a{i}")],
        )
        previous = made.name
    for max_hops in (None, 100):
        graph = store.query_artifact_lineage_subgraph(
            previous, direction="upstream", node_limit=3, max_hops=max_hops
        )
        assert graph.truncated
        assert {a.display_name for a in graph.artifacts} == {"a7", "a6", "a5"}  # the nearest
    whole = store.query_artifact_lineage_subgraph(previous, direction="upstream")
    assert not whole.truncated
    assert len(whole.artifacts) == 8
    with pytest.raises(InvalidArgumentError, match="node_limit"):
        store.query_artifact_lineage_subgraph(previous, node_limit=0)


def test_context_lineage_subgraph(
    store: MetadataStore, parent: StoreName, dag: dict[str, str]
) -> None:
    run = store.create(parent, Context(display_name="run"))
    store.add_context_artifacts_and_executions(
        run.name, artifacts=[dag["clean_data"], dag["model"]], executions=[dag["train"]]
    )
    graph = store.query_context_lineage_subgraph(run.name)
    assert _names(graph) == ({"clean_data", "model"}, {"train"})
    assert {(e.type.name, e.artifact) for e in graph.events} == {
        ("INPUT", dag["clean_data"]),
        ("OUTPUT", dag["model"]),
    }


def _run(
    store: MetadataStore,
    parent: StoreName,
    step: str,
    inputs: list[Artifact],
    outputs: list[Artifact],
) -> dict[str, Artifact]:
    """One step that records fresh artifact records for its inputs, as a script does."""
    recorded = store.create_many(parent, inputs)
    _, made = store.record_execution(
        parent, Execution(display_name=step), inputs=[a.name for a in recorded], outputs=outputs
    )
    return {a.display_name: a for a in recorded + made}


def test_artifacts_with_the_same_uri_are_the_same_data(
    store: MetadataStore, parent: StoreName
) -> None:
    """The walkthrough's Steps 3 and 2 chained by URI: the model traces back to raw data."""
    _run(
        store,
        parent,
        "preprocess",
        [Artifact(display_name="raw-data", uri="gs://b/raw.parquet")],
        [Artifact(display_name="processed-data", uri="gs://b/processed.csv")],
    )
    trained = _run(
        store,
        parent,
        "train",
        [Artifact(display_name="training-dataset", uri="gs://b/processed.csv")],
        [Artifact(display_name="trained-model", uri="gs://b/model")],
    )
    up = store.query_artifact_lineage_subgraph(trained["trained-model"].name, direction="upstream")
    assert _names(up) == (
        {"trained-model", "training-dataset", "processed-data", "raw-data"},
        {"train", "preprocess"},
    )
    # the link costs no hop: 2 hops reach the training data and the run that made it
    near = store.query_artifact_lineage_subgraph(
        trained["trained-model"].name, max_hops=3, direction="upstream"
    )
    assert _names(near) == (
        {"trained-model", "training-dataset", "processed-data"},
        {"train", "preprocess"},
    )
    raw = store.list(parent, Artifact, filter='display_name = "raw-data"').items[0]
    down = store.query_artifact_lineage_subgraph(raw.name, direction="downstream")
    assert "trained-model" in _names(down)[0]


def test_same_uri_with_other_content_is_other_data(store: MetadataStore, parent: StoreName) -> None:
    _run(
        store,
        parent,
        "v1",
        [Artifact(display_name="src-v1", uri="/data/src")],
        [Artifact(display_name="out-v1", uri="/data/out.csv", fingerprint="sha256:" + "1" * 64)],
    )
    trained = _run(
        store,
        parent,
        "train",
        [Artifact(display_name="in", uri="/data/out.csv", fingerprint="sha256:" + "2" * 64)],
        [Artifact(display_name="model")],
    )
    up = store.query_artifact_lineage_subgraph(trained["model"].name, direction="upstream")
    assert _names(up) == ({"model", "in"}, {"train"})


def test_a_later_record_of_the_uri_is_not_upstream(store: MetadataStore, parent: StoreName) -> None:
    first = _run(
        store,
        parent,
        "train-1",
        [Artifact(display_name="data-1", uri="gs://b/d")],
        [Artifact(display_name="m1")],
    )
    _run(
        store,
        parent,
        "rewrite",
        [Artifact(display_name="other", uri="gs://b/o")],
        [Artifact(display_name="data-2", uri="gs://b/d")],
    )
    up = store.query_artifact_lineage_subgraph(first["m1"].name, direction="upstream")
    assert _names(up) == ({"m1", "data-1"}, {"train-1"})


def test_data_read_after_an_overwrite_comes_from_the_overwrite(
    store: MetadataStore, parent: StoreName
) -> None:
    """clean.csv written twice: each training run traces to the write it read."""
    _run(
        store,
        parent,
        "clean-v1",
        [Artifact(display_name="raw-1", uri="gs://b/raw1")],
        [Artifact(display_name="clean-1", uri="gs://b/clean.csv")],
    )
    first = _run(
        store,
        parent,
        "train-1",
        [Artifact(display_name="data-a", uri="gs://b/clean.csv")],
        [Artifact(display_name="model-1")],
    )
    _run(
        store,
        parent,
        "clean-v2",
        [Artifact(display_name="raw-2", uri="gs://b/raw2")],
        [Artifact(display_name="clean-2", uri="gs://b/clean.csv")],
    )
    second = _run(
        store,
        parent,
        "train-2",
        [Artifact(display_name="data-b", uri="gs://b/clean.csv")],
        [Artifact(display_name="model-2")],
    )
    up_1 = store.query_artifact_lineage_subgraph(first["model-1"].name, direction="upstream")
    up_2 = store.query_artifact_lineage_subgraph(second["model-2"].name, direction="upstream")
    assert _names(up_1)[1] == {"train-1", "clean-v1"}
    assert _names(up_2)[1] == {"train-2", "clean-v2"}
    clean_1 = store.list(parent, Artifact, filter='display_name = "clean-1"').items[0]
    down = store.query_artifact_lineage_subgraph(clean_1.name, direction="downstream")
    assert _names(down)[1] == {"train-1"}


def test_data_linked_by_uri_at_different_depths(store: MetadataStore, parent: StoreName) -> None:
    """Reads of earlier writes 2 and 4 hops from the model: both links are followed, each
    at its own depth (one round of the walk starts from both)."""
    _run(store, parent, "make-a", [], [Artifact(display_name="a-written", uri="gs://b/a")])
    _run(store, parent, "make-d", [], [Artifact(display_name="d-written", uri="gs://b/d")])
    features = _run(
        store,
        parent,
        "features",
        [Artifact(display_name="d-read", uri="gs://b/d")],
        [Artifact(display_name="c")],
    )
    (a_read,) = store.create_many(parent, [Artifact(display_name="a-read", uri="gs://b/a")])
    _, (model,) = store.record_execution(
        parent,
        Execution(display_name="train"),
        inputs=[a_read.name, features["c"].name],
        outputs=[Artifact(display_name="model")],
    )
    up = store.query_artifact_lineage_subgraph(model.name, direction="upstream")
    assert _names(up) == (
        {"model", "a-read", "c", "a-written", "d-read", "d-written"},
        {"train", "features", "make-a", "make-d"},
    )
    # the links cost no hop: a-written is 2 hops away, its maker 3; d-written 4, its maker 5
    near = store.query_artifact_lineage_subgraph(model.name, max_hops=4, direction="upstream")
    assert _names(near) == (
        {"model", "a-read", "c", "a-written", "d-read", "d-written"},
        {"train", "features", "make-a"},
    )


def _make_output_of(store: MetadataStore, parent: StoreName, how: str, artifact: str) -> None:
    """Record, after the fact, that an execution "load" wrote `artifact` (an existing record)."""
    if how == "event":
        loader = store.create(parent, Execution(display_name="load"))
        store.add_execution_events(loader.name, [Event(artifact, type=EventType.OUTPUT)])
    elif how == "record_execution":
        store.record_execution(parent, Execution(display_name="load"), outputs=[artifact])
    else:
        loader = store.create(parent, Execution(display_name="load"))
        store.finish_execution(loader, outputs=[artifact])


@pytest.mark.parametrize("how", ["event", "record_execution", "finish_execution"])
def test_a_record_becomes_a_write_once_an_execution_outputs_it(
    store: MetadataStore, parent: StoreName, how: str
) -> None:
    """A record of a URI that no execution wrote is a read; once an OUTPUT event names it,
    later reads of the URI trace back to it and to the execution that wrote it."""
    table = store.create(parent, Artifact(display_name="table", uri="gs://b/table"))
    trained = _run(
        store,
        parent,
        "train",
        [Artifact(display_name="table-read", uri="gs://b/table")],
        [Artifact(display_name="model")],
    )
    up = store.query_artifact_lineage_subgraph(trained["model"].name, direction="upstream")
    assert _names(up) == ({"model", "table-read"}, {"train"})

    _make_output_of(store, parent, how, table.name)
    up = store.query_artifact_lineage_subgraph(trained["model"].name, direction="upstream")
    assert _names(up) == ({"model", "table-read", "table"}, {"train", "load"})
    down = store.query_artifact_lineage_subgraph(table.name, direction="downstream")
    assert _names(down) == ({"table", "table-read", "model"}, {"train"})


def test_each_of_many_reads_traces_to_the_write_before_it(
    store: MetadataStore, parent: StoreName
) -> None:
    """A URI written twice, each write read by several runs: a write's reads are those
    between it and the next write, and each read's upstream is the write before it."""
    for version, readers in (("v1", 4), ("v2", 3)):
        _run(
            store, parent, f"write-{version}", [], [Artifact(display_name=version, uri="gs://b/t")]
        )
        for i in range(readers):
            _run(
                store,
                parent,
                f"train-{version}-{i}",
                [Artifact(display_name=f"read-{version}-{i}", uri="gs://b/t")],
                [Artifact(display_name=f"model-{version}-{i}")],
            )
    for version, readers in (("v1", 4), ("v2", 3)):
        (write,) = store.list(parent, Artifact, filter=f'display_name = "{version}"').items
        down = store.query_artifact_lineage_subgraph(write.name, max_hops=1, direction="downstream")
        assert _names(down)[1] == {f"train-{version}-{i}" for i in range(readers)}
        (last,) = store.list(
            parent, Artifact, filter=f'display_name = "model-{version}-{readers - 1}"'
        ).items
        up = store.query_artifact_lineage_subgraph(last.name, direction="upstream")
        assert _names(up)[1] == {f"train-{version}-{readers - 1}", f"write-{version}"}
