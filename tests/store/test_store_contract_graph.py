"""The store contract for the graph: contexts, membership, events, recorded executions
and lineage queries, on every backend."""

from __future__ import annotations

import pytest

from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.base import MetadataStore
from mlineage.types import (
    Artifact,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    MetadataSchema,
    StoreName,
)


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


def _contexts(store: MetadataStore, parent: StoreName, *names: str) -> list[Context]:
    return [store.create(parent, Context(display_name=n), n) for n in names]


# --- contexts ---


def test_children_name_their_parents(store: MetadataStore, parent: StoreName) -> None:
    pipeline, run_1, run_2 = _contexts(store, parent, "pipeline", "run-1", "run-2")
    store.add_context_children(pipeline.name, [run_1.name, run_2.name])
    assert store.get(run_1.name, Context).parent_contexts == [pipeline.name]
    children = store.list(parent, Context, filter=f'parent_contexts:"{pipeline.name}"').items
    assert sorted(c.display_name for c in children) == ["run-1", "run-2"]
    parents = store.list(parent, Context, filter=f'child_contexts:"{run_2.name}"').items
    assert [c.display_name for c in parents] == ["pipeline"]


def test_a_context_may_have_several_parents(store: MetadataStore, parent: StoreName) -> None:
    a, b, child = _contexts(store, parent, "a", "b", "child")
    store.add_context_children(a.name, [child.name])
    store.add_context_children(b.name, [child.name])
    store.add_context_children(a.name, [child.name])  # again: no-op
    assert sorted(store.get(child.name, Context).parent_contexts) == sorted([a.name, b.name])


def test_a_cycle_through_several_links_links_nothing(
    store: MetadataStore, parent: StoreName
) -> None:
    a, b, c, d = _contexts(store, parent, "a", "b", "c", "d")
    store.add_context_children(a.name, [b.name])
    store.add_context_children(b.name, [c.name])
    with pytest.raises(InvalidArgumentError, match="cycle"):
        store.add_context_children(c.name, [d.name, a.name])
    assert store.get(d.name, Context).parent_contexts == []


def test_linking_an_unknown_context_is_not_found(store: MetadataStore, parent: StoreName) -> None:
    (a,) = _contexts(store, parent, "a")
    with pytest.raises(NotFoundError):
        store.add_context_children(a.name, [f"{parent}/contexts/missing"])
    with pytest.raises(NotFoundError):
        store.add_context_children(f"{parent}/contexts/missing", [a.name])


def test_membership_is_idempotent_and_filterable(store: MetadataStore, parent: StoreName) -> None:
    (run,) = _contexts(store, parent, "run")
    data = store.create(parent, Artifact(display_name="data"))
    store.create(parent, Artifact(display_name="outsider"))
    train = store.create(parent, Execution(display_name="train"))
    for _ in range(2):
        store.add_context_artifacts_and_executions(
            run.name, artifacts=[data.name], executions=[train.name]
        )
    in_run = f'in_context("{run.name}")'
    assert [a.display_name for a in store.list(parent, Artifact, filter=in_run).items] == ["data"]
    assert [e.display_name for e in store.list(parent, Execution, filter=in_run).items] == ["train"]


def test_membership_of_an_unknown_resource_adds_nothing(
    store: MetadataStore, parent: StoreName
) -> None:
    (run,) = _contexts(store, parent, "run")
    data = store.create(parent, Artifact(display_name="data"))
    with pytest.raises(NotFoundError):
        store.add_context_artifacts_and_executions(
            run.name, artifacts=[data.name, f"{parent}/artifacts/missing"]
        )
    assert store.list(parent, Artifact, filter=f'in_context("{run.name}")').items == []


def test_a_context_lineage_holds_its_members_and_their_events(
    store: MetadataStore, parent: StoreName
) -> None:
    (run,) = _contexts(store, parent, "run")
    data = store.create(parent, Artifact(display_name="data"))
    train, (model,) = store.record_execution(
        parent,
        Execution(display_name="train"),
        inputs=[data.name],
        outputs=[Artifact(display_name="model")],
        contexts=[run.name],
    )
    graph = store.query_context_lineage_subgraph(run.name)
    assert {e.display_name for e in graph.executions} == {"train"}
    assert {a.display_name for a in graph.artifacts} == {"data", "model"}
    assert {(e.type, e.artifact, e.execution) for e in graph.events} == {
        (EventType.INPUT, data.name, train.name),
        (EventType.OUTPUT, model.name, train.name),
    }


