"""Vertex AI's own REST client (`aiplatform_v1.MetadataServiceClient`, from
`google-cloud-aiplatform`) creates and lists metadata stores on a real `mlineage server`.

The Vertex SDK's resource classes have no way to list stores (the private `_MetadataStore`
inherits a `list` that fails: it names no list method), so the generated client is what a
Vertex user lists them with.
"""

from __future__ import annotations

import pytest
from google.api_core.exceptions import BadRequest
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform_v1

from tests.vertex.conftest import Server

PARENT = "projects/vertex-compat/locations/us-central1"


def _client(server: Server) -> aiplatform_v1.MetadataServiceClient:
    return aiplatform_v1.MetadataServiceClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": server.url},
    )


def test_the_vertex_client_lists_stores_page_by_page(server: Server) -> None:
    client = _client(server)
    for i in range(5):
        client.create_metadata_store(
            parent=PARENT,
            metadata_store=aiplatform_v1.MetadataStore(description=f"store {i}"),
            metadata_store_id=f"s{i}",
        ).result(timeout=60)
    pager = client.list_metadata_stores(
        request=aiplatform_v1.ListMetadataStoresRequest(parent=PARENT, page_size=2)
    )
    pages = list(pager.pages)
    assert [len(page.metadata_stores) for page in pages] == [2, 2, 1]
    stores = [store for page in pages for store in page.metadata_stores]
    assert [s.name for s in stores] == [f"{PARENT}/metadataStores/s{i}" for i in range(5)]
    assert [s.description for s in stores] == [f"store {i}" for i in range(5)]
    assert stores[0].create_time.timestamp() <= stores[-1].create_time.timestamp()
    other = client.list_metadata_stores(parent="projects/nobody/locations/us-central1")
    assert list(other) == []
    bad = aiplatform_v1.ListMetadataStoresRequest(parent=PARENT, page_token="not-a-token")
    with pytest.raises(BadRequest, match="page_token"):
        client.list_metadata_stores(request=bad)
