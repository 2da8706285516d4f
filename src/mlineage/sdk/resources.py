"""Vertex-shaped resource classes: `Artifact`, `Execution`, `Context`.

Each wraps a domain object (`gca_resource`) and talks only to the store contract.
Constructing one by name or id fetches it (NOT_FOUND when missing); `get` returns None
instead; `create`, `get_or_create`, `list`, `update` and `delete` behave as in the Vertex SDK.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypedDict, TypeVar

from mlineage import types
from mlineage.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFoundError,
)
from mlineage.fingerprint import check_fingerprint
from mlineage.fingerprint import fingerprint as content_fingerprint
from mlineage.sdk.config import settings
from mlineage.sdk.exceptions import NoArtifactWithUriError
from mlineage.store import MetadataStore
from mlineage.types import ArtifactState, Event, EventType, ExecutionState, LineageGraph, StoreName

N = TypeVar("N", types.Artifact, types.Execution, types.Context)


class Scope(TypedDict):
    """Where a resource lives: the keyword arguments of create/get/list."""

    metadata_store_id: str
    project: str
    location: str


class _HybridMethod:
    """A method callable on the class or on an instance: `func(cls, instance_or_None, ...)`."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, instance: object, owner: type) -> Callable[..., Any]:
        return functools.partial(self.func, owner, instance)


def _full_name(
    kind: types.ResourceKind,
    name_or_id: str,
    metadata_store_id: str = "default",
    project: str | None = None,
    location: str | None = None,
) -> str:
    if not isinstance(name_or_id, str) or not name_or_id:
        raise InvalidArgumentError(
            "resource_name", f"must be a non-empty string, got {name_or_id!r}"
        )
    if "/" in name_or_id:
        return str(types.ResourceName.parse(name_or_id, kind))
    parent = settings.store_name(metadata_store_id, project, location)
    return str(parent.child(kind, name_or_id))


