"""mlineage's additions to MetadataService, as AIP custom methods on the same resources.

POST {store}/artifacts:batchCreate (executions, contexts alike)   create_many (AIP-233)
POST {store}/executions:record        an execution with its events and new outputs
POST {execution}:finish               end an execution: outputs, events, state at once
GET  {artifact}:diff?other={artifact} what changed between two models
GET  {context}:diff?other={context}   ... between two runs
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from mlineage.errors import InvalidArgumentError
from mlineage.sdk.diff import MISSING, Diff, ValueChange, diff
from mlineage.server.app import store_of
from mlineage.server.rest import STORE_PATH, respond
from mlineage.store import MetadataStore
from mlineage.types import Artifact, Context, Execution, ResourceKind, ResourceName, StoreName
from mlineage.wire.diff import ArtifactChangeJson, DiffJson, StepChangeJson, ValueChangeJson
from mlineage.wire.messages import (
    BatchCreateArtifactsRequest,
    BatchCreateArtifactsResponse,
    BatchCreateContextsRequest,
    BatchCreateContextsResponse,
    BatchCreateExecutionsRequest,
    BatchCreateExecutionsResponse,
    FinishExecutionRequest,
    OutputArtifact,
    RecordExecutionRequest,
    RecordExecutionResponse,
)
from mlineage.wire.resources import ArtifactJson, ContextJson, ExecutionJson

__all__ = ["router"]

router = APIRouter(tags=["MetadataService additions (mlineage)"])
Store = Annotated[MetadataStore, Depends(store_of)]


def _named(parent: StoreName, collection: str, resource: Any, resource_id: str) -> Any:
    resource.name = f"{parent}/{collection}/{resource_id}" if resource_id else ""
    return resource


@router.post(
    f"{STORE_PATH}/artifacts:batchCreate",
    response_model=BatchCreateArtifactsResponse,
    name="BatchCreateArtifacts",
)
def batch_create_artifacts(
    request: Request,
    project: str,
    location: str,
    store: str,
    body: BatchCreateArtifactsRequest,
    db: Store,
) -> Response:
    """Create several artifacts in one transaction: all or nothing."""
    parent = StoreName(project, location, store)
    made = db.create_many(
        parent,
        [_named(parent, "artifacts", r.artifact.to_domain(), r.artifact_id) for r in body.requests],
    )
    return respond(
        request, BatchCreateArtifactsResponse(artifacts=[ArtifactJson.from_domain(a) for a in made])
    )


@router.post(
    f"{STORE_PATH}/executions:batchCreate",
    response_model=BatchCreateExecutionsResponse,
    name="BatchCreateExecutions",
)
def batch_create_executions(
    request: Request,
    project: str,
    location: str,
    store: str,
    body: BatchCreateExecutionsRequest,
    db: Store,
) -> Response:
    """Create several executions in one transaction: all or nothing."""
    parent = StoreName(project, location, store)
    made: list[Execution] = db.create_many(
        parent,
        [
            _named(parent, "executions", r.execution.to_domain(), r.execution_id)
            for r in body.requests
        ],
    )
    return respond(
        request,
        BatchCreateExecutionsResponse(executions=[ExecutionJson.from_domain(e) for e in made]),
    )


@router.post(
    f"{STORE_PATH}/contexts:batchCreate",
    response_model=BatchCreateContextsResponse,
    name="BatchCreateContexts",
)
def batch_create_contexts(
    request: Request,
    project: str,
    location: str,
    store: str,
    body: BatchCreateContextsRequest,
    db: Store,
) -> Response:
    """Create several contexts in one transaction: all or nothing."""
    parent = StoreName(project, location, store)
    made: list[Context] = db.create_many(
        parent,
        [_named(parent, "contexts", r.context.to_domain(), r.context_id) for r in body.requests],
    )
    return respond(
        request, BatchCreateContextsResponse(contexts=[ContextJson.from_domain(c) for c in made])
    )


def _outputs(outputs: list[OutputArtifact]) -> list[Artifact | str]:
    result: list[Artifact | str] = []
    for i, output in enumerate(outputs):
        if (output.artifact is None) == (output.new_artifact is None):
            raise InvalidArgumentError(
                f"outputs[{i}]", "must set exactly one of artifact and newArtifact"
            )
        result.append(output.artifact or output.new_artifact.to_domain())  # type: ignore[union-attr]
    return result


@router.post(
    f"{STORE_PATH}/executions:record",
    response_model=RecordExecutionResponse,
    name="RecordExecution",
)
def record_execution(
    request: Request,
    project: str,
    location: str,
    store: str,
    body: RecordExecutionRequest,
    db: Store,
) -> Response:
    """Create an execution with its INPUT events, its OUTPUT events (to existing or new
    artifacts) and its context memberships, in one transaction."""
    execution, made = db.record_execution(
        StoreName(project, location, store),
        body.execution.to_domain(),
        body.execution_id or None,
        inputs=body.inputs,
        outputs=_outputs(body.outputs),
        contexts=body.contexts,
    )
    return respond(
        request,
        RecordExecutionResponse(
            execution=ExecutionJson.from_domain(execution),
            artifacts=[ArtifactJson.from_domain(a) for a in made],
        ),
    )


@router.post(
    f"{STORE_PATH}/executions/{{execution:rid}}:finish",
    response_model=RecordExecutionResponse,
    name="FinishExecution",
)
def finish_execution(
    request: Request,
    project: str,
    location: str,
    store: str,
    execution: str,
    body: FinishExecutionRequest,
    db: Store,
) -> Response:
    """End an execution in one transaction: new output artifacts, OUTPUT events, context
    memberships, and its state and metadata (etag-checked when set)."""
    name = f"{StoreName(project, location, store)}/executions/{execution}"
    given = body.execution.to_domain()
    if given.name and given.name != name:
        raise InvalidArgumentError("execution.name", f"must be the execution of the path, {name}")
    given.name = name
    finished, made = db.finish_execution(
        given, outputs=_outputs(body.outputs), contexts=body.contexts
    )
    return respond(
        request,
        RecordExecutionResponse(
            execution=ExecutionJson.from_domain(finished),
            artifacts=[ArtifactJson.from_domain(a) for a in made],
        ),
    )


# -- diff ----------------------------------------------------------------------------------
def _value(change: ValueChange) -> ValueChangeJson:
    return ValueChangeJson(
        key=change.key,
        before=None if change.before is MISSING else change.before,
        after=None if change.after is MISSING else change.after,
        delta=change.delta,
    )


def _diff_json(result: Diff) -> DiffJson:
    return DiffJson(
        before=result.before,
        after=result.after,
        params=[_value(c) for c in result.params],
        metrics=[_value(c) for c in result.metrics],
        data=[
            ArtifactChangeJson(
                key=c.key,
                before=ArtifactJson.from_domain(c.before) if c.before else None,
                after=ArtifactJson.from_domain(c.after) if c.after else None,
                changes=[_value(v) for v in c.changes],
            )
            for c in result.data
        ],
        steps=[
            StepChangeJson(
                key=s.key, label=s.label, status=s.status, params=[_value(v) for v in s.params]
            )
            for s in result.steps
        ],
        code=[_value(c) for c in result.code],
        environment=[_value(c) for c in result.environment],
        shared_upstream=result.shared_upstream,
        truncated=result.truncated,
        text=str(result),
    )


def _diff_route(collection: ResourceKind, singular: str) -> None:
    @router.get(
        f"{STORE_PATH}/{collection}/{{resource_id:rid}}:diff",
        response_model=DiffJson,
        name=f"Diff{singular}s",
        summary=f"What changed from this {singular.lower()} to `other` (mlineage.diff)",
    )
    def diff_route(
        request: Request,
        project: str,
        location: str,
        store: str,
        resource_id: str,
        other: Annotated[str, Query(description=f"The other {singular.lower()}'s name")],
        db: Store,
    ) -> Response:
        parent = StoreName(project, location, store)
        try:
            other_name = ResourceName.parse(other.strip(), collection)
        except InvalidArgumentError:
            raise InvalidArgumentError(
                "other", f"must be the resource name of a {singular}"
            ) from None
        if other_name.parent != parent:
            raise InvalidArgumentError("other", f"must be a {singular.lower()} in {parent}")
        result = diff(f"{parent}/{collection}/{resource_id}", str(other_name), store=db)
        return respond(request, _diff_json(result))


_diff_route("artifacts", "Artifact")
_diff_route("contexts", "Run")
