"""`Artifact`: create, get, get_or_create, list, update, delete, get_with_uri, lineage."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

import pytest

import mlineage as aiplatform
from mlineage import types
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.sql import SqlStore

STORE = "projects/default/locations/us-central1/metadataStores/default"


def _ids(items: list[Any]) -> set[str]:
    return {item.name.rsplit("/", 1)[-1] for item in items}


def _edges(graph: types.LineageGraph) -> set[tuple[str, str, str]]:
    return {
        (e.artifact.rsplit("/", 1)[-1], e.execution.rsplit("/", 1)[-1], e.type.name)
        for e in graph.events
    }


# -- create / get ------------------------------------------------------------------------------


def test_create_reads_back_every_field() -> None:
    created = aiplatform.Artifact.create(
        schema_title="system.Dataset",
        resource_id="train-data",
        uri="file:///data/train.csv",
        display_name="train",
        description="the training split",
        metadata={"rows": 100000, "columns": ["a", "b"], "split": {"train": 0.8}},
        labels={"team": "churn"},
    )
    assert created.resource_name == f"{STORE}/artifacts/train-data"
    assert created.name == "train-data"

    read = aiplatform.Artifact("train-data")
    assert read.resource_name == f"{STORE}/artifacts/train-data"
    assert read.schema_title == "system.Dataset"
    assert read.schema_version == "0.0.1"
    assert read.uri == "file:///data/train.csv"
    assert read.display_name == "train"
    assert read.description == "the training split"
    assert read.metadata == {"rows": 100000, "columns": ["a", "b"], "split": {"train": 0.8}}
    assert read.labels == {"team": "churn"}
    assert read.state is aiplatform.Artifact.State.LIVE
    assert read.etag
    assert read.create_time is not None
    assert read.update_time is not None
    assert read == created


def test_construct_by_full_resource_name() -> None:
    created = aiplatform.Artifact.create(schema_title="system.Model", resource_id="m1")
    assert aiplatform.Artifact(created.resource_name).name == "m1"


def test_create_with_pending_state_and_schema_version() -> None:
    aiplatform.Artifact.create(
        schema_title="system.Model",
        resource_id="pending-model",
        schema_version="0.0.2",
        state=aiplatform.Artifact.State.PENDING,
    )
    read = aiplatform.Artifact("pending-model")
    assert read.state is types.ArtifactState.PENDING
    assert read.schema_version == "0.0.2"


def test_create_without_id_generates_a_valid_unique_id() -> None:
    first = aiplatform.Artifact.create(schema_title="system.Artifact")
    second = aiplatform.Artifact.create(schema_title="system.Artifact")
    assert first.name != second.name
    for artifact in (first, second):
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,127}", artifact.name)
        assert aiplatform.Artifact(artifact.name).resource_name == artifact.resource_name


def test_duplicate_id_is_already_exists_and_keeps_the_original() -> None:
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="dup", display_name="v1")
    with pytest.raises(AlreadyExistsError, match="dup"):
        aiplatform.Artifact.create(
            schema_title="system.Dataset", resource_id="dup", display_name="v2"
        )
    assert aiplatform.Artifact("dup").display_name == "v1"
    assert len(aiplatform.Artifact.list()) == 1


def test_get_returns_none_and_constructor_raises_for_unknown_ids() -> None:
    assert aiplatform.Artifact.get("nope") is None
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.Artifact("nope")
    with pytest.raises(NotFoundError):
        aiplatform.Artifact(f"{STORE}/artifacts/nope")


def test_get_finds_an_existing_artifact() -> None:
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds", uri="gs://b/x")
    found = aiplatform.Artifact.get("ds")
    assert found is not None
    assert found.uri == "gs://b/x"


def test_get_or_create_creates_once_then_returns_the_existing_one() -> None:
    made = aiplatform.Artifact.get_or_create(
        resource_id="goc",
        schema_title="system.Dataset",
        display_name="first",
        metadata={"v": 1},
    )
    assert made.display_name == "first"
    again = aiplatform.Artifact.get_or_create(
        resource_id="goc",
        schema_title="system.Dataset",
        display_name="second",
        metadata={"v": 2},
    )
    assert again.resource_name == made.resource_name
    assert again.display_name == "first"
    assert again.metadata == {"v": 1}
    assert len(aiplatform.Artifact.list()) == 1


# -- ids rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["Upper-case", "under_score", "a" * 129, "-leading", "sp ace"])
def test_resource_id_rule_is_invalid_argument_naming_the_field(bad_id: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.create(schema_title="system.Dataset", resource_id=bad_id)
    assert caught.value.field in ("resource_id", "artifact_id")
    assert caught.value.field in str(caught.value)
    assert aiplatform.Artifact.list() == []


def test_a_128_character_id_is_accepted() -> None:
    long_id = "a" * 128
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id=long_id)
    assert aiplatform.Artifact(long_id).name == long_id


# -- bad metadata -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        {"loss": math.nan},
        {"loss": math.inf},
        {"nested": {"x": -math.inf}},
        {"tags": {"a", "b"}},
        {"blob": "x" * (200 * 1024 + 1)},
        ["not", "a", "dict"],
    ],
    ids=["nan", "inf", "nested-inf", "set", "over-200kb", "list"],
)
def test_bad_metadata_is_refused_before_writing(metadata: Any) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.create(
            schema_title="system.Dataset", resource_id="bad", metadata=metadata
        )
    assert caught.value.field == "metadata"
    assert "metadata" in str(caught.value)
    assert aiplatform.Artifact.get("bad") is None
    assert aiplatform.Artifact.list() == []


def test_metadata_just_under_the_limit_is_accepted() -> None:
    blob = "x" * (200 * 1024 - 100)
    aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="big", metadata={"b": blob}
    )
    assert aiplatform.Artifact("big").metadata == {"b": blob}


def test_bad_metadata_in_update_leaves_the_stored_artifact_unchanged() -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="ds", metadata={"rows": 1}
    )
    with pytest.raises(InvalidArgumentError, match="metadata"):
        artifact.update(metadata={"rows": math.nan})
    with pytest.raises(InvalidArgumentError, match="metadata"):
        artifact.update(metadata={"rows": {1, 2}})
    assert aiplatform.Artifact("ds").metadata == {"rows": 1}


def test_a_rejected_update_leaves_the_object_usable() -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="ds", metadata={"rows": 1}
    )
    with pytest.raises(InvalidArgumentError, match="metadata"):
        artifact.update(metadata={"rows": math.nan})
    assert artifact.metadata == {"rows": 1}
    artifact.update(description="still usable")
    read = aiplatform.Artifact("ds")
    assert read.description == "still usable"
    assert read.metadata == {"rows": 1}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"display_name": "d" * 129}, "display_name"),
        ({"labels": {"team": 5}}, "labels.team"),
        ({"labels": {"": "x"}}, "labels"),
        ({"schema_title": ""}, "schema_title"),
    ],
)
def test_other_bad_fields_are_refused(kwargs: dict[str, Any], field: str) -> None:
    arguments = {"schema_title": "system.Dataset", "resource_id": "bad", **kwargs}
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.create(**arguments)
    assert caught.value.field == field
    assert aiplatform.Artifact.list() == []


# -- list -----------------------------------------------------------------------------------------


@pytest.fixture
def catalogue() -> None:
    aiplatform.Artifact.create(
        schema_title="system.Dataset",
        resource_id="ds-raw",
        display_name="raw",
        uri="gs://b/raw.csv",
        metadata={"rows": 100},
    )
    aiplatform.Artifact.create(
        schema_title="system.Dataset",
        resource_id="ds-small",
        display_name="small",
        uri="gs://b/small.csv",
        metadata={"rows": 10},
        state=types.ArtifactState.PENDING,
    )
    aiplatform.Artifact.create(
        schema_title="system.Model",
        resource_id="model-a",
        display_name="alpha",
        uri="gs://b/model",
        metadata={"accuracy": 0.9},
    )


@pytest.mark.usefixtures("catalogue")
def test_list_without_filter_returns_everything_in_creation_order() -> None:
    assert [a.name for a in aiplatform.Artifact.list()] == ["ds-raw", "ds-small", "model-a"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ('schema_title="system.Dataset"', {"ds-raw", "ds-small"}),
        ('display_name = "alpha"', {"model-a"}),
        ('uri = "gs://b/raw.csv"', {"ds-raw"}),
        ("metadata.rows.number_value > 50", {"ds-raw"}),
        ("state = PENDING", {"ds-small"}),
        ('schema_title = "system.Dataset" AND state = LIVE', {"ds-raw"}),
        ('display_name = "raw" OR display_name = "alpha"', {"ds-raw", "model-a"}),
        ('display_name = "nothing"', set()),
    ],
)
def test_list_with_filter(filter_: str, expected: set[str]) -> None:
    assert {a.name for a in aiplatform.Artifact.list(filter=filter_)} == expected


@pytest.mark.usefixtures("catalogue")
def test_list_order_by() -> None:
    by_name = aiplatform.Artifact.list(order_by="display_name")
    assert [a.display_name for a in by_name] == ["alpha", "raw", "small"]
    by_name_desc = aiplatform.Artifact.list(order_by="display_name desc")
    assert [a.display_name for a in by_name_desc] == ["small", "raw", "alpha"]
    newest_first = aiplatform.Artifact.list(order_by="create_time desc")
    assert [a.name for a in newest_first] == ["model-a", "ds-small", "ds-raw"]
    datasets = aiplatform.Artifact.list(
        filter='schema_title="system.Dataset"', order_by="display_name desc"
    )
    assert [a.name for a in datasets] == ["ds-small", "ds-raw"]


@pytest.mark.usefixtures("catalogue")
def test_list_with_a_malformed_filter_or_order_by_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.list(filter='display_name = = "x"')
    assert caught.value.field == "filter"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.list(filter="no_such_field = 1")
    assert caught.value.field == "filter"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.list(order_by="no_such_field desc")
    assert caught.value.field == "order_by"


def test_a_malformed_filter_is_invalid_argument_on_an_empty_store_too() -> None:
    # The same call must not succeed or fail depending on whether anything was stored yet.
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.list(filter='display_name = = "x"')
    assert caught.value.field == "filter"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.list(order_by="no_such_field desc")
    assert caught.value.field == "order_by"


def test_list_is_scoped_to_the_project() -> None:
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="here")
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="there", project="other")
    assert [a.name for a in aiplatform.Artifact.list()] == ["here"]
    assert [a.name for a in aiplatform.Artifact.list(project="other")] == ["there"]
    assert aiplatform.Artifact.get("there") is None


# -- update ------------------------------------------------------------------------------------


def test_update_merges_metadata_one_level_deep() -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset",
        resource_id="ds",
        metadata={"a": 1, "keep": "k", "nested": {"x": 1, "y": 2}, "deep": {"d": {"p": 1, "q": 2}}},
    )
    artifact.update(metadata={"nested": {"y": 3, "z": 4}, "b": 2, "deep": {"d": {"p": 9}}})
    expected = {
        "a": 1,
        "b": 2,
        "keep": "k",
        "nested": {"x": 1, "y": 3, "z": 4},
        "deep": {"d": {"p": 9}},
    }
    assert artifact.metadata == expected
    assert aiplatform.Artifact("ds").metadata == expected


def test_update_replaces_a_non_dict_value_with_a_dict_and_back() -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="ds", metadata={"v": 1, "w": {"x": 1}}
    )
    artifact.update(metadata={"v": {"now": "dict"}, "w": 5})
    assert aiplatform.Artifact("ds").metadata == {"v": {"now": "dict"}, "w": 5}


def test_update_description_state_and_uri() -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Model",
        resource_id="m",
        uri="gs://b/old",
        description="old",
        state=types.ArtifactState.PENDING,
        metadata={"k": 1},
    )
    artifact.update(description="new", state=types.ArtifactState.LIVE, uri="gs://b/new")
    read = aiplatform.Artifact("m")
    assert read.description == "new"
    assert read.state is types.ArtifactState.LIVE
    assert read.uri == "gs://b/new"
    assert read.metadata == {"k": 1}
    assert read.schema_title == "system.Model"


def test_update_changes_the_etag_and_update_time() -> None:
    artifact = aiplatform.Artifact.create(schema_title="system.Model", resource_id="m")
    etag, updated = artifact.etag, artifact.update_time
    assert updated is not None
    artifact.update(metadata={"v": 1})
    assert artifact.etag != etag
    assert artifact.update_time is not None
    assert artifact.update_time >= updated
    assert aiplatform.Artifact("m").etag == artifact.etag
    assert aiplatform.Artifact("m").create_time == artifact.create_time


def test_update_with_a_non_dict_metadata_is_invalid_argument() -> None:
    artifact = aiplatform.Artifact.create(schema_title="system.Model", resource_id="m")
    with pytest.raises(InvalidArgumentError, match="metadata"):
        artifact.update(metadata=[1, 2])  # type: ignore[arg-type]


def test_stale_sdk_object_update_is_aborted_and_the_winner_is_kept() -> None:
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="m", metadata={"v": 0})
    first, second = aiplatform.Artifact("m"), aiplatform.Artifact("m")
    first.update(metadata={"v": 1})
    with pytest.raises(AbortedError, match="etag"):
        second.update(metadata={"v": 2})
    assert aiplatform.Artifact("m").metadata == {"v": 1}
    second.sync_resource()
    second.update(metadata={"v": 2})
    assert aiplatform.Artifact("m").metadata == {"v": 2}


def test_store_update_with_an_old_etag_is_aborted(store: SqlStore) -> None:
    artifact = aiplatform.Artifact.create(
        schema_title="system.Model", resource_id="m", metadata={"v": 0}
    )
    old = dataclasses.replace(artifact.gca_resource)
    artifact.update(metadata={"v": 1})
    stale = dataclasses.replace(old, metadata={"v": 99})
    with pytest.raises(AbortedError) as caught:
        store.update(stale)
    assert old.etag in str(caught.value)
    assert aiplatform.Artifact("m").metadata == {"v": 1}
    # the current etag succeeds, and an empty etag updates unconditionally
    current = dataclasses.replace(aiplatform.Artifact("m").gca_resource, metadata={"v": 2})
    assert store.update(current).metadata == {"v": 2}
    unconditional = dataclasses.replace(old, etag="", metadata={"v": 3})
    assert store.update(unconditional).metadata == {"v": 3}


def test_store_update_of_an_unknown_artifact_is_not_found(store: SqlStore) -> None:
    ghost = types.Artifact(name=f"{STORE}/artifacts/ghost", schema_title="system.Model")
    with pytest.raises(NotFoundError):
        store.update(ghost)


# -- delete ------------------------------------------------------------------------------------


def test_delete_removes_the_artifact() -> None:
    artifact = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="gone")
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="stays")
    artifact.delete()
    assert aiplatform.Artifact.get("gone") is None
    assert [a.name for a in aiplatform.Artifact.list()] == ["stays"]
    with pytest.raises(NotFoundError):
        artifact.delete()


def test_deleting_an_artifact_an_event_references_is_failed_precondition() -> None:
    dataset = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    execution = aiplatform.Execution.create(resource_id="train")
    execution.assign_input_artifacts([dataset])
    with pytest.raises(FailedPreconditionError, match="ds"):
        dataset.delete()
    assert aiplatform.Artifact("ds").name == "ds"
    assert [a.name for a in execution.get_input_artifacts()] == ["ds"]


# -- get_with_uri --------------------------------------------------------------------------------


def test_get_with_uri_returns_the_newest() -> None:
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="old", uri="gs://b/m")
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="other", uri="gs://b/x")
    aiplatform.Artifact.create(schema_title="system.Model", resource_id="new", uri="gs://b/m")
    assert aiplatform.Artifact.get_with_uri("gs://b/m").name == "new"
    assert aiplatform.Artifact.get_with_uri("gs://b/x").name == "other"


def test_get_with_uri_handles_quotes_in_the_uri() -> None:
    uri = 'file:///data/a "quoted" \\ name.csv'
    aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="q", uri=uri)
    assert aiplatform.Artifact.get_with_uri(uri).name == "q"


def test_get_with_uri_unknown_is_not_found() -> None:
    aiplatform.Artifact.create(schema_title="system.Model", uri="gs://b/m")
    with pytest.raises(NotFoundError, match="gs://b/none"):
        aiplatform.Artifact.get_with_uri("gs://b/none")


def test_get_with_uri_unknown_is_a_value_error_as_in_vertex() -> None:
    # google.cloud.aiplatform.Artifact.get_with_uri raises ValueError when nothing matches;
    # code written against it catches ValueError.
    with pytest.raises(ValueError, match="gs://b/none"):
        aiplatform.Artifact.get_with_uri("gs://b/none")


# -- lineage subgraph ----------------------------------------------------------------------------


@pytest.fixture
def pipeline() -> dict[str, aiplatform.Artifact]:
    """raw -> [prep] -> train-ds (+ prep-report) -> [train] -> model -> [deploy] -> endpoint."""

    def artifact(resource_id: str, title: str) -> aiplatform.Artifact:
        return aiplatform.Artifact.create(
            schema_title=title, resource_id=resource_id, uri=f"gs://b/{resource_id}"
        )

    made = {
        "raw": artifact("raw", "system.Dataset"),
        "train-ds": artifact("train-ds", "system.Dataset"),
        "prep-report": artifact("prep-report", "system.Metrics"),
        "model": artifact("model", "system.Model"),
        "endpoint": artifact("endpoint", "google.VertexEndpoint"),
        "unrelated": artifact("unrelated", "system.Dataset"),
    }
    steps = [
        ("prep", ["raw"], ["train-ds", "prep-report"]),
        ("train", ["train-ds"], ["model"]),
        ("deploy", ["model"], ["endpoint"]),
    ]
    for name, inputs, outputs in steps:
        execution = aiplatform.Execution.create(resource_id=name, display_name=name)
        execution.assign_input_artifacts([made[i] for i in inputs])
        execution.assign_output_artifacts([made[o] for o in outputs])
    return made


UPSTREAM_EDGES = {
    ("model", "train", "OUTPUT"),
    ("train-ds", "train", "INPUT"),
    ("train-ds", "prep", "OUTPUT"),
    ("raw", "prep", "INPUT"),
}


@pytest.mark.parametrize(
    ("max_hops", "direction", "artifacts", "executions", "edges"),
    [
        (0, "both", {"model"}, set(), set()),
        (0, "upstream", {"model"}, set(), set()),
        (1, "upstream", {"model"}, {"train"}, {("model", "train", "OUTPUT")}),
        (1, "downstream", {"model"}, {"deploy"}, {("model", "deploy", "INPUT")}),
        (
            1,
            "both",
            {"model"},
            {"train", "deploy"},
            {("model", "train", "OUTPUT"), ("model", "deploy", "INPUT")},
        ),
        (
            2,
            "upstream",
            {"model", "train-ds"},
            {"train"},
            {("model", "train", "OUTPUT"), ("train-ds", "train", "INPUT")},
        ),
        (
            2,
            "downstream",
            {"model", "endpoint"},
            {"deploy"},
            {("model", "deploy", "INPUT"), ("endpoint", "deploy", "OUTPUT")},
        ),
        (
            2,
            "both",
            {"model", "train-ds", "endpoint"},
            {"train", "deploy"},
            {
                ("model", "train", "OUTPUT"),
                ("train-ds", "train", "INPUT"),
                ("model", "deploy", "INPUT"),
                ("endpoint", "deploy", "OUTPUT"),
            },
        ),
        (None, "upstream", {"model", "train-ds", "raw"}, {"train", "prep"}, UPSTREAM_EDGES),
        (
            None,
            "downstream",
            {"model", "endpoint"},
            {"deploy"},
            {("model", "deploy", "INPUT"), ("endpoint", "deploy", "OUTPUT")},
        ),
    ],
)
def test_lineage_subgraph_by_hops_and_direction(
    pipeline: dict[str, aiplatform.Artifact],
    max_hops: int | None,
    direction: str,
    artifacts: set[str],
    executions: set[str],
    edges: set[tuple[str, str, str]],
) -> None:
    by_class = aiplatform.Artifact.get_with_lineage_subgraph(
        resource_id="model", max_hops=max_hops, direction=direction
    )
    by_instance = pipeline["model"].get_with_lineage_subgraph(
        max_hops=max_hops, direction=direction
    )
    for graph in (by_class, by_instance):
        assert _ids(graph.artifacts) == artifacts
        assert _ids(graph.executions) == executions
        assert _edges(graph) == edges
        assert len(graph.events) == len(edges)
        assert graph.truncated is False


def test_lineage_without_max_hops_is_the_whole_lineage_both_ways(
    pipeline: dict[str, aiplatform.Artifact],
) -> None:
    graph = pipeline["model"].get_with_lineage_subgraph()
    assert _ids(graph.artifacts) == {"model", "train-ds", "raw", "endpoint"}
    assert _ids(graph.executions) == {"prep", "train", "deploy"}
    assert _edges(graph) == UPSTREAM_EDGES | {
        ("model", "deploy", "INPUT"),
        ("endpoint", "deploy", "OUTPUT"),
    }
    # downstream of the raw data reaches everything made from it, and nothing unrelated
    forward = aiplatform.Artifact.get_with_lineage_subgraph(
        resource_id="raw", direction="downstream"
    )
    assert _ids(forward.artifacts) == {"raw", "train-ds", "prep-report", "model", "endpoint"}
    assert _ids(forward.executions) == {"prep", "train", "deploy"}


def test_lineage_returns_full_resources(pipeline: dict[str, aiplatform.Artifact]) -> None:
    graph = aiplatform.Artifact.get_with_lineage_subgraph(
        resource_id=f"{STORE}/artifacts/model", max_hops=2, direction="upstream"
    )
    dataset = next(a for a in graph.artifacts if a.resource_id == "train-ds")
    assert dataset.uri == "gs://b/train-ds"
    assert dataset.schema_title == "system.Dataset"
    assert graph.executions[0].name == f"{STORE}/executions/train"
    assert {e.execution for e in graph.events} == {f"{STORE}/executions/train"}


def test_lineage_of_an_artifact_without_events_is_just_itself(
    pipeline: dict[str, aiplatform.Artifact],
) -> None:
    graph = pipeline["unrelated"].get_with_lineage_subgraph()
    assert _ids(graph.artifacts) == {"unrelated"}
    assert graph.executions == []
    assert graph.events == []


def test_lineage_filter_applies_to_artifacts(pipeline: dict[str, aiplatform.Artifact]) -> None:
    graph = pipeline["model"].get_with_lineage_subgraph(
        filter='schema_title = "system.Dataset"', direction="upstream"
    )
    assert _ids(graph.artifacts) == {"train-ds", "raw"}


@pytest.mark.usefixtures("pipeline")
def test_lineage_bad_arguments() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.get_with_lineage_subgraph()
    assert caught.value.field == "resource_id"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.get_with_lineage_subgraph(resource_id="model", max_hops=-1)
    assert caught.value.field == "max_hops"
    with pytest.raises(InvalidArgumentError) as caught:
        aiplatform.Artifact.get_with_lineage_subgraph(resource_id="model", direction="sideways")
    assert caught.value.field == "direction"
    with pytest.raises(NotFoundError, match="nope"):
        aiplatform.Artifact.get_with_lineage_subgraph(resource_id="nope")