# --- events and executions ---


def test_events_carry_their_execution_and_time(store: MetadataStore, parent: StoreName) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    train = store.create(parent, Execution(display_name="train"))
    store.add_execution_events(train.name, [Event(data.name, type=EventType.INPUT)])
    (event,) = store.query_execution_inputs_and_outputs(train.name).events
    assert (event.artifact, event.execution, event.type) == (data.name, train.name, EventType.INPUT)
    assert event.event_time is not None


def test_the_same_artifact_may_be_input_and_output(store: MetadataStore, parent: StoreName) -> None:
    model = store.create(parent, Artifact(display_name="model"))
    tune = store.create(parent, Execution(display_name="tune"))
    store.add_execution_events(
        tune.name,
        [Event(model.name, type=EventType.INPUT), Event(model.name, type=EventType.OUTPUT)],
    )
    graph = store.query_execution_inputs_and_outputs(tune.name)
    assert sorted(e.type.name for e in graph.events) == ["INPUT", "OUTPUT"]
    assert [a.display_name for a in graph.artifacts] == ["model"]


def test_events_may_add_their_artifacts_to_contexts(
    store: MetadataStore, parent: StoreName
) -> None:
    (run,) = _contexts(store, parent, "run")
    data = store.create(parent, Artifact(display_name="data"))
    train = store.create(parent, Execution(display_name="train"))
    store.add_execution_events(train.name, [Event(data.name)], contexts=[run.name])
    members = store.list(parent, Artifact, filter=f'in_context("{run.name}")').items
    assert [a.display_name for a in members] == ["data"]


def test_events_of_an_unknown_execution_are_not_found(
    store: MetadataStore, parent: StoreName
) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    with pytest.raises(NotFoundError):
        store.add_execution_events(f"{parent}/executions/missing", [Event(data.name)])
    with pytest.raises(NotFoundError):
        store.query_execution_inputs_and_outputs(f"{parent}/executions/missing")


def test_record_execution_links_names_and_new_artifacts(
    store: MetadataStore, parent: StoreName
) -> None:
    (run,) = _contexts(store, parent, "run")
    data = store.create(parent, Artifact(display_name="data"))
    old = store.create(parent, Artifact(display_name="old-model"))
    execution, made = store.record_execution(
        parent,
        Execution(display_name="train"),
        "train-1",
        inputs=[data.name],
        outputs=[old.name, Artifact(display_name="new-model", uri="gs://b/m")],
        contexts=[run.name],
    )
    assert execution.name == f"{parent}/executions/train-1"
    assert [a.display_name for a in made] == ["new-model"]
    assert store.get(made[0].name, Artifact).uri == "gs://b/m"
    graph = store.query_execution_inputs_and_outputs(execution.name)
    assert {(e.type.name, e.artifact) for e in graph.events} == {
        ("INPUT", data.name),
        ("OUTPUT", old.name),
        ("OUTPUT", made[0].name),
    }
    members = store.list(parent, Execution, filter=f'in_context("{run.name}")').items
    assert [e.name for e in members] == [execution.name]


def test_a_recorded_execution_its_new_outputs_and_its_events_share_one_time(
    store: MetadataStore, parent: StoreName
) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    execution, (model,) = store.record_execution(
        parent,
        Execution(display_name="train"),
        inputs=[data.name],
        outputs=[Artifact(display_name="model")],
    )
    assert execution.create_time is not None
    assert data.create_time is not None
    assert execution.create_time > data.create_time
    assert model.create_time == execution.create_time
    graph = store.query_execution_inputs_and_outputs(execution.name)
    assert [e.event_time for e in graph.events] == [execution.create_time] * 2


def test_record_execution_is_all_or_nothing(store: MetadataStore, parent: StoreName) -> None:
    with pytest.raises(NotFoundError):
        store.record_execution(
            parent,
            Execution(display_name="train"),
            inputs=[f"{parent}/artifacts/missing"],
            outputs=[Artifact(display_name="model")],
        )
    assert store.list(parent, Execution).items == []
    assert store.list(parent, Artifact).items == []


def _nothing_written(store: MetadataStore, parent: StoreName, artifacts: int) -> None:
    assert store.list(parent, Execution).items == []
    assert len(store.list(parent, Artifact).items) == artifacts


