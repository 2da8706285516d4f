"""`Context`: create, get, get_or_create, list, update, delete, membership, the context DAG
and the context lineage subgraph."""

from __future__ import annotations

import dataclasses
import math

import pytest

import mlineage as aiplatform
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.sql import SqlStore

STORE = "projects/default/locations/us-central1/metadataStores/default"


def _context(resource_id: str, **kwargs: object) -> aiplatform.Context:
    return aiplatform.Context.create(resource_id=resource_id, **kwargs)  # type: ignore[arg-type]


# -- create / get ------------------------------------------------------------------------------


def test_create_reads_back_every_field() -> None:
    created = aiplatform.Context.create(
        "system.PipelineRun",
        resource_id="pipeline-run-1",
        display_name="nightly",
        schema_version="0.0.2",
        description="the nightly run",
        metadata={"trigger": "cron", "params": {"lr": 0.1}},
        labels={"env": "prod"},
    )
    assert created.resource_name == f"{STORE}/contexts/pipeline-run-1"
    read = aiplatform.Context("pipeline-run-1")
    assert read.schema_title == "system.PipelineRun"
    assert read.display_name == "nightly"
    assert read.schema_version == "0.0.2"
    assert read.description == "the nightly run"
    # A PipelineRun context is a run: its metadata also shows the run's params, metrics and
    # state (held in the run tables), as Vertex AI keeps them.
    assert read.metadata == {
        "trigger": "cron",
        "params": {"lr": 0.1},
        "_params": {},
        "_metrics": {},
        "_state": "RUNNING",
    }
    assert read.labels == {"env": "prod"}
    assert read.parent_contexts == []
    assert read.etag


def test_create_defaults_to_system_context() -> None:
    assert aiplatform.Context.create(resource_id="c").schema_title == "system.Context"


def test_duplicate_id_is_already_exists() -> None:
    _context("c", display_name="first")
    with pytest.raises(AlreadyExistsError, match="c"):
        _context("c", display_name="second")
    assert aiplatform.Context("c").display_name == "first"


def test_unknown_context() -> None:
    assert aiplatform.Context.get("nope") is None
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.Context("nope")


def test_get_or_create() -> None:
    made = aiplatform.Context.get_or_create("c", "system.Pipeline", display_name="one")
    again = aiplatform.Context.get_or_create("c", "system.Pipeline", display_name="two")
    assert again.resource_name == made.resource_name
    assert again.display_name == "one"
    assert again.schema_title == "system.Pipeline"
    assert len(aiplatform.Context.list()) == 1


@pytest.mark.parametrize("bad_id", ["Ctx", "ctx_1", "c" * 129])
def test_resource_id_rule(bad_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        _context(bad_id)
    assert caught.value.field in ("resource_id", "context_id")
    assert caught.value.field in str(caught.value)
    assert aiplatform.Context.list() == []


def test_bad_metadata_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="metadata"):
        _context("c", metadata={"x": math.inf})
    assert aiplatform.Context.list() == []


# -- list ----------------------------------------------------------------------------------------


def test_list_filter_and_order_by() -> None:
    _context("p1", schema_title="system.Pipeline", display_name="b-pipe")
    _context("p2", schema_title="system.Pipeline", display_name="a-pipe", metadata={"n": 3})
    _context("other", display_name="c-other")
    pipelines = aiplatform.Context.list(filter='schema_title = "system.Pipeline"')
    assert [c.name for c in pipelines] == ["p1", "p2"]
    ordered = aiplatform.Context.list(order_by="display_name")
    assert [c.display_name for c in ordered] == ["a-pipe", "b-pipe", "c-other"]
    assert [c.name for c in aiplatform.Context.list(filter="metadata.n.number_value = 3")] == ["p2"]


def test_list_by_parent_and_child_contexts() -> None:
    parent, other = _context("parent"), _context("other")
    kid1, kid2, _ = _context("kid1"), _context("kid2"), _context("loner")
    parent.add_context_children([kid1, kid2])
    other.add_context_children([kid2])
    children = aiplatform.Context.list(filter=f'parent_contexts:"{parent.resource_name}"')
    assert [c.name for c in children] == ["kid1", "kid2"]
    parents = aiplatform.Context.list(filter=f'child_contexts:"{kid2.resource_name}"')
    assert {c.name for c in parents} == {"parent", "other"}


# -- update / delete -----------------------------------------------------------------------------


def test_update_merges_metadata_one_level_deep_and_sets_description() -> None:
    context = _context("c", metadata={"a": 1, "cfg": {"x": 1, "y": 2}})
    context.update(metadata={"cfg": {"y": 5}, "b": "two"}, description="described")
    read = aiplatform.Context("c")
    assert read.metadata == {"a": 1, "b": "two", "cfg": {"x": 1, "y": 5}}
    assert read.description == "described"


def test_stale_etag_is_aborted(store: SqlStore) -> None:
    context = _context("c", metadata={"v": 0})
    old = dataclasses.replace(context.gca_resource)
    context.update(metadata={"v": 1})
    with pytest.raises(AbortedError, match="etag"):
        store.update(dataclasses.replace(old, metadata={"v": 2}))
    assert aiplatform.Context("c").metadata == {"v": 1}


def test_delete_removes_the_context_but_not_its_members() -> None:
    context = _context("c")
    artifact = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    execution = aiplatform.Execution.create(resource_id="step")
    context.add_artifacts_and_executions([artifact.resource_name], [execution.resource_name])
    context.delete()
    assert aiplatform.Context.get("c") is None
    assert aiplatform.Artifact("ds").name == "ds"
    assert aiplatform.Execution("step").name == "step"


