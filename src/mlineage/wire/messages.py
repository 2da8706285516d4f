"""Request and response bodies of the REST API's methods (standard and custom)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlineage import types
from mlineage.wire.fields import EnumOf, Int64, Message, Timestamp
from mlineage.wire.resources import (
    ArtifactJson,
    ContextJson,
    EventJson,
    ExecutionJson,
    MetadataSchemaJson,
    MetadataStoreJson,
)
from mlineage.wire.runs import (
    ExperimentRowJson,
    ParamValueJson,
    RunJson,
    TimeSeriesPointJson,
)

__all__ = [
    "AddContextArtifactsAndExecutionsRequest",
    "AddContextChildrenRequest",
    "AddExecutionEventsRequest",
    "BatchCreateArtifactsRequest",
    "BatchCreateArtifactsResponse",
    "BatchCreateContextsRequest",
    "BatchCreateContextsResponse",
    "BatchCreateExecutionsRequest",
    "BatchCreateExecutionsResponse",
    "CountRunsResponse",
    "CreateRunRequest",
    "Empty",
    "ExperimentRowsResponse",
    "FinishExecutionRequest",
    "ListArtifactsResponse",
    "ListContextsResponse",
    "ListExecutionsResponse",
    "ListMetadataSchemasResponse",
    "ListMetadataStoresResponse",
    "ListRunsResponse",
    "LogMetricsRequest",
    "LogParamsRequest",
    "Operation",
    "OutputArtifact",
    "ReadMetricsResponse",
    "ReadParamsResponse",
    "ReadTimeSeriesResponse",
    "RecordExecutionRequest",
    "RecordExecutionResponse",
    "RemoveContextChildrenRequest",
    "UpdateRunRequest",
    "WriteTimeSeriesPointsRequest",
    "WriteTimeSeriesRequest",
    "WriteTimeSeriesResponse",
]


class Empty(Message):
    """`google.protobuf.Empty`."""


class Operation(Message):
    """A long-running operation; mlineage's are done when returned."""

    name: str
    done: bool = True
    response: dict[str, Any] = Field(
        default_factory=dict, description="The result, with its type in `@type`"
    )


# -- lists --------------------------------------------------------------------------------
class ListArtifactsResponse(Message):
    artifacts: list[ArtifactJson] = Field(default_factory=list)
    next_page_token: str = ""


class ListExecutionsResponse(Message):
    executions: list[ExecutionJson] = Field(default_factory=list)
    next_page_token: str = ""


class ListContextsResponse(Message):
    contexts: list[ContextJson] = Field(default_factory=list)
    next_page_token: str = ""


class ListMetadataSchemasResponse(Message):
    metadata_schemas: list[MetadataSchemaJson] = Field(default_factory=list)
    next_page_token: str = ""


class ListMetadataStoresResponse(Message):
    metadata_stores: list[MetadataStoreJson] = Field(default_factory=list)
    next_page_token: str = ""


# -- batch create (AIP-233) -------------------------------------------------------------------
class CreateArtifactRequest(Message):
    artifact: ArtifactJson
    artifact_id: str = ""


class CreateExecutionRequest(Message):
    execution: ExecutionJson
    execution_id: str = ""


class CreateContextRequest(Message):
    context: ContextJson
    context_id: str = ""


class BatchCreateArtifactsRequest(Message):
    requests: list[CreateArtifactRequest]


class BatchCreateExecutionsRequest(Message):
    requests: list[CreateExecutionRequest]


class BatchCreateContextsRequest(Message):
    requests: list[CreateContextRequest]


class BatchCreateArtifactsResponse(Message):
    artifacts: list[ArtifactJson] = Field(default_factory=list)


class BatchCreateExecutionsResponse(Message):
    executions: list[ExecutionJson] = Field(default_factory=list)


class BatchCreateContextsResponse(Message):
    contexts: list[ContextJson] = Field(default_factory=list)


# -- context graph and events -----------------------------------------------------------------
class AddContextArtifactsAndExecutionsRequest(Message):
    artifacts: list[str] = Field(default_factory=list)
    executions: list[str] = Field(default_factory=list)


class AddContextChildrenRequest(Message):
    child_contexts: list[str] = Field(default_factory=list)


class RemoveContextChildrenRequest(Message):
    child_contexts: list[str] = Field(default_factory=list)


class AddExecutionEventsRequest(Message):
    events: list[EventJson] = Field(default_factory=list)
    contexts: list[str] = Field(
        default_factory=list, description="Contexts the artifacts also join (mlineage)"
    )


class OutputArtifact(Message):
    """An output of an execution: an existing artifact by name, or a new one to create
    (whose `name`, when set, gives its id)."""

    artifact: str | None = None
    new_artifact: ArtifactJson | None = None


class RecordExecutionRequest(Message):
    execution: ExecutionJson
    execution_id: str = ""
    inputs: list[str] = Field(default_factory=list, description="Artifact names")
    outputs: list[OutputArtifact] = Field(default_factory=list)
    contexts: list[str] = Field(default_factory=list)


class FinishExecutionRequest(Message):
    execution: ExecutionJson = Field(description="The whole execution; its etag is checked")
    outputs: list[OutputArtifact] = Field(default_factory=list)
    contexts: list[str] = Field(default_factory=list)


class RecordExecutionResponse(Message):
    execution: ExecutionJson
    artifacts: list[ArtifactJson] = Field(
        default_factory=list, description="The output artifacts this call created"
    )


# -- runs -----------------------------------------------------------------------------------
ExecutionStateJson = EnumOf(types.ExecutionState)


class CreateRunRequest(Message):
    run_id: str
    context: ContextJson
    experiment: str | None = Field(default=None, description="The experiment context's name")
    state: ExecutionStateJson = types.ExecutionState.RUNNING  # type: ignore[valid-type]
    provenance: dict[str, Any] = Field(default_factory=dict)


class UpdateRunRequest(Message):
    state: ExecutionStateJson | None = None  # type: ignore[valid-type]
    provenance: dict[str, Any] | None = None


class ListRunsResponse(Message):
    runs: list[RunJson] = Field(default_factory=list)
    next_page_token: str = ""


class CountRunsResponse(Message):
    count: Int64 = Field(description="How many runs ListRuns would return")


class LogParamsRequest(Message):
    params: dict[str, ParamValueJson]


class LogMetricsRequest(Message):
    metrics: dict[str, float]


class WriteTimeSeriesRequest(Message):
    metrics: dict[str, float]
    step: Int64 | None = Field(default=None, description="Default: the run's last step + 1")
    wall_time: Timestamp | None = None
    request_id: str | None = Field(
        None,
        max_length=64,
        description="Makes a retried write without a step return the step first chosen",
    )


class WriteTimeSeriesResponse(Message):
    step: Int64


class WriteTimeSeriesPointsRequest(Message):
    points: list[TimeSeriesPointJson]


class ReadParamsResponse(Message):
    params: dict[str, ParamValueJson] = Field(default_factory=dict)


class ReadMetricsResponse(Message):
    metrics: dict[str, float] = Field(default_factory=dict)


class ReadTimeSeriesResponse(Message):
    points: list[TimeSeriesPointJson] = Field(default_factory=list)


class ExperimentRowsResponse(Message):
    rows: list[ExperimentRowJson] = Field(default_factory=list)
    next_page_token: str = ""
