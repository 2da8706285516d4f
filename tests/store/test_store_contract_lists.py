"""The store contract for listing: filters, order_by and page tokens, on every backend."""

from __future__ import annotations

import pytest

from mlineage.errors import InvalidArgumentError
from mlineage.store.base import MetadataStore
from mlineage.types import Artifact, Context, Execution, ExecutionState, MetadataSchema, StoreName
from tests.store.page_tokens import forged


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


@pytest.fixture
def catalog(store: MetadataStore, parent: StoreName) -> None:
    """Five artifacts of two types with metadata and labels."""
    rows = [
        ("raw", "system.Dataset", "gs://b/raw", {"rows": 1000, "split": "all"}, {"team": "a"}),
        ("train", "system.Dataset", "gs://b/train", {"rows": 800, "split": "train"}, {}),
        ("test", "system.Dataset", "gs://b/test", {"rows": 200, "split": "test"}, {}),
        ("model-1", "system.Model", "gs://b/m1", {"accuracy": 0.81, "final": False}, {}),
        ("model-2", "system.Model", "gs://b/m2", {"accuracy": 0.93, "final": True}, {"team": "b"}),
    ]
    for name, title, uri, metadata, labels in rows:
        store.create(
            parent,
            Artifact(
                display_name=name, schema_title=title, uri=uri, metadata=metadata, labels=labels
            ),
            name,
        )


def _names(store: MetadataStore, parent: StoreName, **kwargs: str) -> list[str]:
    return [a.display_name for a in store.list(parent, Artifact, **kwargs).items]  # type: ignore[arg-type]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ('schema_title = "system.Model"', ["model-1", "model-2"]),
        ("metadata.rows.number_value > 500", ["raw", "train"]),
        ('metadata.split.string_value = "test"', ["test"]),
        ("metadata.accuracy.number_value >= 0.9", ["model-2"]),
        ("metadata.final.bool_value = true", ["model-2"]),
        ('labels.team = "a"', ["raw"]),
        ("labels.team:*", ["raw", "model-2"]),
        ('display_name:"model*"', ["model-1", "model-2"]),
        ('uri = "gs://b/train" OR uri = "gs://b/test"', ["train", "test"]),
        ('NOT schema_title = "system.Dataset"', ["model-1", "model-2"]),
        ('name = "raw"', ["raw"]),
        ('create_time > "2000-01-01T00:00:00Z"', ["raw", "train", "test", "model-1", "model-2"]),
        ('display_name = "nothing"', []),
    ],
)
def test_filters_select_the_matching_resources(
    store: MetadataStore, parent: StoreName, filter: str, expected: list[str]
) -> None:
    assert _names(store, parent, filter=filter) == expected


@pytest.mark.usefixtures("catalog")
def test_the_default_order_is_creation(store: MetadataStore, parent: StoreName) -> None:
    assert _names(store, parent) == ["raw", "train", "test", "model-1", "model-2"]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("display_name", ["model-1", "model-2", "raw", "test", "train"]),
        ("display_name desc", ["train", "test", "raw", "model-2", "model-1"]),
        ("create_time desc", ["model-2", "model-1", "test", "train", "raw"]),
        ("schema_title desc, display_name", ["model-1", "model-2", "raw", "test", "train"]),
        ("uri", ["model-1", "model-2", "raw", "test", "train"]),
    ],
)
def test_order_by_sorts(
    store: MetadataStore, parent: StoreName, order_by: str, expected: list[str]
) -> None:
    assert _names(store, parent, order_by=order_by) == expected


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("order_by", [None, "display_name", "uri desc", "schema_title"])
def test_pages_round_trip_through_their_tokens(
    store: MetadataStore, parent: StoreName, order_by: str | None
) -> None:
    whole = [a.name for a in store.list(parent, Artifact, order_by=order_by).items]
    paged: list[str] = []
    token = None
    while True:
        page = store.list(parent, Artifact, order_by=order_by, page_size=2, page_token=token)
        assert len(page.items) <= 2
        paged += [a.name for a in page.items]
        token = page.next_page_token
        if not token:
            break
    assert paged == whole


