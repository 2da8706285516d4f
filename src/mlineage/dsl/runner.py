"""The local runner: executes a pipeline's tasks in order and records them as it goes.

For each task, in the order the pipeline function added them (dependencies first):

1. A task whose upstream task failed (or was cancelled) does not run: it is recorded
   CANCELLED with the reason in `_reason`.
2. Its cache key is computed; with caching on, an earlier COMPLETE execution with the same
   key is reused: a CACHED execution is recorded, `_cached_from` naming the original, its
   OUTPUT events pointing at the original's artifacts, whose files and values it reuses.
3. Otherwise its execution is recorded RUNNING with INPUT events, the packages it asks for
   are checked, the function runs (in this process, or a child one with `subprocess=True`)
   and writes under `<pipeline_root>/<pipeline>-<timestamp>/<task>/<output>`; its outputs
   are recorded and it ends COMPLETE, or FAILED with the error in `_error`.

The pipeline run ends COMPLETE, or FAILED when a task failed; then `PipelineTaskError` is
raised (unless `raise_on_error=False`), with the task's exception as its cause when the
task ran in this process.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlineage.dsl.artifacts import Artifact, artifact_class_for
from mlineage.dsl.cache import CACHE_KEY, cache_key, find_cached
from mlineage.dsl.component import Component
from mlineage.dsl.config import local_settings
from mlineage.dsl.executor import TaskError, run_in_process, run_in_subprocess
from mlineage.dsl.graph import Graph, PipelineTask, TaskOutput
from mlineage.dsl.packages import check_packages
from mlineage.dsl.pipeline import Pipeline
from mlineage.dsl.recorder import RunRecorder
from mlineage.dsl.signature import check_value
from mlineage.errors import AlreadyExistsError
from mlineage.sdk import provenance
from mlineage.sdk.config import settings
from mlineage.types import ExecutionState

__all__ = ["PipelineRun", "PipelineTaskError", "run_component", "run_pipeline"]

_DONE = (ExecutionState.COMPLETE, ExecutionState.CACHED)


class PipelineTaskError(RuntimeError):
    """A task of a pipeline run failed; everything was recorded before this was raised."""

    def __init__(self, run: PipelineRun, task: PipelineTask) -> None:
        super().__init__(f"task {task.name} of pipeline run {run.run_id} failed: {task.error}")
        self.run = run
        self.task = task


@dataclass
class PipelineRun:
    """A finished pipeline run: its record, its folder and its tasks."""

    pipeline: str
    run_id: str
    resource_name: str
    """Resource name of the run's `system.PipelineRun` context."""
    root: str
    """The folder holding this run's outputs."""
    state: ExecutionState = ExecutionState.RUNNING
    tasks: dict[str, PipelineTask] = field(default_factory=dict)

    @property
    def failed_tasks(self) -> list[PipelineTask]:
        return [t for t in self.tasks.values() if t.state is ExecutionState.FAILED]


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-") or "pipeline"


def _start(
    name: str, arguments: dict[str, Any], pipeline_root: str
) -> tuple[RunRecorder, PipelineRun]:
    store = settings.store()
    parent = settings.store_name()
    experiment = str(parent.child("contexts", settings.experiment)) if settings.experiment else None
    stamp = datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")
    run_id = f"{_slug(name)[:90]}-{stamp}"
    for attempt in range(3):
        root = os.path.join(os.path.abspath(pipeline_root), run_id)
        try:
            recorder = RunRecorder.start(
                store,
                parent,
                run_id,
                experiment=experiment,
                metadata={"pipeline": name, "pipeline_root": root},
                arguments=arguments,
                provenance=provenance.capture_quick(),
            )
            return recorder, PipelineRun(name, run_id, recorder.name, root)
        except AlreadyExistsError:
            if attempt == 2:
                raise
            run_id = f"{_slug(name)[:90]}-{stamp}-{secrets.token_hex(3)}"
    raise AssertionError("unreachable")


