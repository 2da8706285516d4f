"""`RestStore`: the store contract over HTTP, talking to an mlineage server's REST API.

Every method is one request (a list without a page size follows the pages), so the SDK
cannot tell a server from a file. Input is checked here with the rules the server applies,
so bad input fails the same way without a round trip. Retried writes never duplicate:

- a create without an id gets one here (a time-ordered UUID from `mlineage.ids`, as the
  embedded store makes, which fits Vertex's id rule); if a retry of it meets
  ALREADY_EXISTS, the earlier try succeeded and the resource it made is returned;
- an update retried into ABORTED (its etag was spent by the earlier try), and a delete
  retried into NOT_FOUND, are recognised alike;
- a time-series write without a step carries a request id, so the server writes it once;
- upserts (params, metrics, points) and links (events, memberships) are idempotent anyway.
"""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from mlineage.client.transport import (
    Reply,
    RetryPolicy,
    TokenSource,
    Transport,
    url_path,
    was_retried,
)
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFoundError,
)
from mlineage.ids import new_id
from mlineage.store.base import Direction, ExperimentRow, Node, RunInfo
from mlineage.types import (
    Artifact,
    Context,
    Event,
    Execution,
    ExecutionState,
    LineageGraph,
    MetadataSchema,
    MetadataStoreInfo,
    Page,
    ResourceName,
    StoreName,
    TimeSeriesPoint,
    validate_resource_id,
)
from mlineage.validation import (
    ParamValue,
    check_labels,
    check_max_points,
    check_metadata,
    check_metrics,
    check_page_size,
    check_params,
    check_step,
)
from mlineage.wire import Message, dump, invalid_argument
from mlineage.wire import messages as m
from mlineage.wire.resources import (
    EventJson,
    LineageSubgraphJson,
    MetadataSchemaJson,
    MetadataStoreJson,
    node_json_class,
)
from mlineage.wire.runs import (
    ExperimentRowJson,
    RunJson,
    encode_points,
    params_from_json,
    params_to_json,
)

__all__ = ["RestStore"]

M = TypeVar("M", bound=Message)
T = TypeVar("T")
_KINDS = {Artifact: "artifacts", Execution: "executions", Context: "contexts"}
_LIST_RESPONSES: dict[str, type[Any]] = {
    "artifacts": m.ListArtifactsResponse,
    "executions": m.ListExecutionsResponse,
    "contexts": m.ListContextsResponse,
}
_DIRECTIONS = ("upstream", "downstream", "both")


def _collection(kind: Any) -> str:
    try:
        return _KINDS[kind]
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            "kind", f"must be Artifact, Execution or Context, got {kind!r}"
        ) from None


def _singular(collection: str) -> str:
    return collection[:-1]


def _check_node(resource: Any, cls: type[Any]) -> None:
    """The checks the store makes that JSON encoding would otherwise trip over."""
    if not isinstance(resource, cls):
        raise InvalidArgumentError(
            "resource", f"expected {cls.__name__}, got {type(resource).__name__}"
        )
    check_metadata(resource.metadata)
    check_labels(resource.labels)
    for field in ("display_name", "description", "schema_version", "etag"):
        value = getattr(resource, field)
        if value is not None and not isinstance(value, str):
            raise InvalidTypeError(field, f"must be a string, got {type(value).__name__}")
    if not isinstance(resource.schema_title, str) or not resource.schema_title:
        raise InvalidArgumentError(
            "schema_title", "must be a non-empty string of at most 128 chars"
        )


def _encode(build: Callable[[], M]) -> bytes:
    try:
        return dump(build())
    except Exception as exc:  # pydantic's ValidationError, raised while building
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            raise invalid_argument(exc) from None
        raise


def _node_json(resource: Any) -> Any:
    cls = node_json_class(type(resource))
    try:
        return cls.from_domain(resource)
    except Exception as exc:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            raise invalid_argument(exc) from None
        raise


