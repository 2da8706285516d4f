"""Records a pipeline run through the store contract.

system.PipelineRun context (a run: params = pipeline arguments, metrics = every
│                           Output[Metrics] value; child of the experiment when one is set)
├── system.ContainerExecution per task: display name = task, metadata = its parameters
│   as plain keys plus mlineage's bookkeeping under "_" keys; INPUT events to what it
│   read, OUTPUT events to what it wrote (display name = output name, with the content
│   fingerprint of local files)
└── the artifacts it read and wrote
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from mlineage import types
from mlineage.dsl.artifacts import Artifact, Metrics
from mlineage.fingerprint import fingerprint
from mlineage.store import MetadataStore, RunInfo
from mlineage.types import ExecutionState, StoreName

__all__ = ["PIPELINE_RUN_SCHEMA", "TASK_SCHEMA", "RunRecorder", "plain"]

PIPELINE_RUN_SCHEMA = "system.PipelineRun"
TASK_SCHEMA = "system.ContainerExecution"


def _default(value: Any) -> Any:
    for method in ("item", "tolist"):  # numpy scalars and arrays
        if hasattr(value, method):
            return getattr(value, method)()
    return str(value)


def plain(value: Any) -> Any:
    """`value` as plain JSON data (numpy numbers become Python numbers)."""
    return json.loads(json.dumps(value, default=_default))


def _param(value: Any) -> str | int | float | bool:
    if isinstance(value, str | bool | int | float):
        return value
    return json.dumps(plain(value), sort_keys=True)


class RunRecorder:
    """Writes one pipeline run: its context, its tasks' executions, events and artifacts."""

    def __init__(self, store: MetadataStore, parent: StoreName, run: RunInfo) -> None:
        self.store = store
        self.parent = parent
        self.run = run

    @property
    def name(self) -> str:
        return self.run.context.name

    @classmethod
    def start(
        cls,
        store: MetadataStore,
        parent: StoreName,
        run_id: str,
        *,
        experiment: str | None,
        metadata: dict[str, Any],
        arguments: Mapping[str, Any],
        provenance: Mapping[str, Any],
    ) -> RunRecorder:
        context = types.Context(
            schema_title=PIPELINE_RUN_SCHEMA, display_name=run_id, metadata=plain(metadata)
        )
        run = store.create_run(
            parent, context, run_id, experiment=experiment, provenance=provenance
        )
        recorder = cls(store, parent, run)
        params = {key: _param(value) for key, value in arguments.items() if value is not None}
        if params:
            store.log_params(recorder.name, params)
        return recorder

    def end(self, state: ExecutionState) -> None:
        self.run = self.store.update_run(self.name, state=state)

    def record_inputs(self, artifacts: Sequence[Artifact]) -> None:
        """Record the raw inputs that have no record yet, or whose local content changed
        since they were recorded (a new record, so caching and lineage see new data)."""
        new = []
        for artifact in artifacts:
            content = fingerprint(artifact.uri) if artifact.uri else ""
            if not artifact.resource_name or (content and content != artifact.fingerprint):
                artifact.fingerprint = content
                new.append(artifact)
        if not new:
            return
        created = self.store.create_many(
            self.parent,
            [
                types.Artifact(
                    schema_title=a.schema_title,
                    display_name=a.name,
                    uri=a.uri,
                    metadata=plain(a.metadata),
                    fingerprint=a.fingerprint,
                )
                for a in new
            ],
        )
        for artifact, record in zip(new, created, strict=True):
            artifact.resource_name = record.name

    def start_task(
        self,
        name: str,
        metadata: dict[str, Any],
        inputs: Sequence[str],
        state: ExecutionState = ExecutionState.RUNNING,
    ) -> types.Execution:
        execution, _ = self.store.record_execution(
            self.parent,
            types.Execution(
                schema_title=TASK_SCHEMA, display_name=name, state=state, metadata=plain(metadata)
            ),
            inputs=inputs,
            contexts=[self.name],
        )
        return execution

    def _set(
        self, execution: types.Execution, state: ExecutionState, metadata: Mapping[str, Any]
    ) -> types.Execution:
        execution.state = state
        execution.metadata = {**execution.metadata, **plain(dict(metadata))}
        return self.store.update(execution)

    def finish_task(
        self,
        execution: types.Execution,
        outputs: Mapping[str, Artifact],
        metadata: Mapping[str, Any],
    ) -> types.Execution:
        """Record the new output artifacts (with fingerprints), their OUTPUT events, the
        run metrics they carry, and the state COMPLETE."""
        items = list(outputs.items())
        for _, artifact in items:
            artifact.metadata = plain(artifact.metadata)
            artifact.fingerprint = fingerprint(artifact.uri) if artifact.uri else ""
        execution.state = ExecutionState.COMPLETE
        execution.metadata = {**execution.metadata, **plain(dict(metadata))}
        finished, created = self.store.finish_execution(
            execution,
            outputs=[
                types.Artifact(
                    schema_title=a.schema_title,
                    display_name=name,
                    uri=a.uri,
                    metadata=a.metadata,
                    fingerprint=a.fingerprint,
                )
                for name, a in items
            ],
            contexts=[self.name],
        )
        for (_, artifact), record in zip(items, created, strict=True):
            artifact.resource_name = record.name
        self.log_metrics(a for _, a in items)
        return finished

    def cached_task(
        self,
        name: str,
        metadata: dict[str, Any],
        inputs: Sequence[str],
        outputs: Mapping[str, Artifact],
    ) -> types.Execution:
        """A CACHED execution whose OUTPUT events point at the original's artifacts,
        recorded in one transaction."""
        execution, _ = self.store.record_execution(
            self.parent,
            types.Execution(
                schema_title=TASK_SCHEMA,
                display_name=name,
                state=ExecutionState.CACHED,
                metadata=plain(metadata),
            ),
            inputs=inputs,
            outputs=[a.resource_name for a in outputs.values()],
            contexts=[self.name],
        )
        self.log_metrics(outputs.values())
        return execution

    def fail_task(self, execution: types.Execution, error: str) -> types.Execution:
        return self._set(execution, ExecutionState.FAILED, {"_error": error})

    def log_metrics(self, artifacts: Any) -> None:
        """Every number of every Metrics artifact becomes a metric of the pipeline run."""
        metrics: dict[str, float] = {}
        for artifact in artifacts:
            if type(artifact) is Metrics:
                for key, value in artifact.metadata.items():
                    if isinstance(value, numbers.Real) and not isinstance(value, bool):
                        metrics[key] = float(value)
        if metrics:
            self.store.log_metrics(self.name, metrics)