def _nested_update(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge `changes` into `current`, one level deep for dict values (as Vertex does)."""
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


class _Resource(Generic[N]):
    """Shared behaviour of Artifact, Execution and Context."""

    _gca_type: ClassVar[type[Any]]
    _kind: ClassVar[types.ResourceKind]
    _default_schema_title: ClassVar[str]

    def __init__(
        self,
        resource_name: str,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> None:
        name = _full_name(self._kind, resource_name, metadata_store_id, project, location)
        self._gca: N = self._store().get(name, self._gca_type)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def _wrap(cls, gca: N) -> Self:
        instance = cls.__new__(cls)
        instance._gca = gca
        return instance

    @staticmethod
    def _store() -> MetadataStore:
        return settings.store()

    @classmethod
    def _parent(
        cls,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
    ) -> StoreName:
        return settings.store_name(metadata_store_id, project, location)

    @classmethod
    def _create(cls, gca: N, resource_id: str | None, parent: StoreName) -> Self:
        return cls._wrap(cls._store().create(parent, gca, resource_id))

    @classmethod
    def get(
        cls,
        resource_id: str,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Self | None:
        """The resource, or None when it does not exist."""
        try:
            return cls(
                resource_id, metadata_store_id=metadata_store_id, project=project, location=location
            )
        except NotFoundError:
            return None

    @classmethod
    def get_or_create(
        cls,
        resource_id: str,
        schema_title: str,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Self:
        """The resource `resource_id`, created with these fields if it does not exist."""
        found = cls.get(resource_id, metadata_store_id, project, location)
        if found is not None:
            return found
        try:
            return cls.create(  # type: ignore[attr-defined, no-any-return]
                schema_title,
                resource_id=resource_id,
                display_name=display_name,
                schema_version=schema_version,
                description=description,
                metadata=metadata,
                metadata_store_id=metadata_store_id,
                project=project,
                location=location,
            )
        except AlreadyExistsError:  # another process created it meanwhile
            return cls(
                resource_id, metadata_store_id=metadata_store_id, project=project, location=location
            )

    @classmethod
    def list(
        cls,
        filter: str | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        order_by: str | None = None,
    ) -> builtins.list[Self]:
        """Every resource of this kind matching `filter` (the Vertex filter language)."""
        return [
            cls._wrap(g)
            for g in cls._iterate(
                filter, order_by, cls._parent(metadata_store_id, project, location)
            )
        ]

    @classmethod
    def _iterate(cls, filter: str | None, order_by: str | None, parent: StoreName) -> Iterator[N]:
        token: str | None = None
        while True:
            page = cls._store().list(
                parent,
                cls._gca_type,
                filter=filter,
                order_by=order_by,
                page_size=1000,
                page_token=token,
            )
            yield from page.items
            token = page.next_page_token
            if not token:
                return

    # -- properties ---------------------------------------------------------------------
    @property
    def gca_resource(self) -> N:
        return self._gca

    @property
    def resource_name(self) -> str:
        return self._gca.name

    @property
    def name(self) -> str:
        """The resource id (the last segment of `resource_name`)."""
        return self._gca.resource_id

    @property
    def display_name(self) -> str:
        return self._gca.display_name

    @property
    def schema_title(self) -> str:
        return self._gca.schema_title

    @property
    def schema_version(self) -> str:
        return self._gca.schema_version

    @property
    def metadata(self) -> dict[str, Any]:
        return self._gca.metadata

    @property
    def description(self) -> str:
        return self._gca.description

    @property
    def labels(self) -> dict[str, str]:
        return self._gca.labels

    @property
    def etag(self) -> str:
        return self._gca.etag

    @property
    def create_time(self) -> datetime | None:
        return self._gca.create_time

    @property
    def update_time(self) -> datetime | None:
        return self._gca.update_time

    # -- changes ------------------------------------------------------------------------
    def sync_resource(self) -> None:
        """Re-read the resource from the store."""
        self._gca = self._store().get(self.resource_name, self._gca_type)

    def _update(
        self, metadata: dict[str, Any] | None, description: str | None, **fields: Any
    ) -> None:
        """Write the changes; this object changes only once the store has taken them."""
        changes = {key: value for key, value in fields.items() if value is not None}
        if metadata is not None:
            if not isinstance(metadata, dict):
                raise InvalidArgumentError(
                    "metadata", f"must be a dict, got {type(metadata).__name__}"
                )
            changes["metadata"] = _nested_update(self._gca.metadata, metadata)
        if description is not None:
            changes["description"] = description
        self._gca = self._store().update(dataclasses.replace(self._gca, **changes))

    def update(
        self,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        credentials: Any = None,
        location: str | None = None,
    ) -> None:
        """Merge `metadata` into the resource's metadata and/or set its description."""
        self._update(metadata, description)

    def delete(self, sync: bool = True) -> None:
        self._store().delete(self.resource_name, self._gca_type)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.resource_name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Resource) and other.resource_name == self.resource_name

    def __hash__(self) -> int:
        return hash(self.resource_name)


def _names(items: Sequence[Any], kind: types.ResourceKind, field_name: str) -> list[str]:
    """Resource names of SDK objects, domain objects or name strings."""
    names = []
    for i, item in enumerate(items):
        if isinstance(item, _Resource):
            names.append(item.resource_name)
        elif isinstance(item, str):
            names.append(_full_name(kind, item))
        elif isinstance(item, types.Artifact | types.Execution | types.Context):
            names.append(item.name)
        else:
            raise InvalidArgumentError(
                f"{field_name}[{i}]", f"must be a resource or name, got {item!r}"
            )
    return names


def _content_fingerprint(uri: str | None, fingerprint: bool | str) -> str:
    """What `create(uri=..., fingerprint=...)` records: see `Artifact.create`."""
    if isinstance(fingerprint, bool):
        return content_fingerprint(uri) if fingerprint and isinstance(uri, str) else ""
    if isinstance(fingerprint, str):
        return check_fingerprint(fingerprint)
    raise InvalidTypeError(
        "fingerprint",
        "must be True, False or a precomputed fingerprint string, "
        f"got {type(fingerprint).__name__}",
    )