def _same_node(existing: Any, sent: Any) -> bool:
    """Whether `existing` is what a create of `sent` made (a retried create's check)."""
    fields = ["display_name", "schema_title", "description", "labels"]
    if isinstance(sent, Artifact):
        fields += ["uri", "state"]
    if isinstance(sent, Execution):
        fields += ["state"]
    if not all(getattr(existing, f) == getattr(sent, f) for f in fields):
        return False
    if isinstance(sent, Context):  # a run context's metadata shows its params and metrics
        return True
    return bool(existing.metadata == check_metadata(sent.metadata))


def _same_update(existing: Any, sent: Any) -> bool:
    """Whether `existing` holds the values a retried update sent (its etag was spent)."""
    fields = ["display_name", "description", "labels", "schema_version"]
    fields += [f for f in ("uri", "state") if hasattr(sent, f)]
    return all(getattr(existing, f) == getattr(sent, f) for f in fields) and (
        isinstance(sent, Context) or existing.metadata == check_metadata(sent.metadata)
    )


class RestStore:
    """A metadata store behind an mlineage server (`http://host:port`)."""

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource = None,
        retry: RetryPolicy | None = None,
        timeout: float = 300.0,
    ) -> None:
        """`token` is a bearer token or a function giving the current one; `retry` says
        how long calls that cannot reach the server are retried (default 60 s)."""
        if not url.startswith(("http://", "https://")):
            raise InvalidArgumentError("url", f"must start with http:// or https://, got {url!r}")
        self.url = url.rstrip("/")
        self._http = Transport(self.url, token=token, retry=retry, timeout=timeout)

    def __repr__(self) -> str:
        return f"RestStore({self.url!r})"

    def close(self) -> None:
        self._http.close()

    # -- plumbing -------------------------------------------------------------------------
    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Reply:
        return self._http.call("GET", path, params=params)

    def _post(self, path: str, body: bytes, params: Mapping[str, Any] | None = None) -> Reply:
        return self._http.call("POST", path, params=params, body=body)

    @staticmethod
    def _read(cls: type[M], reply: Reply) -> M:
        return cls.model_validate_json(reply.body)

    # -- metadata stores --------------------------------------------------------------------
    def get_metadata_store(self, store: StoreName) -> MetadataStoreInfo:
        reply = self._get(url_path(str(store)))
        return self._read(MetadataStoreJson, reply).to_domain()

    def list_metadata_stores(
        self,
        project: str,
        location: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[MetadataStoreInfo]:
        StoreName(project, location)  # INVALID_ARGUMENT naming a bad project or location

        def fetch(
            size: int | None, token: str | None
        ) -> tuple[builtins.list[MetadataStoreInfo], str]:
            params = {"pageSize": size, "pageToken": token}
            path = url_path(f"projects/{project}/locations/{location}/metadataStores")
            page = self._read(m.ListMetadataStoresResponse, self._get(path, params))
            return [s.to_domain() for s in page.metadata_stores], page.next_page_token

        return _gather(fetch, page_size, page_token)

    def get_or_create_metadata_store(
        self, store: StoreName, description: str = ""
    ) -> MetadataStoreInfo:
        try:
            return self.get_metadata_store(store)
        except NotFoundError:
            pass
        body = _encode(lambda: MetadataStoreJson(description=description))
        try:
            reply = self._post(
                url_path(f"projects/{store.project}/locations/{store.location}/metadataStores"),
                body,
                {"metadataStoreId": store.store},
            )
        except AlreadyExistsError:
            return self.get_metadata_store(store)
        created = self._read(m.Operation, reply).response
        return MetadataStoreJson.model_validate(created).to_domain()

    # -- artifacts, executions, contexts ----------------------------------------------------
    def create(self, parent: StoreName, resource: Node, resource_id: str | None = None) -> Node:
        collection = _collection(type(resource))
        _check_node(resource, type(resource))
        if resource_id:
            validate_resource_id(resource_id, f"{_singular(collection)}_id")
        chosen = resource_id or new_id()
        body = dump(_node_json(resource))
        try:
            reply = self._post(
                url_path(f"{parent}/{collection}"), body, {f"{_singular(collection)}Id": chosen}
            )
        except AlreadyExistsError as exc:
            if not was_retried(exc):
                raise
            existing = self._existing(f"{parent}/{collection}/{chosen}", type(resource))
            if existing is None or not _same_node(existing, resource):
                raise
            return existing
        return _node_from(type(resource), reply)

    def _existing(self, name: str, kind: type[Node]) -> Node | None:
        try:
            return self.get(name, kind)
        except NotFoundError:
            return None

    def create_many(self, parent: StoreName, resources: Sequence[Node]) -> list[Node]:
        if not resources:
            return []
        kind = type(resources[0])
        collection = _collection(kind)
        for resource in resources:
            _check_node(resource, kind)
        ids = [r.resource_id or new_id() for r in resources]
        singular = _singular(collection)
        requests = [
            {singular: _node_json(r), f"{singular}_id": i}
            for r, i in zip(resources, ids, strict=True)
        ]
        batch_classes: dict[str, tuple[type[Any], type[Any]]] = {
            "artifacts": (m.BatchCreateArtifactsRequest, m.BatchCreateArtifactsResponse),
            "executions": (m.BatchCreateExecutionsRequest, m.BatchCreateExecutionsResponse),
            "contexts": (m.BatchCreateContextsRequest, m.BatchCreateContextsResponse),
        }
        request_cls, response_cls = batch_classes[collection]
        body = _encode(lambda: request_cls(requests=requests))
        try:
            reply = self._post(url_path(f"{parent}/{collection}", "batchCreate"), body)
        except AlreadyExistsError as exc:
            if not was_retried(exc):
                raise
            existing = [self._existing(f"{parent}/{collection}/{i}", kind) for i in ids]
            if not all(
                e is not None and _same_node(e, r) for e, r in zip(existing, resources, strict=True)
            ):
                raise
            return existing  # type: ignore[return-value]
        made = getattr(self._read(response_cls, reply), collection)
        return [item.to_domain() for item in made]

    def get(self, name: str, kind: type[Node]) -> Node:
        collection = _collection(kind)
        ResourceName.parse(name, collection)  # type: ignore[arg-type]
        return _node_from(kind, self._get(url_path(name)))

    def list(
        self,
        parent: StoreName,
        kind: type[Node],
        *,
        filter: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Node]:
        collection = _collection(kind)
        response_cls = _LIST_RESPONSES[collection]

        def fetch(size: int | None, token: str | None) -> tuple[builtins.list[Node], str]:
            params = {"filter": filter, "orderBy": order_by, "pageSize": size, "pageToken": token}
            page = self._read(response_cls, self._get(url_path(f"{parent}/{collection}"), params))
            return [item.to_domain() for item in getattr(page, collection)], page.next_page_token

        return _gather(fetch, page_size, page_token)

    def update(self, resource: Node) -> Node:
        collection = _collection(type(resource))
        ResourceName.parse(resource.name, collection)  # type: ignore[arg-type]
        _check_node(resource, type(resource))
        body = dump(_node_json(resource))
        try:
            reply = self._http.call("PATCH", url_path(resource.name), body=body)
        except AbortedError as exc:
            if not was_retried(exc):
                raise
            current = self._existing(resource.name, type(resource))
            if not resource.etag or current is None or not _same_update(current, resource):
                raise
            return current
        return _node_from(type(resource), reply)

    def delete(self, name: str, kind: type[Node], etag: str | None = None) -> None:
        ResourceName.parse(name, _collection(kind))  # type: ignore[arg-type]
        try:
            self._http.call("DELETE", url_path(name), params={"etag": etag or None})
        except NotFoundError as exc:
            if not was_retried(exc):  # else the earlier try deleted it
                raise

    # -- context graph ----------------------------------------------------------------------
    def add_context_artifacts_and_executions(
        self, context: str, artifacts: Sequence[str] = (), executions: Sequence[str] = ()
    ) -> None:
        ResourceName.parse(context, "contexts")
        body = _encode(
            lambda: m.AddContextArtifactsAndExecutionsRequest(
                artifacts=list(artifacts), executions=list(executions)
            )
        )
        self._post(url_path(context, "addContextArtifactsAndExecutions"), body)

    def add_context_children(self, context: str, children: Sequence[str]) -> None:
        ResourceName.parse(context, "contexts")
        body = _encode(lambda: m.AddContextChildrenRequest(child_contexts=list(children)))
        self._post(url_path(context, "addContextChildren"), body)

    def remove_context_children(self, context: str, children: Sequence[str]) -> None:
        ResourceName.parse(context, "contexts")
        body = _encode(lambda: m.RemoveContextChildrenRequest(child_contexts=list(children)))
        self._post(url_path(context, "removeContextChildren"), body)

    # -- events and lineage -----------------------------------------------------------------
    def add_execution_events(
        self, execution: str, events: Sequence[Event], *, contexts: Sequence[str] = ()
    ) -> None:
        ResourceName.parse(execution, "executions")
        for i, event in enumerate(events):
            if not isinstance(event, Event):
                raise InvalidArgumentError(
                    f"events[{i}]", f"must be an Event, got {type(event).__name__}"
                )
        body = _encode(
            lambda: m.AddExecutionEventsRequest(
                events=[EventJson.from_domain(e) for e in events], contexts=list(contexts)
            )
        )
        self._post(url_path(execution, "addExecutionEvents"), body)

    def _outputs(
        self, parent: StoreName, outputs: Sequence[Artifact | str]
    ) -> tuple[builtins.list[m.OutputArtifact], builtins.list[Artifact]]:
        """Outputs on the wire; new artifacts get a name (so an id) here, for retries."""
        wire: builtins.list[m.OutputArtifact] = []
        new: builtins.list[Artifact] = []
        for output in outputs:
            if isinstance(output, Artifact):
                _check_node(output, Artifact)
                named = output
                if not output.resource_id:
                    named = dataclasses.replace(output, name=f"{parent}/artifacts/{new_id()}")
                new.append(named)
                wire.append(m.OutputArtifact(new_artifact=_node_json(named)))
            else:
                wire.append(m.OutputArtifact(artifact=output))
        return wire, new

    def _made(
        self, execution: str, new: Sequence[Artifact]
    ) -> tuple[Execution, builtins.list[Artifact]] | None:
        """What an earlier try of record/finish made, if it made all of it."""
        found = self._existing(execution, Execution)
        made = [self._existing(a.name, Artifact) for a in new]
        if found is None or any(a is None for a in made):
            return None
        if not all(_same_node(a, n) for a, n in zip(made, new, strict=True)):
            return None
        return found, made  # type: ignore[return-value]

    def record_execution(
        self,
        parent: StoreName,
        execution: Execution,
        execution_id: str | None = None,
        *,
        inputs: Sequence[str] = (),
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        _check_node(execution, Execution)
        if execution_id:
            validate_resource_id(execution_id, "execution_id")
        chosen = execution_id or new_id()
        wire_outputs, new = self._outputs(parent, outputs)
        body = _encode(
            lambda: m.RecordExecutionRequest(
                execution=_node_json(execution),
                execution_id=chosen,
                inputs=list(inputs),
                outputs=wire_outputs,
                contexts=list(contexts),
            )
        )
        try:
            reply = self._post(url_path(f"{parent}/executions", "record"), body)
        except AlreadyExistsError as exc:
            if not was_retried(exc):
                raise
            made = self._made(f"{parent}/executions/{chosen}", new)
            if made is None or not _same_node(made[0], execution):
                raise
            return made
        result = self._read(m.RecordExecutionResponse, reply)
        return result.execution.to_domain(), [a.to_domain() for a in result.artifacts]

    def finish_execution(
        self,
        execution: Execution,
        *,
        outputs: Sequence[Artifact | str] = (),
        contexts: Sequence[str] = (),
    ) -> tuple[Execution, builtins.list[Artifact]]:
        name = ResourceName.parse(execution.name, "executions")
        _check_node(execution, Execution)
        wire_outputs, new = self._outputs(name.parent, outputs)
        body = _encode(
            lambda: m.FinishExecutionRequest(
                execution=_node_json(execution), outputs=wire_outputs, contexts=list(contexts)
            )
        )
        try:
            reply = self._post(url_path(execution.name, "finish"), body)
        except (AlreadyExistsError, AbortedError) as exc:
            if not was_retried(exc):
                raise
            made = self._made(execution.name, new)
            if made is None or not _same_update(made[0], execution):
                raise
            return made
        result = self._read(m.RecordExecutionResponse, reply)
        return result.execution.to_domain(), [a.to_domain() for a in result.artifacts]

    def query_execution_inputs_and_outputs(self, execution: str) -> LineageGraph:
        ResourceName.parse(execution, "executions")
        reply = self._get(url_path(execution, "queryExecutionInputsAndOutputs"))
        return self._read(LineageSubgraphJson, reply).to_domain()

    def query_artifact_lineage_subgraph(
        self,
        artifact: str,
        *,
        max_hops: int | None = None,
        filter: str | None = None,
        direction: Direction = "both",
        node_limit: int | None = None,
    ) -> LineageGraph:
        ResourceName.parse(artifact, "artifacts")
        for field, value in (("max_hops", max_hops), ("node_limit", node_limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidArgumentError(field, f"must be an int or None, got {value!r}")
        if direction not in _DIRECTIONS:
            raise InvalidArgumentError(
                "direction", f"must be one of {list(_DIRECTIONS)}, got {direction!r}"
            )
        params = {
            "maxHops": max_hops,
            "filter": filter,
            "direction": direction,
            "nodeLimit": node_limit,
        }
        reply = self._get(url_path(artifact, "queryArtifactLineageSubgraph"), params)
        return self._read(LineageSubgraphJson, reply).to_domain()

    def query_context_lineage_subgraph(self, context: str) -> LineageGraph:
        ResourceName.parse(context, "contexts")
        reply = self._get(url_path(context, "queryContextLineageSubgraph"))
        return self._read(LineageSubgraphJson, reply).to_domain()

    # -- metadata schemas -------------------------------------------------------------------
    def create_metadata_schema(
        self, parent: StoreName, schema: MetadataSchema, schema_id: str | None = None
    ) -> MetadataSchema:
        if schema_id:
            validate_resource_id(schema_id, "metadata_schema_id")
        chosen = schema_id or new_id()
        body = _encode(lambda: MetadataSchemaJson.from_domain(schema))
        try:
            reply = self._post(
                url_path(f"{parent}/metadataSchemas"), body, {"metadataSchemaId": chosen}
            )
        except AlreadyExistsError as exc:
            if not was_retried(exc):
                raise
            try:
                existing = self.get_metadata_schema(f"{parent}/metadataSchemas/{chosen}")
            except NotFoundError:
                raise exc from None
            if (existing.schema_title, existing.schema_version, existing.schema) != (
                schema.schema_title,
                schema.schema_version,
                schema.schema,
            ):
                raise
            return existing
        return self._read(MetadataSchemaJson, reply).to_domain()

    def get_metadata_schema(self, name: str) -> MetadataSchema:
        ResourceName.parse(name, "metadataSchemas")
        return self._read(MetadataSchemaJson, self._get(url_path(name))).to_domain()

    def list_metadata_schemas(
        self, parent: StoreName, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[MetadataSchema]:
        def fetch(size: int | None, token: str | None) -> tuple[builtins.list[MetadataSchema], str]:
            params = {"pageSize": size, "pageToken": token}
            reply = self._get(url_path(f"{parent}/metadataSchemas"), params)
            page = self._read(m.ListMetadataSchemasResponse, reply)
            return [s.to_domain() for s in page.metadata_schemas], page.next_page_token

        return _gather(fetch, page_size, page_token)

    # -- experiment runs --------------------------------------------------------------------
    def create_run(
        self,
        parent: StoreName,
        context: Context,
        run_id: str,
        *,
        experiment: str | None,
        state: ExecutionState = ExecutionState.RUNNING,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        _check_node(context, Context)
        validate_resource_id(run_id, "context_id")
        _check_state(state)
        checked = check_metadata(provenance or {}, "provenance")
        body = _encode(
            lambda: m.CreateRunRequest(
                run_id=run_id,
                context=_node_json(context),
                experiment=experiment,
                state=state,
                provenance=checked,
            )
        )
        try:
            reply = self._post(url_path(f"{parent}/contexts", "createRun"), body)
        except AlreadyExistsError as exc:
            if not was_retried(exc):
                raise
            try:
                existing = self.get_run(f"{parent}/contexts/{run_id}")
            except NotFoundError:
                raise exc from None
            if existing.experiment != experiment or not _same_node(existing.context, context):
                raise
            return existing
        return self._read(RunJson, reply).to_domain()

    def get_run(self, run: str) -> RunInfo:
        ResourceName.parse(run, "contexts")
        return self._read(RunJson, self._get(url_path(run) + "/run")).to_domain()

    def list_runs(
        self,
        experiment: str,
        *,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[RunInfo]:
        ResourceName.parse(experiment, "contexts")

        def fetch(size: int | None, token: str | None) -> tuple[builtins.list[RunInfo], str]:
            params = {"filter": filter, "pageSize": size, "pageToken": token}
            page = self._read(
                m.ListRunsResponse, self._get(url_path(experiment, "listRuns"), params)
            )
            return [r.to_domain() for r in page.runs], page.next_page_token

        return _gather(fetch, page_size, page_token)

    def count_runs(self, experiment: str, *, filter: str | None = None) -> int:
        ResourceName.parse(experiment, "contexts")
        reply = self._get(url_path(experiment, "countRuns"), {"filter": filter})
        return self._read(m.CountRunsResponse, reply).count

    def update_run(
        self,
        run: str,
        *,
        state: ExecutionState | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> RunInfo:
        ResourceName.parse(run, "contexts")
        if state is not None:
            _check_state(state)
        checked = check_metadata(provenance, "provenance") if provenance else None
        body = _encode(lambda: m.UpdateRunRequest(state=state, provenance=checked))
        reply = self._http.call("PATCH", url_path(run) + "/run", body=body)
        return self._read(RunJson, reply).to_domain()

    def log_params(self, run: str, params: Mapping[str, ParamValue]) -> None:
        ResourceName.parse(run, "contexts")
        checked = check_params(params)
        body = _encode(lambda: m.LogParamsRequest(params=params_to_json(checked)))
        self._post(url_path(run, "logParams"), body)

    def log_metrics(self, run: str, metrics: Mapping[str, float]) -> None:
        ResourceName.parse(run, "contexts")
        checked = check_metrics(metrics)
        body = _encode(lambda: m.LogMetricsRequest(metrics=checked))
        self._post(url_path(run, "logMetrics"), body)

    def write_time_series(
        self,
        run: str,
        metrics: Mapping[str, float],
        *,
        step: int | None = None,
        wall_time: datetime | None = None,
        request_id: str | None = None,
    ) -> int:
        ResourceName.parse(run, "contexts")
        checked = check_metrics(metrics)
        if step is not None:
            step = check_step(step)
        elif request_id is None:
            request_id = uuid.uuid4().hex  # a retry must not append a second step
        if wall_time is not None and not isinstance(wall_time, datetime):
            raise InvalidTypeError(
                "wall_time", f"must be a datetime, got {type(wall_time).__name__}"
            )
        body = _encode(
            lambda: m.WriteTimeSeriesRequest(
                metrics=checked, step=step, wall_time=wall_time, request_id=request_id
            )
        )
        reply = self._post(url_path(run, "writeTimeSeries"), body)
        return self._read(m.WriteTimeSeriesResponse, reply).step

    def write_time_series_points(self, run: str, points: Sequence[TimeSeriesPoint]) -> None:
        ResourceName.parse(run, "contexts")
        for point in points:
            check_metrics({point.key: point.value}, "points")
            check_step(point.step)
        for i, point in enumerate(points):
            if not isinstance(point.wall_time, datetime):
                raise InvalidTypeError(f"points[{i}].wall_time", "must be a datetime")
        self._post(url_path(run, "writeTimeSeriesPoints"), encode_points(points))

    def get_params(self, run: str) -> dict[str, ParamValue]:
        ResourceName.parse(run, "contexts")
        reply = self._get(url_path(run, "readParams"))
        return params_from_json(self._read(m.ReadParamsResponse, reply).params)

    def get_metrics(self, run: str) -> dict[str, float]:
        ResourceName.parse(run, "contexts")
        reply = self._get(url_path(run, "readMetrics"))
        return dict(self._read(m.ReadMetricsResponse, reply).metrics)

    def read_time_series(
        self, run: str, keys: Sequence[str] | None = None, *, max_points: int | None = None
    ) -> builtins.list[TimeSeriesPoint]:
        ResourceName.parse(run, "contexts")
        if keys is not None:
            keys = list(keys) or [""]  # no key can be empty: an empty list reads no point
        if max_points is not None:
            max_points = check_max_points(max_points)
        reply = self._get(url_path(run, "readTimeSeries"), {"keys": keys, "maxPoints": max_points})
        return [p.to_domain() for p in self._read(m.ReadTimeSeriesResponse, reply).points]

    def experiment_rows(
        self,
        experiment: str,
        *,
        include_time_series: bool = True,
        filter: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[ExperimentRow]:
        ResourceName.parse(experiment, "contexts")
        series = "true" if include_time_series else "false"

        def fetch(size: int | None, token: str | None) -> tuple[builtins.list[ExperimentRow], str]:
            params = {
                "includeTimeSeries": series,
                "filter": filter,
                "pageSize": size,
                "pageToken": token,
            }
            reply = self._get(url_path(experiment, "experimentRows"), params)
            page = self._read(m.ExperimentRowsResponse, reply)
            rows: builtins.list[ExperimentRowJson] = page.rows
            return [row.to_domain() for row in rows], page.next_page_token

        return _gather(fetch, page_size, page_token)


def _node_from(kind: type[Node], reply: Reply) -> Node:
    """The Artifact, Execution or Context a reply carries."""
    return cast(Node, node_json_class(kind).model_validate_json(reply.body).to_domain())


def _check_state(state: Any) -> None:
    if not isinstance(state, ExecutionState):
        raise InvalidArgumentError("state", f"must be an ExecutionState, got {state!r}")


def _gather(
    fetch: Callable[[int | None, str | None], tuple[builtins.list[T], str]],
    page_size: int | None,
    page_token: str | None,
) -> Page[T]:
    """One page of up to `page_size` items (all items when None), assembled from as many
    server pages as the server's page-size cap makes necessary."""
    wanted = check_page_size(page_size)
    items: builtins.list[T] = []
    token = page_token or None
    while True:
        size = None if wanted is None else wanted - len(items)
        got, token_next = fetch(size, token)
        items += got
        token = token_next or None
        if token is None or (wanted is not None and len(items) >= wanted):
            return Page(items, token or "")