@pytest.mark.usefixtures("catalog")
def test_a_filtered_listing_pages_too(store: MetadataStore, parent: StoreName) -> None:
    first = store.list(parent, Artifact, filter='schema_title="system.Dataset"', page_size=2)
    second = store.list(
        parent, Artifact, filter='schema_title="system.Dataset"', page_token=first.next_page_token
    )
    assert [a.display_name for a in first.items + second.items] == ["raw", "train", "test"]
    assert second.next_page_token == ""


@pytest.mark.usefixtures("catalog")
def test_an_exact_last_page_has_no_token(store: MetadataStore, parent: StoreName) -> None:
    assert store.list(parent, Artifact, page_size=5).next_page_token == ""
    assert store.list(parent, Artifact, page_size=4).next_page_token != ""


def test_rows_deleted_between_pages_are_not_served(store: MetadataStore, parent: StoreName) -> None:
    made = [store.create(parent, Context(display_name=f"c{i}")) for i in range(4)]
    first = store.list(parent, Context, page_size=2)
    store.delete(made[2].name, Context)
    rest = store.list(parent, Context, page_size=2, page_token=first.next_page_token)
    assert [c.display_name for c in first.items + rest.items] == ["c0", "c1", "c3"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"filter": "display_name ="}, "filter"),
        ({"filter": 'unknown_field = "x"'}, "filter"),
        ({"order_by": "metadata.x"}, "order_by"),
        ({"order_by": "display_name sideways"}, "order_by"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
def test_bad_list_arguments_name_the_field(
    store: MetadataStore, parent: StoreName, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.list(parent, Artifact, **kwargs)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("order_by", "values"),
    [
        (None, ["2026-01-01", 3]),  # create time and row id are integers
        (None, [1, 2.5]),
        ("display_name", [7, 1]),  # a name is text
        ("display_name", [["nested"], 1]),
    ],
)
def test_a_token_with_sort_values_of_the_wrong_type_names_page_token(
    store: MetadataStore, parent: StoreName, order_by: str | None, values: list[object]
) -> None:
    token = store.list(parent, Artifact, order_by=order_by, page_size=2).next_page_token
    with pytest.raises(InvalidArgumentError) as error:
        store.list(parent, Artifact, order_by=order_by, page_token=forged(token, values))
    assert error.value.field == "page_token"
    assert len(store.list(parent, Artifact, order_by=order_by).items) == 5  # still readable


def test_a_schema_list_token_with_a_value_of_the_wrong_type_names_page_token(
    store: MetadataStore, parent: StoreName
) -> None:
    for title in ("acme.A", "acme.B"):
        store.create_metadata_schema(parent, MetadataSchema(schema_title=title, schema="{}"))
    token = store.list_metadata_schemas(parent, page_size=1).next_page_token
    with pytest.raises(InvalidArgumentError) as error:
        store.list_metadata_schemas(parent, page_token=forged(token, ["x"]))
    assert error.value.field == "page_token"


def test_executions_filter_by_state(store: MetadataStore, parent: StoreName) -> None:
    for name, state in [("a", ExecutionState.RUNNING), ("b", ExecutionState.COMPLETE)]:
        store.create(parent, Execution(display_name=name, state=state))
    found = store.list(parent, Execution, filter='state = "COMPLETE"').items
    assert [e.display_name for e in found] == ["b"]


def test_a_listing_sees_only_its_own_store(store: MetadataStore, parent: StoreName) -> None:
    store.create(parent, Artifact(display_name="mine"))
    store.create(StoreName(parent.project, parent.location, "other"), Artifact(display_name="x"))
    assert _names(store, parent) == ["mine"]


def test_listing_an_unused_store_is_empty(store: MetadataStore) -> None:
    page = store.list(StoreName("never-used", "us-central1"), Artifact)
    assert (page.items, page.next_page_token) == ([], "")