def test_deleting_a_parent_unlinks_its_children() -> None:
    parent, child = _context("parent"), _context("child")
    parent.add_context_children([child])
    parent.delete()
    assert aiplatform.Context("child").parent_contexts == []


# -- membership --------------------------------------------------------------------------------


def test_add_artifacts_and_executions_and_read_them_back() -> None:
    context = _context("c")
    ds = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    model = aiplatform.Artifact.create(schema_title="system.Model", resource_id="model")
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="outsider")
    train = aiplatform.Execution.create(resource_id="train")
    aiplatform.Execution.create(resource_id="outsider-step")
    context.add_artifacts_and_executions(
        artifact_resource_names=[ds.resource_name, model.resource_name],
        execution_resource_names=[train.resource_name],
    )
    context.add_artifacts_and_executions([ds.resource_name])  # adding again is a no-op
    assert sorted(a.name for a in context.get_artifacts()) == ["ds", "model"]
    assert [e.name for e in context.get_executions()] == ["train"]
    assert all(isinstance(a, aiplatform.Artifact) for a in context.get_artifacts())
    assert all(isinstance(e, aiplatform.Execution) for e in context.get_executions())


def test_an_empty_context_has_no_members() -> None:
    context = _context("c")
    assert context.get_artifacts() == []
    assert context.get_executions() == []


def test_adding_an_unknown_member_is_not_found_and_links_nothing() -> None:
    context = _context("c")
    ds = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    step = aiplatform.Execution.create(resource_id="step")
    with pytest.raises(NotFoundError, match="ghost"):
        context.add_artifacts_and_executions(
            [ds.resource_name, f"{STORE}/artifacts/ghost"], [step.resource_name]
        )
    with pytest.raises(NotFoundError, match="ghost-step"):
        context.add_artifacts_and_executions([ds.resource_name], [f"{STORE}/executions/ghost-step"])
    assert context.get_artifacts() == []
    assert context.get_executions() == []


def test_adding_members_to_an_unknown_context_is_not_found() -> None:
    context = _context("c")
    ds = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    context.delete()
    with pytest.raises(NotFoundError):
        context.add_artifacts_and_executions([ds.resource_name])


# -- the context DAG -----------------------------------------------------------------------------


def test_add_context_children_sets_parent_contexts() -> None:
    parent_a, parent_b, child = _context("pa"), _context("pb"), _context("child")
    parent_a.add_context_children([child])
    parent_b.add_context_children([child.resource_name])
    parent_a.add_context_children([child])  # again: a no-op
    assert aiplatform.Context("child").parent_contexts == [
        parent_a.resource_name,
        parent_b.resource_name,
    ]
    assert aiplatform.Context("pa").parent_contexts == []
    listed = next(c for c in aiplatform.Context.list() if c.name == "child")
    assert listed.parent_contexts == [parent_a.resource_name, parent_b.resource_name]


def test_a_cycle_is_refused_and_links_nothing() -> None:
    a, b, c, d = _context("a"), _context("b"), _context("c"), _context("d")
    a.add_context_children([b])
    b.add_context_children([c])
    with pytest.raises(InvalidArgumentError) as caught:
        c.add_context_children([d, a])  # d is fine, a would close a -> b -> c -> a
    assert "cycle" in str(caught.value)
    assert caught.value.field in str(caught.value)
    assert aiplatform.Context("a").parent_contexts == []
    assert aiplatform.Context("d").parent_contexts == []
    assert aiplatform.Context.list(filter=f'parent_contexts:"{c.resource_name}"') == []


def test_a_self_link_is_a_cycle() -> None:
    a = _context("a")
    with pytest.raises(InvalidArgumentError, match="cycle"):
        a.add_context_children([a])
    assert aiplatform.Context("a").parent_contexts == []


def test_a_diamond_is_not_a_cycle() -> None:
    top, left, right, bottom = _context("top"), _context("left"), _context("right"), _context("bot")
    top.add_context_children([left, right])
    left.add_context_children([bottom])
    right.add_context_children([bottom])
    assert aiplatform.Context("bot").parent_contexts == [left.resource_name, right.resource_name]


def test_adding_an_unknown_child_is_not_found_and_links_nothing() -> None:
    parent, child = _context("parent"), _context("child")
    with pytest.raises(NotFoundError, match="ghost"):
        parent.add_context_children([child, "ghost"])
    assert aiplatform.Context("child").parent_contexts == []


# -- lineage of a context ------------------------------------------------------------------------


def test_query_lineage_subgraph() -> None:
    context = _context("pipeline-run")
    ds = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    model = aiplatform.Artifact.create(schema_title="system.Model", resource_id="model")
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="outsider")
    train = aiplatform.Execution.create(resource_id="train")
    train.assign_input_artifacts([ds])
    train.assign_output_artifacts([model])
    context.add_artifacts_and_executions(
        [ds.resource_name, model.resource_name], [train.resource_name]
    )
    graph = context.query_lineage_subgraph()
    assert sorted(a.resource_id for a in graph.artifacts) == ["ds", "model"]
    assert [e.resource_id for e in graph.executions] == ["train"]
    events = {(e.artifact, e.execution, e.type.name) for e in graph.events}
    assert events == {
        (ds.resource_name, train.resource_name, "INPUT"),
        (model.resource_name, train.resource_name, "OUTPUT"),
    }


def test_query_lineage_subgraph_of_an_empty_context() -> None:
    graph = _context("c").query_lineage_subgraph()
    assert (graph.artifacts, graph.executions, graph.events) == ([], [], [])
