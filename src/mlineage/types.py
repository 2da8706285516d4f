"""Plain domain objects of the metadata store. No I/O.

Resources are addressed by Vertex-style resource names::

    projects/{project}/locations/{location}/metadataStores/{store}/artifacts/{id}

`StoreName` and `ResourceName` parse and build them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from mlineage.errors import InvalidArgumentError

__all__ = [
    "Artifact",
    "ArtifactState",
    "Context",
    "Event",
    "EventType",
    "Execution",
    "ExecutionState",
    "LineageGraph",
    "MetadataSchema",
    "MetadataStoreInfo",
    "Page",
    "Resource",
    "ResourceKind",
    "ResourceName",
    "SchemaType",
    "StoreName",
    "TimeSeriesPoint",
]

ResourceKind = Literal["artifacts", "executions", "contexts", "metadataSchemas"]

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_STORE_RE = re.compile(
    rf"^projects/(?P<project>{_SEGMENT})/locations/(?P<location>{_SEGMENT})"
    rf"/metadataStores/(?P<store>{_SEGMENT})$"
)
_RESOURCE_RE = re.compile(
    rf"^(?P<parent>projects/{_SEGMENT}/locations/{_SEGMENT}/metadataStores/{_SEGMENT})"
    rf"/(?P<kind>artifacts|executions|contexts|metadataSchemas)/(?P<id>[^/]+)$"
)
T = TypeVar("T")
MAX_RESOURCE_ID_LENGTH = 128
RESOURCE_ID_RE = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,{MAX_RESOURCE_ID_LENGTH - 1}}}$")


class ArtifactState(enum.Enum):
    STATE_UNSPECIFIED = 0
    PENDING = 1
    LIVE = 2


class ExecutionState(enum.Enum):
    STATE_UNSPECIFIED = 0
    NEW = 1
    RUNNING = 2
    COMPLETE = 3
    FAILED = 4
    CACHED = 5
    CANCELLED = 6


class EventType(enum.Enum):
    TYPE_UNSPECIFIED = 0
    INPUT = 1
    OUTPUT = 2


class SchemaType(enum.Enum):
    METADATA_SCHEMA_TYPE_UNSPECIFIED = 0
    ARTIFACT_TYPE = 1
    EXECUTION_TYPE = 2
    CONTEXT_TYPE = 3


_SEGMENT_RE = re.compile(rf"^{_SEGMENT}$")


@dataclass(frozen=True, slots=True)
class StoreName:
    """`projects/{project}/locations/{location}/metadataStores/{store}`."""

    project: str
    location: str
    store: str = "default"

    def __post_init__(self) -> None:
        for field_name, value in (
            ("project", self.project),
            ("location", self.location),
            ("metadata_store_id", self.store),
        ):
            if not isinstance(value, str) or not _SEGMENT_RE.match(value) or len(value) > 128:
                raise InvalidArgumentError(
                    field_name,
                    f"{value!r} must be 1-128 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit",
                )

    @classmethod
    def parse(cls, name: str) -> StoreName:
        match = _STORE_RE.match(name) if isinstance(name, str) else None
        if match is None:
            raise InvalidArgumentError(
                "parent",
                f"{name!r} is not a metadata store name "
                "(projects/{project}/locations/{location}/metadataStores/{store})",
            )
        return cls(match["project"], match["location"], match["store"])

    def __str__(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/metadataStores/{self.store}"

    def child(self, kind: ResourceKind, resource_id: str) -> ResourceName:
        return ResourceName(self, kind, resource_id)


@dataclass(frozen=True, slots=True)
class ResourceName:
    """`{store name}/{kind}/{id}`, e.g. `.../metadataStores/default/artifacts/a1`."""

    parent: StoreName
    kind: ResourceKind
    resource_id: str

    @classmethod
    def parse(cls, name: str, kind: ResourceKind | None = None) -> ResourceName:
        match = _RESOURCE_RE.match(name) if isinstance(name, str) else None
        if match is None or (kind is not None and match["kind"] != kind):
            expected = kind or "{kind}"
            raise InvalidArgumentError(
                "name",
                f"{name!r} is not a resource name "
                f"(projects/{{p}}/locations/{{l}}/metadataStores/{{s}}/{expected}/{{id}})",
            )
        found: ResourceKind = match["kind"]  # type: ignore[assignment]
        return cls(StoreName.parse(match["parent"]), found, match["id"])

    def __str__(self) -> str:
        return f"{self.parent}/{self.kind}/{self.resource_id}"


def validate_resource_id(resource_id: str, field_name: str = "resource_id") -> str:
    """Vertex's id rule: lowercase letters, digits and hyphens, at most 128 characters."""
    if not isinstance(resource_id, str):
        raise InvalidArgumentError(
            field_name, f"must be a string, got {type(resource_id).__name__}"
        )
    if not RESOURCE_ID_RE.match(resource_id):
        raise InvalidArgumentError(
            field_name,
            f"{resource_id!r} must be 1-{MAX_RESOURCE_ID_LENGTH} characters of lowercase "
            "letters, digits and hyphens, starting with a letter or digit",
        )
    return resource_id


@dataclass(slots=True)
class _Node:
    """Fields shared by artifacts, executions and contexts."""

    kind: ClassVar[ResourceKind]
    name: str = ""
    """Full resource name; empty until the store creates the resource."""
    display_name: str = ""
    schema_title: str = "system.Artifact"
    schema_version: str = "0.0.1"
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    create_time: datetime | None = None
    update_time: datetime | None = None

    @property
    def resource_id(self) -> str:
        return self.name.rsplit("/", 1)[-1] if self.name else ""


@dataclass(slots=True)
class Artifact(_Node):
    kind: ClassVar[ResourceKind] = "artifacts"
    uri: str = ""
    state: ArtifactState = ArtifactState.LIVE
    fingerprint: str = ""
    """Content fingerprint of a local URI (`sha256:...`), empty for remote URIs."""


@dataclass(slots=True)
class Execution(_Node):
    kind: ClassVar[ResourceKind] = "executions"
    schema_title: str = "system.ContainerExecution"
    state: ExecutionState = ExecutionState.RUNNING


@dataclass(slots=True)
class Context(_Node):
    kind: ClassVar[ResourceKind] = "contexts"
    schema_title: str = "system.Context"
    parent_contexts: list[str] = field(default_factory=list)
    """Resource names of the parent contexts (output only)."""


Resource = Artifact | Execution | Context


@dataclass(slots=True)
class Event:
    """Links an execution to an artifact it consumed (INPUT) or produced (OUTPUT)."""

    artifact: str
    execution: str = ""
    type: EventType = EventType.INPUT
    event_time: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class MetadataSchema:
    """A registered schema: title, version and a JSON/OpenAPI schema of the metadata."""

    kind: ClassVar[ResourceKind] = "metadataSchemas"
    schema_title: str
    schema_version: str = "0.0.1"
    schema: str = ""
    """The schema text (OpenAPI 3 / JSON Schema, in YAML or JSON)."""
    schema_type: SchemaType = SchemaType.ARTIFACT_TYPE
    description: str = ""
    name: str = ""
    create_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class MetadataStoreInfo:
    name: str
    description: str
    create_time: datetime
    update_time: datetime


@dataclass(slots=True)
class LineageGraph:
    """A lineage subgraph: its artifacts, executions and the events between them."""

    artifacts: list[Artifact] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    truncated: bool = False
    """True when the node limit cut the traversal short."""


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a list call; `next_page_token` is empty on the last page."""

    items: list[T]
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class TimeSeriesPoint:
    key: str
    step: int
    value: float
    wall_time: datetime