def test_record_execution_with_a_taken_execution_id_writes_nothing(
    store: MetadataStore, parent: StoreName
) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    store.record_execution(parent, Execution(display_name="first"), "train-1")
    with pytest.raises(AlreadyExistsError, match=f"Execution {parent}/executions/train-1"):
        store.record_execution(
            parent,
            Execution(display_name="again"),
            "train-1",
            inputs=[data.name],
            outputs=[Artifact(display_name="model")],
        )
    (execution,) = store.list(parent, Execution).items
    assert execution.display_name == "first"
    assert len(store.list(parent, Artifact).items) == 1
    assert store.query_execution_inputs_and_outputs(execution.name).events == []


def test_record_execution_with_a_taken_output_id_writes_nothing(
    store: MetadataStore, parent: StoreName
) -> None:
    taken = store.create(parent, Artifact(display_name="model"), "model-1")
    with pytest.raises(AlreadyExistsError, match=f"Artifact {parent}/artifacts/model-1"):
        store.record_execution(
            parent,
            Execution(display_name="train"),
            outputs=[Artifact(display_name="other"), Artifact(name="model-1", display_name="x")],
        )
    _nothing_written(store, parent, artifacts=1)
    assert store.get(taken.name, Artifact).display_name == "model"


def test_record_execution_checks_every_part_before_writing(
    store: MetadataStore, parent: StoreName
) -> None:
    store.create_metadata_schema(
        parent, MetadataSchema("acme.Model", schema="type: object\nrequired: [auc]")
    )
    data = store.create(parent, Artifact(display_name="data"))
    with pytest.raises(InvalidArgumentError, match=r"acme\.Model"):
        store.record_execution(
            parent,
            Execution(display_name="train"),
            inputs=[data.name],
            outputs=[Artifact(schema_title="acme.Model", metadata={})],
        )
    with pytest.raises(InvalidArgumentError) as error:
        store.record_execution(parent, Execution(display_name="x" * 200_000))
    assert error.value.field == "display_name"
    with pytest.raises(NotFoundError, match="artifacts/missing"):
        store.record_execution(
            parent,
            Execution(display_name="train"),
            inputs=[data.name],
            outputs=[f"{parent}/artifacts/missing", Artifact(display_name="model")],
        )
    with pytest.raises(InvalidArgumentError) as error:
        store.record_execution(parent, Execution(display_name="train"), "Not An Id")
    assert error.value.field == "execution_id"
    _nothing_written(store, parent, artifacts=1)


def test_record_execution_refuses_inputs_from_another_store(
    store: MetadataStore, parent: StoreName
) -> None:
    elsewhere = StoreName(parent.project, parent.location, "other")
    store.get_or_create_metadata_store(elsewhere)
    theirs = store.create(elsewhere, Artifact(display_name="theirs"), "data")
    store.create(parent, Artifact(display_name="ours"), "data")
    with pytest.raises(NotFoundError, match="metadataStores/other/artifacts/data"):
        store.record_execution(parent, Execution(display_name="train"), inputs=[theirs.name])
    with pytest.raises(NotFoundError, match="metadataStores/other/artifacts/data"):
        store.record_execution(parent, Execution(display_name="train"), outputs=[theirs.name])
    _nothing_written(store, parent, artifacts=1)
    assert store.list(elsewhere, Execution).items == []


@pytest.mark.parametrize(
    "bad",
    ["{parent}/executions/data", "{parent}/artifacts/", "{parent}/artifacts/a/b", "data", 42],
    ids=["an execution", "no id", "a path", "not a name", "not text"],
)
def test_record_execution_refuses_an_input_that_is_not_an_artifact_name(
    store: MetadataStore, parent: StoreName, bad: object
) -> None:
    data = store.create(parent, Artifact(display_name="data"), "data")
    name = bad.format(parent=parent) if isinstance(bad, str) else bad
    with pytest.raises(InvalidArgumentError) as error:
        store.record_execution(parent, Execution(display_name="train"), inputs=[data.name, name])  # type: ignore[list-item]
    assert error.value.field in ("name", "inputs[1]"), error.value  # REST checks types first
    _nothing_written(store, parent, artifacts=1)


def test_an_input_given_twice_is_one_event_and_an_input_may_also_be_an_output(
    store: MetadataStore, parent: StoreName
) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    execution, made = store.record_execution(
        parent,
        Execution(display_name="clean"),
        inputs=[data.name, data.name],
        outputs=[data.name],
    )
    assert made == []
    graph = store.query_execution_inputs_and_outputs(execution.name)
    assert sorted((e.type.name, e.artifact) for e in graph.events) == [
        ("INPUT", data.name),
        ("OUTPUT", data.name),
    ]


