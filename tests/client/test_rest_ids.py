"""Ids the REST client makes for the resources it names: time-ordered, as the embedded
store's are (`mlineage.ids`), against a live server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from mlineage.client import RestStore
from mlineage.types import (
    Artifact,
    Context,
    Execution,
    MetadataSchema,
    ResourceName,
    StoreName,
    validate_resource_id,
)
from tests.live_server import LiveServer, live_server

__all__ = ["live_server"]  # a fixture

PARENT = StoreName("p1", "us-central1")


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[RestStore]:
    opened = RestStore(live_server.url)
    yield opened
    opened.close()


def _id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _check(made: list[str]) -> None:
    for resource_id in made:
        parsed = uuid.UUID(resource_id)
        assert (parsed.version, str(parsed)) == (7, resource_id)
        assert validate_resource_id(resource_id) == resource_id
    assert made == sorted(made)  # in the order the client made them
    assert len(set(made)) == len(made)


def test_client_made_ids_are_time_ordered_version_7_uuids(client: RestStore) -> None:
    made = [_id(client.create(PARENT, Artifact(display_name=f"a{i}")).name) for i in range(5)]
    made += [_id(e.name) for e in client.create_many(PARENT, [Execution(), Execution()])]
    made.append(_id(client.create(PARENT, Context(display_name="c")).name))
    execution, outputs = client.record_execution(
        PARENT, Execution(), outputs=[Artifact(display_name="out")]
    )
    made += [_id(execution.name), _id(outputs[0].name)]
    schema = client.create_metadata_schema(
        PARENT, MetadataSchema(schema_title="my.Type", schema='{"type": "object"}')
    )
    made.append(_id(schema.name))
    _check(made)


def test_listing_by_id_gives_the_order_of_creation(client: RestStore) -> None:
    created = [client.create(PARENT, Artifact(display_name=f"a{i}")) for i in range(20)]
    created += client.create_many(PARENT, [Artifact(display_name=f"b{i}") for i in range(20)])
    by_id = client.list(PARENT, Artifact, order_by="name").items
    assert [a.display_name for a in by_id] == [a.display_name for a in created]
    _check([ResourceName.parse(a.name).resource_id for a in by_id])