class _Execution:
    """One run of a graph."""

    def __init__(
        self, recorder: RunRecorder, run: PipelineRun, caching: bool, subprocess: bool
    ) -> None:
        self.recorder = recorder
        self.run = run
        self.caching = caching
        self.subprocess = subprocess
        self.causes: dict[str, BaseException] = {}

    def execute(self, graph: Graph) -> None:
        for task in graph.tasks:
            self.run.tasks[task.name] = task
            blocked = [u for u in task.upstream if u.state not in _DONE]
            if blocked:
                self._cancel(task, blocked[0])
            else:
                try:
                    self._run(task)
                except Exception as exc:  # recording or wiring failed around the function
                    task.state = ExecutionState.FAILED
                    task.error = task.error or f"{type(exc).__name__}: {exc}"
                    self.causes.setdefault(task.name, exc)

    def _resolve(self, task: PipelineTask, value: Any, artifact: bool) -> Any:
        if not isinstance(value, TaskOutput):
            return value
        upstream = value.task
        assert upstream.results is not None
        resolved = upstream.results[value.name]
        if artifact != isinstance(resolved, Artifact):
            kind = "an artifact" if artifact else "a parameter"
            raise TypeError(
                f"task {task.name}: output {value.name!r} of task {upstream.name} cannot be "
                f"passed as {kind}"
            )
        return resolved

    def _metadata(self, task: PipelineTask, parameters: dict[str, Any]) -> dict[str, Any]:
        component = task.component
        metadata: dict[str, Any] = {
            key: value for key, value in parameters.items() if not isinstance(value, TaskOutput)
        }
        metadata.update(
            {
                "_component": component.name,
                "_task": task.name,
                "_pipeline_run": self.recorder.name,
                "_mode": "subprocess" if self.subprocess else "in-process",
            }
        )
        not_applied = {**component.local_settings(), **task.not_applied}
        if not_applied:
            metadata["_local"] = {"not_applied": not_applied}
        return metadata

    def _cancel(self, task: PipelineTask, cause: PipelineTask) -> None:
        parameters = {n: task.arguments[n] for n in task.component.signature.parameters}
        metadata = self._metadata(task, parameters)
        state = cause.state.name if cause.state else "not run"
        metadata["_reason"] = f"not run: upstream task {cause.name} is {state}"
        execution = self.recorder.start_task(
            task.name, metadata, inputs=[], state=ExecutionState.CANCELLED
        )
        task.state, task.execution = ExecutionState.CANCELLED, execution.name
        task.error = metadata["_reason"]

    def _run(self, task: PipelineTask) -> None:
        component = task.component
        signature = component.signature
        parameters = {}
        for name, parameter in signature.parameters.items():
            value = self._resolve(task, task.arguments[name], artifact=False)
            parameters[name] = check_value(parameter, value, f"task {task.name}, {name!r}")
        inputs: dict[str, Artifact] = {
            name: self._resolve(task, task.arguments[name], artifact=True)
            for name in signature.inputs
        }
        self.recorder.record_inputs(list(inputs.values()))
        input_names = list(dict.fromkeys(a.resource_name for a in inputs.values()))
        metadata = self._metadata(task, parameters)
        key = cache_key(component.code, component.local_settings(), parameters, inputs)
        metadata[CACHE_KEY] = key
        caching = self.caching if task.enable_caching is None else task.enable_caching
        if caching and self._reuse(task, metadata, input_names):
            return
        execution = self.recorder.start_task(task.name, metadata, input_names)
        task.execution = execution.name
        outputs: dict[str, Artifact] = {}
        try:
            check_packages(component.packages_to_install, component.name)
            task_dir = os.path.join(self.run.root, task.name)
            os.makedirs(task_dir, exist_ok=True)
            outputs = {
                name: cls(name=name, uri=os.path.join(task_dir, name))
                for name, cls in signature.outputs.items()
            }
            if self.subprocess:
                values = run_in_subprocess(
                    component.func, signature, parameters, {**inputs, **outputs}, task_dir
                )
            else:
                values = run_in_process(
                    component.func, signature, parameters, {**inputs, **outputs}
                )
            values = self._check_returns(task, values)
        except Exception as exc:
            message = exc.message if isinstance(exc, TaskError) else f"{type(exc).__name__}: {exc}"
            self.recorder.fail_task(execution, message)
            task.state, task.error = ExecutionState.FAILED, message
            self.causes[task.name] = exc
            return
        except BaseException as exc:  # Ctrl-C or SystemExit: record it, then let it through
            self.recorder.fail_task(execution, f"interrupted: {type(exc).__name__}")
            task.state, task.error = ExecutionState.FAILED, "interrupted"
            raise
        self.recorder.finish_task(execution, outputs, {"_outputs": values})
        task.results = {**outputs, **values}
        task.state = ExecutionState.COMPLETE

    def _check_returns(self, task: PipelineTask, values: dict[str, Any]) -> dict[str, Any]:
        checked = {}
        for name, expected in task.component.signature.returns.items():
            if name not in values:
                raise TypeError(f"task {task.name}: the function returned no {name!r}")
            value = values[name]
            if hasattr(value, "item") and not isinstance(value, list | dict):
                value = value.item()  # numpy scalars
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise TypeError(
                    f"task {task.name}: output {name!r} should be {expected.__name__}, "
                    f"got {type(value).__name__}"
                )
            checked[name] = value
        return checked

    def _reuse(self, task: PipelineTask, metadata: dict[str, Any], inputs: list[str]) -> bool:
        hit = find_cached(self.recorder.store, self.recorder.parent, metadata[CACHE_KEY])
        if hit is None:
            return False
        original, records = hit
        signature = task.component.signature
        if not set(signature.outputs) <= set(records):
            return False
        values = original.metadata.get("_outputs", {})
        if not set(signature.returns) <= set(values):
            return False
        outputs: dict[str, Artifact] = {}
        for name in signature.outputs:
            record = records[name]
            artifact = artifact_class_for(record.schema_title)(
                name=name, uri=record.uri, metadata=dict(record.metadata)
            )
            artifact.resource_name, artifact.fingerprint = record.name, record.fingerprint
            outputs[name] = artifact
        metadata = {**metadata, "_cached_from": original.name, "_outputs": values}
        execution = self.recorder.cached_task(task.name, metadata, inputs, outputs)
        task.execution, task.state = execution.name, ExecutionState.CACHED
        task.results = {**outputs, **{name: values[name] for name in signature.returns}}
        return True


