"""MetadataService: metadata stores, artifacts, executions, contexts, events, lineage and
metadata schemas, following Vertex AI's REST mapping (`/v1/{name}` and `{name}:verb`).

Each route parses, makes one contract call and serialises. The three node kinds share one
set of routes, made per kind by `_node_routes`. (No `from __future__ import annotations`
here: FastAPI reads the body types of those generated routes from their annotations.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from mlineage.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from mlineage.server.app import store_of
from mlineage.server.rest import STORE_PATH, operation, page_size_of, respond, settings_of
from mlineage.store import MetadataStore
from mlineage.store.base import DEFAULT_NODE_LIMIT, MAX_NODE_LIMIT, Direction
from mlineage.types import Artifact, Context, Execution, StoreName
from mlineage.wire.messages import (
    AddContextArtifactsAndExecutionsRequest,
    AddContextChildrenRequest,
    AddExecutionEventsRequest,
    Empty,
    ListArtifactsResponse,
    ListContextsResponse,
    ListExecutionsResponse,
    ListMetadataSchemasResponse,
    ListMetadataStoresResponse,
    Operation,
    RemoveContextChildrenRequest,
)
from mlineage.wire.resources import (
    ArtifactJson,
    ContextJson,
    ExecutionJson,
    LineageSubgraphJson,
    MetadataSchemaJson,
    MetadataStoreJson,
)

__all__ = ["router"]

router = APIRouter(tags=["MetadataService"])
Store = Annotated[MetadataStore, Depends(store_of)]
STORES_PATH = "/v1/projects/{project:rid}/locations/{location:rid}/metadataStores"
MUTABLE_FIELDS = {
    "display_name",
    "description",
    "metadata",
    "labels",
    "state",
    "uri",
    "schema_version",
}
"""The fields an update may change (`updateMask` paths, in either case style)."""


def _snake(path: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in path)


# -- metadata stores ---------------------------------------------------------------------
@router.post(
    STORES_PATH,
    response_model=Operation,
    name="CreateMetadataStore",
    summary="Create a metadata store (a done long-running operation)",
)
def create_metadata_store(
    request: Request,
    project: str,
    location: str,
    db: Store,
    body: MetadataStoreJson | None = None,
    metadata_store_id: Annotated[str, Query(alias="metadataStoreId")] = "default",
) -> Response:
    name = StoreName(project, location, metadata_store_id)
    try:
        db.get_metadata_store(name)
    except NotFoundError:
        pass
    else:
        raise AlreadyExistsError(f"MetadataStore {name} already exists")
    info = db.get_or_create_metadata_store(name, body.description if body else "")
    created = MetadataStoreJson.from_domain(info).model_dump(mode="json", by_alias=True)
    result = operation(str(name), "google.cloud.aiplatform.v1.MetadataStore", created)
    return respond(request, result)


@router.get(STORE_PATH, response_model=MetadataStoreJson, name="GetMetadataStore")
def get_metadata_store(
    request: Request, project: str, location: str, store: str, db: Store
) -> Response:
    info = db.get_metadata_store(StoreName(project, location, store))
    return respond(request, MetadataStoreJson.from_domain(info))


@router.get(
    STORES_PATH,
    response_model=ListMetadataStoresResponse,
    name="ListMetadataStores",
    summary="List the metadata stores of a project and location, oldest first",
)
def list_metadata_stores(
    request: Request,
    project: str,
    location: str,
    db: Store,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    page = db.list_metadata_stores(
        project,
        location,
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    found = [MetadataStoreJson.from_domain(info) for info in page.items]
    return respond(
        request,
        ListMetadataStoresResponse(metadata_stores=found, next_page_token=page.next_page_token),
    )


# -- artifacts, executions, contexts -----------------------------------------------------
def _node_routes(
    kind: type[Any],
    json_cls: type[Any],
    list_cls: type[Any],
    collection: str,
    singular: str,
) -> None:
    """Create, get, list, patch and delete routes of one node kind."""
    base = f"{STORE_PATH}/{collection}"
    one = f"{base}/{{resource_id:rid}}"
    id_param = f"{singular[0].lower()}{singular[1:]}Id"

    def name_of(project: str, location: str, store: str, resource_id: str) -> str:
        return f"{StoreName(project, location, store)}/{collection}/{resource_id}"

    @router.post(
        base,
        response_model=json_cls,
        name=f"Create{singular}",
        summary=f"Create a {singular.lower()}; ?{id_param}= chooses its id",
    )
    def create(
        request: Request,
        project: str,
        location: str,
        store: str,
        body: json_cls,  # type: ignore[valid-type]
        db: Store,
        resource_id: Annotated[str | None, Query(alias=id_param)] = None,
    ) -> Response:
        parent = StoreName(project, location, store)
        created = db.create(parent, body.to_domain(), resource_id or None)  # type: ignore[attr-defined]
        return respond(request, json_cls.from_domain(created))

    @router.get(one, response_model=json_cls, name=f"Get{singular}")
    def get(
        request: Request, project: str, location: str, store: str, resource_id: str, db: Store
    ) -> Response:
        found = db.get(name_of(project, location, store, resource_id), kind)
        return respond(request, json_cls.from_domain(found))

    @router.get(
        base,
        response_model=list_cls,
        name=f"List{singular}s",
        summary=f"List {collection}: AIP-160 filter, orderBy, pagination",
    )
    def list_(
        request: Request,
        project: str,
        location: str,
        store: str,
        db: Store,
        filter: str | None = None,
        order_by: Annotated[str | None, Query(alias="orderBy")] = None,
        page_size: Annotated[int | None, Query(alias="pageSize")] = None,
        page_token: Annotated[str | None, Query(alias="pageToken")] = None,
    ) -> Response:
        page = db.list(
            StoreName(project, location, store),
            kind,
            filter=filter or None,
            order_by=order_by or None,
            page_size=page_size_of(request, page_size),
            page_token=page_token or None,
        )
        items = [json_cls.from_domain(item) for item in page.items]
        return respond(
            request, list_cls(**{collection: items, "next_page_token": page.next_page_token})
        )

    @router.patch(
        one,
        response_model=json_cls,
        name=f"Update{singular}",
        summary="Replace the mutable fields (or those in updateMask); a stale etag is ABORTED",
    )
    def update(
        request: Request,
        project: str,
        location: str,
        store: str,
        resource_id: str,
        body: json_cls,  # type: ignore[valid-type]
        db: Store,
        update_mask: Annotated[str | None, Query(alias="updateMask")] = None,
    ) -> Response:
        name = name_of(project, location, store, resource_id)
        if body.name and body.name != name:  # type: ignore[attr-defined]
            raise InvalidArgumentError(
                f"{singular.lower()}.name",
                f"must be the resource of the path, {name}",
            )
        given = body.to_domain()  # type: ignore[attr-defined]
        given.name = name
        if update_mask:
            resource = db.get(name, kind)
            for path in (p.strip() for p in update_mask.split(",")):
                field = _snake(path)
                if field not in MUTABLE_FIELDS or not hasattr(resource, field):
                    raise InvalidArgumentError(
                        "update_mask", f"{path!r} is not a field a {singular} update can set"
                    )
                setattr(resource, field, getattr(given, field))
            resource.etag = given.etag
            given = resource
        return respond(request, json_cls.from_domain(db.update(given)))

    @router.delete(
        one,
        response_model=Operation,
        name=f"Delete{singular}",
        summary="Delete (a done long-running operation); a stale ?etag= is ABORTED",
    )
    def delete(
        request: Request,
        project: str,
        location: str,
        store: str,
        resource_id: str,
        db: Store,
        etag: str | None = None,
    ) -> Response:
        name = name_of(project, location, store, resource_id)
        db.delete(name, kind, etag or None)
        return respond(request, operation(name, "google.protobuf.Empty", {}))


_node_routes(Artifact, ArtifactJson, ListArtifactsResponse, "artifacts", "Artifact")
_node_routes(Execution, ExecutionJson, ListExecutionsResponse, "executions", "Execution")
_node_routes(Context, ContextJson, ListContextsResponse, "contexts", "Context")

ARTIFACT = f"{STORE_PATH}/artifacts/{{artifact:rid}}"
EXECUTION = f"{STORE_PATH}/executions/{{execution:rid}}"
CONTEXT = f"{STORE_PATH}/contexts/{{context:rid}}"


def _name(project: str, location: str, store: str, collection: str, resource_id: str) -> str:
    return f"{StoreName(project, location, store)}/{collection}/{resource_id}"


# -- context graph -----------------------------------------------------------------------
@router.post(
    f"{CONTEXT}:addContextArtifactsAndExecutions",
    response_model=Empty,
    name="AddContextArtifactsAndExecutions",
)
def add_context_artifacts_and_executions(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: AddContextArtifactsAndExecutionsRequest,
    db: Store,
) -> Response:
    name = _name(project, location, store, "contexts", context)
    db.add_context_artifacts_and_executions(name, body.artifacts, body.executions)
    return respond(request, Empty())


@router.post(f"{CONTEXT}:addContextChildren", response_model=Empty, name="AddContextChildren")
def add_context_children(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: AddContextChildrenRequest,
    db: Store,
) -> Response:
    name = _name(project, location, store, "contexts", context)
    db.add_context_children(name, body.child_contexts)
    return respond(request, Empty())


@router.post(f"{CONTEXT}:removeContextChildren", response_model=Empty, name="RemoveContextChildren")
def remove_context_children(
    request: Request,
    project: str,
    location: str,
    store: str,
    context: str,
    body: RemoveContextChildrenRequest,
    db: Store,
) -> Response:
    name = _name(project, location, store, "contexts", context)
    db.remove_context_children(name, body.child_contexts)
    return respond(request, Empty())


# -- events and lineage ------------------------------------------------------------------
@router.post(f"{EXECUTION}:addExecutionEvents", response_model=Empty, name="AddExecutionEvents")
def add_execution_events(
    request: Request,
    project: str,
    location: str,
    store: str,
    execution: str,
    body: AddExecutionEventsRequest,
    db: Store,
) -> Response:
    name = _name(project, location, store, "executions", execution)
    events = [event.to_domain() for event in body.events]
    db.add_execution_events(name, events, contexts=body.contexts)
    return respond(request, Empty())


@router.get(
    f"{EXECUTION}:queryExecutionInputsAndOutputs",
    response_model=LineageSubgraphJson,
    name="QueryExecutionInputsAndOutputs",
)
def query_execution_inputs_and_outputs(
    request: Request, project: str, location: str, store: str, execution: str, db: Store
) -> Response:
    name = _name(project, location, store, "executions", execution)
    graph = db.query_execution_inputs_and_outputs(name)
    return respond(request, LineageSubgraphJson.from_domain(graph))


@router.get(
    f"{ARTIFACT}:queryArtifactLineageSubgraph",
    response_model=LineageSubgraphJson,
    name="QueryArtifactLineageSubgraph",
    summary="The lineage around an artifact; mlineage adds direction and nodeLimit",
)
def query_artifact_lineage_subgraph(
    request: Request,
    project: str,
    location: str,
    store: str,
    artifact: str,
    db: Store,
    max_hops: Annotated[int | None, Query(alias="maxHops")] = None,
    filter: str | None = None,
    direction: Direction = "both",
    node_limit: Annotated[int | None, Query(alias="nodeLimit")] = None,
) -> Response:
    cap = settings_of(request).max_lineage_nodes
    if node_limit is None:
        node_limit = min(cap, DEFAULT_NODE_LIMIT)
    elif cap < node_limit <= MAX_NODE_LIMIT:
        node_limit = cap  # the graph is cut there and `truncated` says so
    graph = db.query_artifact_lineage_subgraph(
        _name(project, location, store, "artifacts", artifact),
        max_hops=max_hops,
        filter=filter or None,
        direction=direction,
        node_limit=node_limit,
    )
    return respond(request, LineageSubgraphJson.from_domain(graph))


@router.get(
    f"{CONTEXT}:queryContextLineageSubgraph",
    response_model=LineageSubgraphJson,
    name="QueryContextLineageSubgraph",
)
def query_context_lineage_subgraph(
    request: Request, project: str, location: str, store: str, context: str, db: Store
) -> Response:
    graph = db.query_context_lineage_subgraph(_name(project, location, store, "contexts", context))
    return respond(request, LineageSubgraphJson.from_domain(graph))


# -- metadata schemas --------------------------------------------------------------------
@router.post(
    f"{STORE_PATH}/metadataSchemas", response_model=MetadataSchemaJson, name="CreateMetadataSchema"
)
def create_metadata_schema(
    request: Request,
    project: str,
    location: str,
    store: str,
    body: MetadataSchemaJson,
    db: Store,
    metadata_schema_id: Annotated[str | None, Query(alias="metadataSchemaId")] = None,
) -> Response:
    created = db.create_metadata_schema(
        StoreName(project, location, store), body.to_domain(), metadata_schema_id or None
    )
    return respond(request, MetadataSchemaJson.from_domain(created))


@router.get(
    f"{STORE_PATH}/metadataSchemas/{{schema_id:rid}}",
    response_model=MetadataSchemaJson,
    name="GetMetadataSchema",
)
def get_metadata_schema(
    request: Request, project: str, location: str, store: str, schema_id: str, db: Store
) -> Response:
    found = db.get_metadata_schema(_name(project, location, store, "metadataSchemas", schema_id))
    return respond(request, MetadataSchemaJson.from_domain(found))


@router.get(
    f"{STORE_PATH}/metadataSchemas",
    response_model=ListMetadataSchemasResponse,
    name="ListMetadataSchemas",
)
def list_metadata_schemas(
    request: Request,
    project: str,
    location: str,
    store: str,
    db: Store,
    page_size: Annotated[int | None, Query(alias="pageSize")] = None,
    page_token: Annotated[str | None, Query(alias="pageToken")] = None,
) -> Response:
    page = db.list_metadata_schemas(
        StoreName(project, location, store),
        page_size=page_size_of(request, page_size),
        page_token=page_token or None,
    )
    schemas = [MetadataSchemaJson.from_domain(s) for s in page.items]
    return respond(
        request,
        ListMetadataSchemasResponse(metadata_schemas=schemas, next_page_token=page.next_page_token),
    )
