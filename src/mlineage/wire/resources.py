"""Artifacts, executions, contexts, events, lineage subgraphs, schemas and stores as JSON.

Each message converts from and to its domain object (`from_domain`, `to_domain`). A field
absent from a request takes the domain object's default, as a proto3 field left unset does.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mlineage import types
from mlineage.wire.fields import EnumOf, Message, Timestamp

__all__ = [
    "ArtifactJson",
    "ContextJson",
    "EventJson",
    "ExecutionJson",
    "LineageSubgraphJson",
    "MetadataSchemaJson",
    "MetadataStoreJson",
    "NodeJson",
    "node_json_class",
]

ArtifactStateJson = EnumOf(types.ArtifactState)
ExecutionStateJson = EnumOf(types.ExecutionState)
EventTypeJson = EnumOf(types.EventType)
SchemaTypeJson = EnumOf(types.SchemaType)


class _NodeJson(Message):
    name: str = Field(
        default="", description="Resource name (output only; ids come from ?artifactId=)"
    )
    display_name: str = ""
    schema_title: str | None = None
    schema_version: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    etag: str = ""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None

    def _common(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name,
            "metadata": self.metadata,
            "description": self.description,
            "labels": self.labels,
            "etag": self.etag,
            "create_time": self.create_time,
            "update_time": self.update_time,
        }
        if self.schema_title is not None:
            values["schema_title"] = self.schema_title
        if self.schema_version is not None:
            values["schema_version"] = self.schema_version
        return values

    @staticmethod
    def _common_of(node: types.Artifact | types.Execution | types.Context) -> dict[str, Any]:
        return {
            "name": node.name,
            "display_name": node.display_name,
            "schema_title": node.schema_title,
            "schema_version": node.schema_version,
            "metadata": node.metadata,
            "description": node.description,
            "labels": node.labels,
            "etag": node.etag,
            "create_time": node.create_time,
            "update_time": node.update_time,
        }


class ArtifactJson(_NodeJson):
    """An artifact (Vertex `Artifact`, plus mlineage's content `fingerprint`)."""

    uri: str = ""
    state: ArtifactStateJson | None = None  # type: ignore[valid-type]
    fingerprint: str = Field(default="", description="sha256 of a local URI's content (mlineage)")

    def to_domain(self) -> types.Artifact:
        artifact = types.Artifact(**self._common(), uri=self.uri, fingerprint=self.fingerprint)
        if self.state is not None:
            artifact.state = self.state
        return artifact

    @classmethod
    def from_domain(cls, artifact: types.Artifact) -> ArtifactJson:
        return cls(
            **cls._common_of(artifact),
            uri=artifact.uri,
            state=artifact.state,
            fingerprint=artifact.fingerprint,
        )


class ExecutionJson(_NodeJson):
    """An execution (Vertex `Execution`)."""

    state: ExecutionStateJson | None = None  # type: ignore[valid-type]

    def to_domain(self) -> types.Execution:
        execution = types.Execution(**self._common())
        if self.state is not None:
            execution.state = self.state
        return execution

    @classmethod
    def from_domain(cls, execution: types.Execution) -> ExecutionJson:
        return cls(**cls._common_of(execution), state=execution.state)


class ContextJson(_NodeJson):
    """A context (Vertex `Context`); `parentContexts` is output only."""

    parent_contexts: list[str] = Field(default_factory=list)

    def to_domain(self) -> types.Context:
        return types.Context(**self._common(), parent_contexts=list(self.parent_contexts))

    @classmethod
    def from_domain(cls, context: types.Context) -> ContextJson:
        return cls(**cls._common_of(context), parent_contexts=context.parent_contexts)


NodeJson = ArtifactJson | ExecutionJson | ContextJson

_NODE_JSON: dict[type[Any], type[Any]] = {
    types.Artifact: ArtifactJson,
    types.Execution: ExecutionJson,
    types.Context: ContextJson,
}


def node_json_class(kind: type[Any]) -> type[ArtifactJson | ExecutionJson | ContextJson]:
    """The JSON message class of a domain class (Artifact, Execution or Context)."""
    return _NODE_JSON[kind]


class EventJson(Message):
    """An INPUT or OUTPUT edge between an execution and an artifact."""

    artifact: str
    execution: str = ""
    event_time: Timestamp | None = None
    type: EventTypeJson = types.EventType.INPUT  # type: ignore[valid-type]
    labels: dict[str, str] = Field(default_factory=dict)

    def to_domain(self) -> types.Event:
        return types.Event(
            artifact=self.artifact,
            execution=self.execution,
            type=self.type,
            event_time=self.event_time,
            labels=dict(self.labels),
        )

    @classmethod
    def from_domain(cls, event: types.Event) -> EventJson:
        return cls(
            artifact=event.artifact,
            execution=event.execution,
            event_time=event.event_time,
            type=event.type,
            labels=event.labels,
        )


class LineageSubgraphJson(Message):
    """Vertex `LineageSubgraph`, plus `truncated` (mlineage: the node limit cut the walk)."""

    artifacts: list[ArtifactJson] = Field(default_factory=list)
    executions: list[ExecutionJson] = Field(default_factory=list)
    events: list[EventJson] = Field(default_factory=list)
    truncated: bool = False

    def to_domain(self) -> types.LineageGraph:
        return types.LineageGraph(
            artifacts=[a.to_domain() for a in self.artifacts],
            executions=[e.to_domain() for e in self.executions],
            events=[e.to_domain() for e in self.events],
            truncated=self.truncated,
        )

    @classmethod
    def from_domain(cls, graph: types.LineageGraph) -> LineageSubgraphJson:
        return cls(
            artifacts=[ArtifactJson.from_domain(a) for a in graph.artifacts],
            executions=[ExecutionJson.from_domain(e) for e in graph.executions],
            events=[EventJson.from_domain(e) for e in graph.events],
            truncated=graph.truncated,
        )


class MetadataSchemaJson(Message):
    """Vertex `MetadataSchema`; mlineage also keeps its `schemaTitle`."""

    name: str = ""
    schema_title: str = ""
    schema_version: str = "0.0.1"
    schema_: str = Field(default="", alias="schema")
    schema_type: SchemaTypeJson = types.SchemaType.ARTIFACT_TYPE  # type: ignore[valid-type]
    description: str = ""
    create_time: Timestamp | None = None

    def to_domain(self) -> types.MetadataSchema:
        return types.MetadataSchema(
            schema_title=self.schema_title,
            schema_version=self.schema_version,
            schema=self.schema_,
            schema_type=self.schema_type,
            description=self.description,
            name=self.name,
            create_time=self.create_time,
        )

    @classmethod
    def from_domain(cls, schema: types.MetadataSchema) -> MetadataSchemaJson:
        return cls(
            name=schema.name,
            schema_title=schema.schema_title,
            schema_version=schema.schema_version,
            schema=schema.schema,
            schema_type=schema.schema_type,
            description=schema.description,
            create_time=schema.create_time,
        )


class MetadataStoreJson(Message):
    """Vertex `MetadataStore`."""

    name: str = ""
    description: str = ""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None

    def to_domain(self) -> types.MetadataStoreInfo:
        if self.create_time is None or self.update_time is None:
            raise ValueError("a stored MetadataStore has createTime and updateTime")
        return types.MetadataStoreInfo(
            self.name, self.description, self.create_time, self.update_time
        )

    @classmethod
    def from_domain(cls, info: types.MetadataStoreInfo) -> MetadataStoreJson:
        return cls(
            name=info.name,
            description=info.description,
            create_time=info.create_time,
            update_time=info.update_time,
        )
