"""The store contract, called directly: listing, batches, schemas, events and context links."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from mlineage.store.base import MetadataStore
from mlineage.types import (
    Artifact,
    ArtifactState,
    Context,
    Event,
    EventType,
    Execution,
    ExecutionState,
    MetadataSchema,
    ResourceName,
    SchemaType,
    StoreName,
    TimeSeriesPoint,
)
from mlineage.validation import MAX_METADATA_BYTES


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


def _artifacts(
    store: MetadataStore, parent: StoreName, count: int, prefix: str = "a"
) -> list[Artifact]:
    return store.create_many(
        parent,
        [
            Artifact(name=f"{parent}/artifacts/{prefix}-{i:04d}", display_name=f"{prefix}{i}")
            for i in range(count)
        ],
    )


def test_pages_cover_every_row_once_while_rows_are_inserted(
    store: MetadataStore, parent: StoreName
) -> None:
    _artifacts(store, parent, 25)
    seen: list[str] = []
    page = store.list(parent, Artifact, order_by="display_name desc", page_size=10)
    seen += [a.display_name for a in page.items]
    _artifacts(store, parent, 5, prefix="late")  # sorts after every "a..." name, descending
    while page.next_page_token:
        page = store.list(
            parent,
            Artifact,
            order_by="display_name desc",
            page_size=10,
            page_token=page.next_page_token,
        )
        seen += [a.display_name for a in page.items]
    original = sorted((f"a{i}" for i in range(25)), reverse=True)
    assert [s for s in seen if s.startswith("a")] == original
    assert len(seen) == len(set(seen))


def test_a_page_token_is_refused_for_another_query(store: MetadataStore, parent: StoreName) -> None:
    _artifacts(store, parent, 3)
    page = store.list(parent, Artifact, page_size=1)
    with pytest.raises(InvalidArgumentError) as error:
        store.list(parent, Artifact, filter='display_name="a1"', page_token=page.next_page_token)
    assert error.value.field == "page_token"
    with pytest.raises(InvalidArgumentError, match="page_token"):
        store.list(parent, Artifact, page_token="not-a-token")


def test_list_filters_with_the_vertex_language(store: MetadataStore, parent: StoreName) -> None:
    store.create(parent, Artifact(display_name="m", schema_title="system.Model", uri="gs://b/m"))
    store.create(parent, Artifact(display_name="d", schema_title="system.Dataset", uri="gs://b/d"))
    found = store.list(parent, Artifact, filter='schema_title="system.Model" OR uri="gs://b/d"')
    assert sorted(a.display_name for a in found.items) == ["d", "m"]
    only = store.list(parent, Artifact, filter='uri = "gs://b/m"')
    assert [a.display_name for a in only.items] == ["m"]
    with pytest.raises(InvalidArgumentError) as error:
        store.list(parent, Artifact, filter='uri = "gs://b/m" AND')
    assert error.value.field == "filter"
    assert "position" in error.value.rule


def test_a_batch_is_all_or_nothing(store: MetadataStore, parent: StoreName) -> None:
    _artifacts(store, parent, 2)
    batch = [
        Artifact(name=f"{parent}/artifacts/new-one"),
        Artifact(name=f"{parent}/artifacts/a-0001"),  # taken
    ]
    with pytest.raises(AlreadyExistsError, match="a-0001"):
        store.create_many(parent, batch)
    with pytest.raises(NotFoundError):
        store.get(f"{parent}/artifacts/new-one", Artifact)


def test_a_bad_resource_in_a_batch_writes_nothing(store: MetadataStore, parent: StoreName) -> None:
    batch = [Artifact(display_name="fine"), Artifact(metadata={"x": math.nan})]
    with pytest.raises(InvalidArgumentError, match="metadata"):
        store.create_many(parent, batch)
    assert store.list(parent, Artifact).items == []


def test_etags_detect_lost_updates(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Execution(display_name="e"))
    first = store.get(created.name, Execution)
    second = store.get(created.name, Execution)
    first.state = ExecutionState.COMPLETE
    store.update(first)
    second.state = ExecutionState.FAILED
    with pytest.raises(AbortedError, match="does not match server `etag`"):
        store.update(second)
    assert store.get(created.name, Execution).state is ExecutionState.COMPLETE
    with pytest.raises(AbortedError):
        store.delete(created.name, Execution, etag="1")


def test_registered_schema_validates_metadata(store: MetadataStore, parent: StoreName) -> None:
    schema_text = (
        "title: acme.Dataset\ntype: object\nrequired: [rows]\n"
        "properties:\n  rows: {type: integer, minimum: 0}\n"
    )
    registered = store.create_metadata_schema(
        parent, MetadataSchema(schema_title="acme.Dataset", schema=schema_text), "acme-dataset"
    )
    assert store.get_metadata_schema(registered.name).schema == schema_text
    assert [s.schema_title for s in store.list_metadata_schemas(parent).items] == ["acme.Dataset"]
    store.create(parent, Artifact(schema_title="acme.Dataset", metadata={"rows": 3}))
    with pytest.raises(InvalidArgumentError) as error:
        store.create(parent, Artifact(schema_title="acme.Dataset", metadata={"rows": -1}))
    assert error.value.field == "metadata.rows"
    with pytest.raises(InvalidArgumentError, match="rows"):
        store.create(parent, Artifact(schema_title="acme.Dataset", metadata={}))
    assert len(store.list(parent, Artifact).items) == 1


def test_schemas_reject_bad_documents_and_duplicates(
    store: MetadataStore, parent: StoreName
) -> None:
    with pytest.raises(InvalidArgumentError, match="schema"):
        store.create_metadata_schema(parent, MetadataSchema("acme.X", schema="type: [oops"))
    with pytest.raises(InvalidArgumentError, match="built in"):
        store.create_metadata_schema(parent, MetadataSchema("system.Model", schema="type: object"))
    store.create_metadata_schema(
        parent,
        MetadataSchema("acme.X", schema="type: object", schema_type=SchemaType.EXECUTION_TYPE),
    )
    with pytest.raises(AlreadyExistsError):
        store.create_metadata_schema(parent, MetadataSchema("acme.X", schema="type: object"))


def test_events_are_idempotent_and_guard_deletion(store: MetadataStore, parent: StoreName) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    model = store.create(parent, Artifact(display_name="model"))
    train = store.create(parent, Execution(display_name="train"))
    events = [Event(data.name, type=EventType.INPUT), Event(model.name, type=EventType.OUTPUT)]
    store.add_execution_events(train.name, events)
    store.add_execution_events(train.name, events)
    graph = store.query_execution_inputs_and_outputs(train.name)
    assert sorted((e.type.name, e.artifact) for e in graph.events) == [
        ("INPUT", data.name),
        ("OUTPUT", model.name),
    ]
    with pytest.raises(FailedPreconditionError, match="lineage"):
        store.delete(data.name, Artifact)
    with pytest.raises(FailedPreconditionError):
        store.delete(train.name, Execution)
    with pytest.raises(NotFoundError):
        store.add_execution_events(train.name, [Event(f"{parent}/artifacts/missing")])
    with pytest.raises(InvalidArgumentError, match="type"):
        store.add_execution_events(train.name, [Event(data.name, type=EventType.TYPE_UNSPECIFIED)])
    assert len(store.query_execution_inputs_and_outputs(train.name).events) == 2


def test_context_links_refuse_cycles(store: MetadataStore, parent: StoreName) -> None:
    a, b, c = (store.create(parent, Context(display_name=n), n) for n in "abc")
    store.add_context_children(a.name, [b.name])
    store.add_context_children(b.name, [c.name])
    with pytest.raises(InvalidArgumentError, match="cycle"):
        store.add_context_children(c.name, [a.name])
    with pytest.raises(InvalidArgumentError, match="cycle"):
        store.add_context_children(a.name, [a.name])
    assert store.get(a.name, Context).parent_contexts == []
    assert store.get(c.name, Context).parent_contexts == [b.name]
    store.remove_context_children(b.name, [c.name])
    assert store.get(c.name, Context).parent_contexts == []


def test_stores_are_isolated_by_project(store: MetadataStore) -> None:
    mine = StoreName("project-a", "us-central1")
    theirs = StoreName("project-b", "us-central1")
    created = store.create(mine, Artifact(display_name="secret"), "same-id")
    store.create(theirs, Artifact(display_name="other"), "same-id")
    assert store.get(created.name, Artifact).display_name == "secret"
    assert [a.display_name for a in store.list(theirs, Artifact).items] == ["other"]
    with pytest.raises(NotFoundError):
        store.add_context_artifacts_and_executions(
            store.create(theirs, Context(display_name="ctx")).name, artifacts=[created.name]
        )


def test_time_series_points_in_bulk(store: MetadataStore, parent: StoreName) -> None:
    experiment = store.create(parent, Context(schema_title="system.Experiment"), "exp")
    run = store.create_run(
        parent, Context(schema_title="system.ExperimentRun"), "exp-r", experiment=experiment.name
    )
    from datetime import UTC, datetime

    when = datetime(2026, 1, 1, tzinfo=UTC)
    points = [TimeSeriesPoint("loss", step, 1.0 / (step + 1), when) for step in range(1000)]
    points.append(TimeSeriesPoint("loss", 1000, math.inf, when))
    store.write_time_series_points(run.context.name, points)
    read = store.read_time_series(run.context.name, ["loss"])
    assert len(read) == 1001
    assert read[0] == points[0]
    assert read[-1].value == math.inf
    assert store.write_time_series(run.context.name, {"loss": 0.0}) == 1001
    with pytest.raises(InvalidArgumentError, match="step"):
        store.write_time_series(run.context.name, {"loss": 0.0}, step=-1)


@pytest.mark.parametrize("max_hops", [None, 1, 2, 7])
def test_lineage_ends_on_cycles(
    store: MetadataStore, parent: StoreName, max_hops: int | None
) -> None:
    """An execution that updates a model in place (input and output at once), and a loop
    over two executions, must not make a lineage query run forever."""
    model = store.create(parent, Artifact(display_name="model"))
    other = store.create(parent, Artifact(display_name="other"))
    tune = store.create(parent, Execution(display_name="tune"))
    store.add_execution_events(
        tune.name,
        [Event(model.name, type=EventType.INPUT), Event(model.name, type=EventType.OUTPUT)],
    )
    forth = store.create(parent, Execution(display_name="forth"))
    back = store.create(parent, Execution(display_name="back"))
    store.add_execution_events(
        forth.name,
        [Event(model.name, type=EventType.INPUT), Event(other.name, type=EventType.OUTPUT)],
    )
    store.add_execution_events(
        back.name,
        [Event(other.name, type=EventType.INPUT), Event(model.name, type=EventType.OUTPUT)],
    )
    for direction in ("upstream", "downstream", "both"):
        graph = store.query_artifact_lineage_subgraph(
            model.name,
            max_hops=max_hops,
            direction=direction,  # type: ignore[arg-type]
        )
        names = {a.display_name for a in graph.artifacts}
        assert names == ({"model"} if max_hops == 1 else {"model", "other"})
        assert {e.display_name for e in graph.executions} >= {"tune"}


def test_finishing_an_execution_is_all_or_nothing(store: MetadataStore, parent: StoreName) -> None:
    data = store.create(parent, Artifact(display_name="data"))
    run = store.create(parent, Context(display_name="run"))
    started, _ = store.record_execution(
        parent, Execution(display_name="train"), inputs=[data.name], contexts=[run.name]
    )
    started.state = ExecutionState.COMPLETE
    with pytest.raises(InvalidArgumentError, match="metadata"):
        store.finish_execution(
            started, outputs=[Artifact(display_name="model", metadata={"bad": math.inf})]
        )
    graph = store.query_execution_inputs_and_outputs(started.name)
    assert [e.type for e in graph.events] == [EventType.INPUT]
    assert store.get(started.name, Execution).state is ExecutionState.RUNNING

    finished, (model,) = store.finish_execution(
        started, outputs=[Artifact(display_name="model")], contexts=[run.name]
    )
    assert finished.state is ExecutionState.COMPLETE
    outputs = store.query_execution_inputs_and_outputs(started.name)
    assert {(e.type.name, e.artifact) for e in outputs.events} == {
        ("INPUT", data.name),
        ("OUTPUT", model.name),
    }
    members = store.list(parent, Artifact, filter=f'in_context("{run.name}")').items
    assert {a.display_name for a in members} == {"data", "model"}


# --- create, get, update, delete: the same rules for every kind ---

KINDS = [Artifact, Execution, Context]
ID_FIELDS = {Artifact: "artifact_id", Execution: "execution_id", Context: "context_id"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_given_id_names_the_resource(
    store: MetadataStore, parent: StoreName, kind: type[Any]
) -> None:
    created = store.create(parent, kind(display_name="x"), "my-id-1")
    assert created.name == f"{parent}/{kind.kind}/my-id-1"
    assert store.get(created.name, kind) == created


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_id_is_generated(
    store: MetadataStore, parent: StoreName, kind: type[Any]
) -> None:
    first, second = store.create(parent, kind()), store.create(parent, kind())
    assert first.name != second.name
    generated = ResourceName.parse(first.name).resource_id
    assert str(uuid.UUID(generated)) == generated  # a UUID in its usual spelling
    # Time-ordered (version 7) UUIDs, so new ids append to the index; the REST client
    # names a new resource itself, with the same generator (`mlineage.ids`).
    assert uuid.UUID(generated).version == 7
    assert store.get(first.name, kind).name == first.name


def test_a_schema_without_an_id_gets_a_time_ordered_one(
    store: MetadataStore, parent: StoreName
) -> None:
    registered = store.create_metadata_schema(parent, MetadataSchema("acme.Y", schema="{}"))
    generated = ResourceName.parse(registered.name).resource_id
    assert uuid.UUID(generated).version == 7  # as the REST client names it


@pytest.mark.parametrize("kind", KINDS)
def test_a_taken_id_already_exists(
    store: MetadataStore, parent: StoreName, kind: type[Any]
) -> None:
    store.create(parent, kind(display_name="first"), "taken")
    with pytest.raises(AlreadyExistsError, match=f"{kind.kind}/taken already exists"):
        store.create(parent, kind(display_name="second"), "taken")
    assert store.get(f"{parent}/{kind.kind}/taken", kind).display_name == "first"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad_id", ["Upper", "-leading-hyphen", "under_score", "a" * 129])
def test_an_invalid_id_names_the_field(
    store: MetadataStore, parent: StoreName, kind: type[Any], bad_id: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.create(parent, kind(), bad_id)
    assert error.value.field == ID_FIELDS[kind]


def test_created_resources_carry_times_and_an_etag(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Artifact(display_name="x"))
    assert created.etag
    assert created.create_time is not None
    assert created.create_time.tzinfo is not None
    assert created.update_time == created.create_time


def test_every_field_round_trips(store: MetadataStore, parent: StoreName) -> None:
    artifact = Artifact(
        display_name="model ✓",
        schema_title="system.Model",
        schema_version="1.2.3",
        metadata={"nested": {"list": [1, 2.5, "three", None, True]}, "unicode": "héllo"},
        description="a model",
        labels={"team": "vision"},
        uri="gs://bucket/model",
        state=ArtifactState.PENDING,
        fingerprint="sha256:" + "ab" * 32,
    )
    created = store.create(parent, artifact, "model")
    read = store.get(created.name, Artifact)
    for field in ("display_name", "schema_title", "schema_version", "metadata", "description"):
        assert getattr(read, field) == getattr(artifact, field), field
    assert (read.labels, read.uri, read.state) == (artifact.labels, artifact.uri, artifact.state)
    assert read.fingerprint == artifact.fingerprint


def test_big_integers_and_floats_in_metadata_round_trip(
    store: MetadataStore, parent: StoreName
) -> None:
    metadata = {"big": 2**53 + 1, "small": -(2**40), "float": 0.1, "exp": 1e300, "zero": 0.0}
    created = store.create(parent, Execution(metadata=metadata))
    assert store.get(created.name, Execution).metadata == metadata


def test_execution_and_context_fields_round_trip(store: MetadataStore, parent: StoreName) -> None:
    execution = store.create(
        parent, Execution(schema_title="system.Run", state=ExecutionState.NEW), "e"
    )
    assert store.get(execution.name, Execution).state is ExecutionState.NEW
    assert store.get(execution.name, Execution).schema_title == "system.Run"
    context = store.create(parent, Context(schema_title="system.Pipeline", metadata={"k": 1}))
    assert store.get(context.name, Context).metadata == {"k": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("metadata", {"big": "x" * 210_000}),
        ("metadata", {"inf": math.inf}),
        ("labels", {"key": 1}),
        ("display_name", "x" * 129),
        ("description", "x" * 9000),
    ],
)
def test_limits_are_enforced_with_the_field_named(
    store: MetadataStore, parent: StoreName, field: str, value: Any
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.create(parent, Artifact(**{field: value}))
    assert error.value.field.startswith(field)
    assert store.list(parent, Artifact).items == []


def test_metadata_just_under_the_limit_is_kept(store: MetadataStore, parent: StoreName) -> None:
    metadata = {"blob": "x" * (MAX_METADATA_BYTES - 20)}
    created = store.create(parent, Artifact(metadata=metadata))
    assert store.get(created.name, Artifact).metadata == metadata


def test_get_of_an_unknown_resource_is_not_found(store: MetadataStore, parent: StoreName) -> None:
    with pytest.raises(NotFoundError):
        store.get(f"{parent}/artifacts/missing", Artifact)
    other_project = StoreName("nobody", "us-central1")
    with pytest.raises(NotFoundError):
        store.get(f"{other_project}/contexts/missing", Context)


@pytest.mark.parametrize(
    "name", ["nonsense", "projects/p/locations/l/metadataStores/s/executions/x", ""]
)
def test_a_malformed_name_is_invalid(store: MetadataStore, name: str) -> None:
    with pytest.raises(InvalidArgumentError):
        store.get(name, Artifact)


def test_update_replaces_the_mutable_fields(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Artifact(display_name="v1", metadata={"a": 1}, uri="u1"))
    created.display_name, created.metadata, created.uri = "v2", {"b": 2}, "u2"
    created.description, created.labels = "changed", {"k": "v"}
    updated = store.update(created)
    read = store.get(created.name, Artifact)
    assert read == updated
    assert (read.display_name, read.metadata, read.uri) == ("v2", {"b": 2}, "u2")
    assert (read.description, read.labels) == ("changed", {"k": "v"})
    assert read.etag != created.etag
    assert read.update_time is not None
    assert created.update_time is not None
    assert read.update_time >= created.update_time
    assert read.create_time == created.create_time


def test_update_keeps_the_schema_title(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Artifact(schema_title="system.Model"))
    created.schema_title = "system.Dataset"
    store.update(created)
    assert store.get(created.name, Artifact).schema_title == "system.Model"


def test_update_without_an_etag_always_applies(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Context(display_name="v1"))
    store.update(Context(name=created.name, display_name="v2"))
    store.update(Context(name=created.name, display_name="v3"))
    assert store.get(created.name, Context).display_name == "v3"


def test_update_of_an_unknown_resource_is_not_found(
    store: MetadataStore, parent: StoreName
) -> None:
    with pytest.raises(NotFoundError):
        store.update(Artifact(name=f"{parent}/artifacts/missing"))


def test_update_validates_like_create(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Artifact(display_name="ok"))
    created.metadata = {"nan": math.nan}
    with pytest.raises(InvalidArgumentError, match="metadata"):
        store.update(created)
    assert store.get(created.name, Artifact).metadata == {}


@pytest.mark.parametrize("kind", KINDS)
def test_delete_removes_the_resource(
    store: MetadataStore, parent: StoreName, kind: type[Any]
) -> None:
    created = store.create(parent, kind())
    store.delete(created.name, kind, etag=created.etag)
    with pytest.raises(NotFoundError):
        store.get(created.name, kind)
    with pytest.raises(NotFoundError):
        store.delete(created.name, kind)


def test_a_deleted_id_can_be_used_again(store: MetadataStore, parent: StoreName) -> None:
    store.delete(store.create(parent, Artifact(display_name="old"), "again").name, Artifact)
    store.create(parent, Artifact(display_name="new"), "again")
    assert store.get(f"{parent}/artifacts/again", Artifact).display_name == "new"


def test_a_stale_etag_on_delete_keeps_the_resource(store: MetadataStore, parent: StoreName) -> None:
    created = store.create(parent, Artifact(display_name="v1"))
    store.update(Artifact(name=created.name, display_name="v2"))
    with pytest.raises(AbortedError):
        store.delete(created.name, Artifact, etag=created.etag)
    assert store.get(created.name, Artifact).display_name == "v2"


def test_an_experiment_with_runs_cannot_be_deleted(store: MetadataStore, parent: StoreName) -> None:
    experiment = store.create(parent, Context(schema_title="system.Experiment"), "exp")
    store.create_run(
        parent, Context(schema_title="system.ExperimentRun"), "exp-r", experiment=experiment.name
    )
    with pytest.raises(FailedPreconditionError):
        store.delete(experiment.name, Context)
    store.delete(f"{parent}/contexts/exp-r", Context)
    store.delete(experiment.name, Context)


# --- metadata stores ---


def test_metadata_stores_are_created_on_first_use(store: MetadataStore) -> None:
    other = StoreName("fresh-project", "europe-west4", "team")
    with pytest.raises(NotFoundError):
        store.get_metadata_store(other)
    info = store.get_or_create_metadata_store(other, description="the team's")
    assert info.name == str(other)
    assert store.get_or_create_metadata_store(other) == info
    assert store.get_metadata_store(other).description == "the team's"
    store.create(StoreName("fresh-project", "europe-west4", "other"), Artifact())
    assert store.get_metadata_store(StoreName("fresh-project", "europe-west4", "other"))