def test_finish_execution_with_a_stale_etag_changes_nothing(
    store: MetadataStore, parent: StoreName
) -> None:
    started, _ = store.record_execution(parent, Execution(display_name="train"))
    store.update(Execution(name=started.name, display_name="renamed"))
    started.state = ExecutionState.COMPLETE
    with pytest.raises(AbortedError):
        store.finish_execution(started, outputs=[Artifact(display_name="model")])
    assert store.get(started.name, Execution).state is ExecutionState.RUNNING
    assert store.list(parent, Artifact).items == []


# --- lineage ---


@pytest.fixture
def chain(store: MetadataStore, parent: StoreName) -> list[str]:
    """a0 -e1-> a1 -e2-> a2 -e3-> a3: the artifact names."""
    names = [store.create(parent, Artifact(display_name="a0")).name]
    for i in range(1, 4):
        _, (made,) = store.record_execution(
            parent,
            Execution(display_name=f"e{i}"),
            inputs=[names[-1]],
            outputs=[Artifact(display_name=f"a{i}")],
        )
        names.append(made.name)
    return names


def _artifacts(store: MetadataStore, name: str, **kwargs: object) -> set[str]:
    graph = store.query_artifact_lineage_subgraph(name, **kwargs)  # type: ignore[arg-type]
    return {a.display_name for a in graph.artifacts}


@pytest.mark.parametrize(
    ("max_hops", "upstream", "downstream"),
    [
        (0, {"a1"}, {"a1"}),
        (1, {"a1"}, {"a1"}),
        (2, {"a0", "a1"}, {"a1", "a2"}),
        (4, {"a0", "a1"}, {"a1", "a2", "a3"}),
        (None, {"a0", "a1"}, {"a1", "a2", "a3"}),
    ],
)
def test_lineage_walks_max_hops_in_each_direction(
    store: MetadataStore,
    chain: list[str],
    max_hops: int | None,
    upstream: set[str],
    downstream: set[str],
) -> None:
    assert _artifacts(store, chain[1], max_hops=max_hops, direction="upstream") == upstream
    assert _artifacts(store, chain[1], max_hops=max_hops, direction="downstream") == downstream
    both = _artifacts(store, chain[1], max_hops=max_hops, direction="both")
    assert both == upstream | downstream


def test_zero_hops_is_the_artifact_alone(store: MetadataStore, chain: list[str]) -> None:
    graph = store.query_artifact_lineage_subgraph(chain[2], max_hops=0)
    assert [a.name for a in graph.artifacts] == [chain[2]]
    assert (graph.executions, graph.events) == ([], [])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_hops": -1}, "max_hops"),
        ({"node_limit": 0}, "node_limit"),
        ({"direction": "sideways"}, "direction"),
        ({"filter": "display_name ="}, "filter"),
    ],
)
def test_bad_lineage_arguments_name_the_field(
    store: MetadataStore, chain: list[str], kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.query_artifact_lineage_subgraph(chain[0], **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


def test_node_limit_keeps_the_nearest_and_says_so(store: MetadataStore, chain: list[str]) -> None:
    graph = store.query_artifact_lineage_subgraph(chain[3], node_limit=2, direction="upstream")
    assert graph.truncated
    assert {a.display_name for a in graph.artifacts} == {"a3", "a2"}
    assert not store.query_artifact_lineage_subgraph(chain[3], node_limit=4).truncated


def test_lineage_of_an_unknown_artifact_is_not_found(
    store: MetadataStore, parent: StoreName
) -> None:
    with pytest.raises(NotFoundError):
        store.query_artifact_lineage_subgraph(f"{parent}/artifacts/missing")
    with pytest.raises(NotFoundError):
        store.query_context_lineage_subgraph(f"{parent}/contexts/missing")


def test_same_uri_links_runs_without_costing_a_hop(store: MetadataStore, parent: StoreName) -> None:
    _, (written,) = store.record_execution(
        parent, Execution(display_name="prepare"), outputs=[Artifact(display_name="w", uri="/d")]
    )
    read = store.create(parent, Artifact(display_name="r", uri="/d"))
    _, (model,) = store.record_execution(
        parent,
        Execution(display_name="train"),
        inputs=[read.name],
        outputs=[Artifact(display_name="model")],
    )
    assert _artifacts(store, model.name, direction="upstream", max_hops=2) == {"model", "r", "w"}
    assert "model" in _artifacts(store, written.name, direction="downstream")
