"""The store contract for metadata stores: listing those of a project and location, page by
page, on every backend."""

from __future__ import annotations

import pytest

from mlineage.errors import InvalidArgumentError
from mlineage.store import pagination
from mlineage.store.base import MetadataStore
from mlineage.types import MetadataStoreInfo, StoreName

PROJECT, LOCATION = "test-project", "us-central1"


@pytest.fixture
def store(contract_store: MetadataStore) -> MetadataStore:
    """Every test here runs on every backend."""
    return contract_store


def _make(store: MetadataStore, *ids: str, project: str = PROJECT) -> list[MetadataStoreInfo]:
    return [
        store.get_or_create_metadata_store(StoreName(project, LOCATION, i), f"store {i}")
        for i in ids
    ]


def _names(infos: list[MetadataStoreInfo]) -> list[str]:
    return [info.name.rsplit("/", 1)[-1] for info in infos]


def test_the_stores_of_a_location_are_listed_oldest_first(store: MetadataStore) -> None:
    made = _make(store, "default", "zeta", "alpha")
    _make(store, "elsewhere", project="other-project")
    store.get_or_create_metadata_store(StoreName(PROJECT, "europe-west4", "far"))
    page = store.list_metadata_stores(PROJECT, LOCATION)
    assert page.items == made  # names, descriptions and times as created
    assert _names(page.items) == ["default", "zeta", "alpha"]
    assert page.items[0].name == f"projects/{PROJECT}/locations/{LOCATION}/metadataStores/default"
    assert page.items[1].description == "store zeta"
    assert page.next_page_token == ""


def test_an_unknown_project_or_location_lists_nothing(store: MetadataStore) -> None:
    _make(store, "default")
    assert store.list_metadata_stores("no-such-project", LOCATION).items == []
    assert store.list_metadata_stores(PROJECT, "no-such-location").items == []
    assert store.list_metadata_stores(PROJECT, "no-such-location", page_size=1).items == []


def test_pages_cover_every_store_once_in_order(store: MetadataStore) -> None:
    ids = [f"s{i}" for i in range(7)]
    _make(store, *ids)
    seen: list[str] = []
    sizes: list[int] = []
    page = store.list_metadata_stores(PROJECT, LOCATION, page_size=3)
    while True:
        seen += _names(page.items)
        sizes.append(len(page.items))
        if not page.next_page_token:
            break
        if len(seen) == 3:  # a store made meanwhile comes after the ones already served
            _make(store, "late")
        page = store.list_metadata_stores(
            PROJECT, LOCATION, page_size=3, page_token=page.next_page_token
        )
    assert seen == [*ids, "late"]
    assert sizes == [3, 3, 2]


def test_a_bad_page_token_is_invalid_naming_page_token(store: MetadataStore) -> None:
    _make(store, "a", "b")
    fingerprint = pagination.query_fingerprint("metadataStores", PROJECT, LOCATION)
    tampered = pagination.encode_token(["x", "y"], fingerprint)  # right query, wrong values
    for token in ("not-a-token", tampered):
        with pytest.raises(InvalidArgumentError) as error:
            store.list_metadata_stores(PROJECT, LOCATION, page_token=token)
        assert error.value.field == "page_token"
    # A token of another location's list is not this list's either.
    _make(store, "c", project="other-project")
    _make(store, "d", project="other-project")
    other = store.list_metadata_stores("other-project", LOCATION, page_size=1).next_page_token
    assert other
    with pytest.raises(InvalidArgumentError) as error:
        store.list_metadata_stores(PROJECT, LOCATION, page_token=other)
    assert error.value.field == "page_token"
    with pytest.raises(InvalidArgumentError) as error:  # refused where nothing is stored too
        store.list_metadata_stores("no-such-project", LOCATION, page_token="not-a-token")
    assert error.value.field == "page_token"


def test_a_negative_page_size_is_refused_naming_page_size(store: MetadataStore) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.list_metadata_stores(PROJECT, LOCATION, page_size=-1)
    assert error.value.field == "page_size"


@pytest.mark.parametrize(
    ("project", "location", "field"),
    [("", LOCATION, "project"), ("a/b", LOCATION, "project"), (PROJECT, "-x", "location")],
)
def test_a_malformed_project_or_location_is_refused_naming_it(
    store: MetadataStore, project: str, location: str, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        store.list_metadata_stores(project, location)
    assert error.value.field == field