class Artifact(_Resource[types.Artifact]):
    """A piece of data: a dataset, model, metrics, ..."""

    _gca_type = types.Artifact
    _kind = "artifacts"
    State = ArtifactState

    @classmethod
    def create(
        cls,
        schema_title: str,
        *,
        resource_id: str | None = None,
        uri: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        state: ArtifactState = ArtifactState.LIVE,
        labels: dict[str, str] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        fingerprint: bool | str = True,
    ) -> Artifact:
        """Record an artifact.

        `fingerprint` (an mlineage addition): True (the default) records the content
        fingerprint of a local file or directory `uri` (`sha256:...`; "" for remote URIs and
        local paths that do not exist yet; see `mlineage.fingerprint`), so that two artifacts
        at one URI holding different data are told apart. A string is a precomputed
        fingerprint (`sha256:<64 hex>` or another `<algorithm>:<hex>`, at most 80 characters);
        False records none.
        """
        gca = types.Artifact(
            schema_title=schema_title,
            uri=uri or "",
            display_name=display_name or "",
            schema_version=schema_version or "0.0.1",
            description=description or "",
            metadata=metadata if metadata is not None else {},
            state=state,
            labels=labels or {},
            fingerprint=_content_fingerprint(uri, fingerprint),
        )
        return cls._create(gca, resource_id, cls._parent(metadata_store_id, project, location))

    @classmethod
    def get_with_uri(
        cls,
        uri: str,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Artifact:
        """The newest artifact whose URI is `uri` (NOT_FOUND when there is none)."""
        if not isinstance(uri, str):
            raise InvalidArgumentError("uri", f"must be a string, got {type(uri).__name__}")
        quoted = uri.replace("\\", "\\\\").replace('"', '\\"')
        page = cls._store().list(
            cls._parent(metadata_store_id, project, location),
            types.Artifact,
            filter=f'uri = "{quoted}"',
            order_by="create_time desc",
            page_size=1,
        )
        if not page.items:
            raise NoArtifactWithUriError(f"no Artifact has uri {uri!r}")
        return cls._wrap(page.items[0])

    @property
    def uri(self) -> str:
        return self._gca.uri

    @property
    def state(self) -> ArtifactState:
        return self._gca.state

    @property
    def fingerprint(self) -> str:
        return self._gca.fingerprint

    def update(  # type: ignore[override]
        self,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        state: ArtifactState | None = None,
        uri: str | None = None,
        credentials: Any = None,
        location: str | None = None,
        fingerprint: bool | str = True,
    ) -> None:
        """Merge metadata, set the description, state or URI. A new `uri` gets a new content
        fingerprint, as in `create`."""
        content = _content_fingerprint(uri, fingerprint) if uri is not None else None
        self._update(metadata, description, state=state, uri=uri, fingerprint=content)

    @_HybridMethod
    def get_with_lineage_subgraph(
        cls: type[Artifact],  # noqa: N805
        instance: Artifact | None,
        resource_id: str | None = None,
        *,
        max_hops: int | None = None,
        filter: str | None = None,
        direction: str = "both",
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> LineageGraph:
        """The lineage subgraph around an artifact (this one, or `resource_id`'s).

        Returns `.artifacts`, `.executions` and `.events`. `max_hops` counts event edges
        (None: the whole lineage); `direction` is "upstream", "downstream" or "both".
        """
        if instance is not None and resource_id is None:
            name = instance.resource_name
        elif resource_id is not None:
            name = _full_name("artifacts", resource_id, metadata_store_id, project, location)
        else:
            raise InvalidArgumentError("resource_id", "is required when called on the class")
        return cls._store().query_artifact_lineage_subgraph(
            name,
            max_hops=max_hops,
            filter=filter,
            direction=direction,  # type: ignore[arg-type]
        )


class Execution(_Resource[types.Execution]):
    """A step that consumed and produced artifacts. A context manager: RUNNING inside,
    COMPLETE after, FAILED when the block raises."""

    _gca_type = types.Execution
    _kind = "executions"
    State = ExecutionState
    _run_context: str | None = None

    @classmethod
    def create(
        cls,
        schema_title: str = "system.ContainerExecution",
        *,
        state: ExecutionState = ExecutionState.RUNNING,
        resource_id: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        labels: dict[str, str] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Execution:
        gca = types.Execution(
            schema_title=schema_title,
            state=state,
            display_name=display_name or "",
            schema_version=schema_version or "0.0.1",
            metadata=metadata if metadata is not None else {},
            description=description or "",
            labels=labels or {},
        )
        return cls._create(gca, resource_id, cls._parent(metadata_store_id, project, location))

    @property
    def state(self) -> ExecutionState:
        return self._gca.state

    def update(  # type: ignore[override]
        self,
        state: ExecutionState | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        credentials: Any = None,
        location: str | None = None,
    ) -> None:
        if state is not None and not isinstance(state, ExecutionState):
            raise InvalidArgumentError("state", f"must be an Execution.State, got {state!r}")
        self._update(metadata, description, state=state)

    def _add_events(self, artifacts: Sequence[Any], event_type: EventType, field_name: str) -> None:
        names = _names(artifacts, "artifacts", field_name)
        self._store().add_execution_events(
            self.resource_name,
            [Event(artifact=n, type=event_type) for n in names],
            contexts=[self._run_context] if self._run_context else [],
        )

    def assign_input_artifacts(self, artifacts: Sequence[Any]) -> None:
        """Record that this execution consumed `artifacts` (INPUT events)."""
        self._add_events(artifacts, EventType.INPUT, "artifacts")

    def assign_output_artifacts(self, artifacts: Sequence[Any]) -> None:
        """Record that this execution produced `artifacts` (OUTPUT events)."""
        self._add_events(artifacts, EventType.OUTPUT, "artifacts")

    def _artifacts(self, event_type: EventType) -> list[Artifact]:
        graph = self._store().query_execution_inputs_and_outputs(self.resource_name)
        wanted = {e.artifact for e in graph.events if e.type is event_type}
        return [Artifact._wrap(a) for a in graph.artifacts if a.name in wanted]

    def get_input_artifacts(self) -> list[Artifact]:
        return self._artifacts(EventType.INPUT)

    def get_output_artifacts(self) -> list[Artifact]:
        return self._artifacts(EventType.OUTPUT)

    def __enter__(self) -> Self:
        if self.state is not ExecutionState.RUNNING:
            self.update(state=ExecutionState.RUNNING)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.update(state=ExecutionState.FAILED if exc_type else ExecutionState.COMPLETE)


class Context(_Resource[types.Context]):
    """A group of artifacts and executions (an experiment, a run, a pipeline run, ...)."""

    _gca_type = types.Context
    _kind = "contexts"

    @classmethod
    def create(
        cls,
        schema_title: str = "system.Context",
        *,
        resource_id: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Context:
        gca = types.Context(
            schema_title=schema_title,
            display_name=display_name or "",
            schema_version=schema_version or "0.0.1",
            description=description or "",
            metadata=metadata if metadata is not None else {},
            labels=labels or {},
        )
        return cls._create(gca, resource_id, cls._parent(metadata_store_id, project, location))

    @property
    def parent_contexts(self) -> list[str]:
        return list(self._gca.parent_contexts)

    def add_artifacts_and_executions(
        self,
        artifact_resource_names: Sequence[str] | None = None,
        execution_resource_names: Sequence[str] | None = None,
    ) -> None:
        self._store().add_context_artifacts_and_executions(
            self.resource_name,
            artifacts=_names(artifact_resource_names or [], "artifacts", "artifact_resource_names"),
            executions=_names(
                execution_resource_names or [], "executions", "execution_resource_names"
            ),
        )

    def add_context_children(self, contexts: Sequence[Any]) -> None:
        self._store().add_context_children(
            self.resource_name, _names(contexts, "contexts", "contexts")
        )

    def get_artifacts(self) -> list[Artifact]:
        return Artifact.list(filter=f'in_context("{self.resource_name}")', **self._scope())

    def get_executions(self) -> list[Execution]:
        return Execution.list(filter=f'in_context("{self.resource_name}")', **self._scope())

    def query_lineage_subgraph(self) -> LineageGraph:
        return self._store().query_context_lineage_subgraph(self.resource_name)

    def _scope(self) -> Scope:
        parent = types.ResourceName.parse(self.resource_name).parent
        return Scope(
            metadata_store_id=parent.store, project=parent.project, location=parent.location
        )