def _execute(
    name: str,
    graph: Graph,
    arguments: dict[str, Any],
    *,
    pipeline_root: str | None,
    enable_caching: bool | None,
    subprocess: bool | None,
    raise_on_error: bool | None,
) -> PipelineRun:
    recorder, run = _start(name, arguments, pipeline_root or local_settings.pipeline_root)
    execution = _Execution(
        recorder,
        run,
        caching=local_settings.enable_caching if enable_caching is None else enable_caching,
        subprocess=local_settings.subprocess if subprocess is None else subprocess,
    )
    try:
        execution.execute(graph)
    finally:
        failed = run.failed_tasks or [t for t in graph.tasks if t.state not in _DONE]
        run.state = ExecutionState.FAILED if failed else ExecutionState.COMPLETE
        recorder.end(run.state)
    raising = local_settings.raise_on_error if raise_on_error is None else raise_on_error
    if run.failed_tasks and raising:
        first = run.failed_tasks[0]
        raise PipelineTaskError(run, first) from execution.causes.get(first.name)
    return run


def run_pipeline(
    pipeline_func: Pipeline | Callable[..., Any],
    arguments: dict[str, Any] | None = None,
    *,
    pipeline_root: str | None = None,
    enable_caching: bool | None = None,
    subprocess: bool | None = None,
    raise_on_error: bool | None = None,
) -> PipelineRun:
    """Run a pipeline locally, recording it; defaults come from `dsl.init(...)`."""
    pipeline = pipeline_func if isinstance(pipeline_func, Pipeline) else Pipeline(pipeline_func)
    bound = pipeline.bind(dict(arguments or {}))
    graph = pipeline.build(bound)
    return _execute(
        pipeline.name,
        graph,
        bound,
        pipeline_root=pipeline_root or pipeline.pipeline_root,
        enable_caching=enable_caching,
        subprocess=subprocess,
        raise_on_error=raise_on_error,
    )


def run_component(component: Component, arguments: dict[str, Any]) -> PipelineTask:
    """A direct call: the component runs now as a one-task pipeline run; returns the task."""
    graph = Graph()
    task = graph.add(component, arguments)
    parameters = {n: arguments[n] for n in component.signature.parameters}
    _execute(
        component.name,
        graph,
        parameters,
        pipeline_root=None,
        enable_caching=None,
        subprocess=None,
        raise_on_error=True,
    )
    return task
