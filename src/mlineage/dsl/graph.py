"""The task graph a pipeline function builds: `PipelineTask`s wired by `TaskOutput`s.

Inside `@dsl.pipeline`, calling a component does not run it: it adds a task to the graph
being built and returns it, so its outputs (`task.output`, `task.outputs["name"]`) can be
passed to later components. Tasks are added in the order the function calls them, which is
always an order in which every task comes after the tasks it depends on.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mlineage.types import ExecutionState

if TYPE_CHECKING:
    from mlineage.dsl.component import Component

__all__ = ["Graph", "PipelineTask", "TaskOutput", "building", "current_graph"]

_CURRENT: contextvars.ContextVar[Graph | None] = contextvars.ContextVar(
    "mlineage_dsl_graph", default=None
)


class TaskOutput:
    """A reference to an output of a task that has not run yet."""

    def __init__(self, task: PipelineTask, name: str) -> None:
        self.task = task
        self.name = name

    def __repr__(self) -> str:
        return f"TaskOutput({self.task.name!r}, {self.name!r})"


class _Outputs(Mapping[str, Any]):
    def __init__(self, task: PipelineTask) -> None:
        self._task = task

    def __getitem__(self, name: str) -> Any:
        task = self._task
        if name not in task.component.signature.output_names:
            raise KeyError(
                f"task {task.name} has no output {name!r}; "
                f"its outputs are {task.component.signature.output_names}"
            )
        if task.results is not None and name in task.results:
            return task.results[name]
        return TaskOutput(task, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._task.component.signature.output_names)

    def __len__(self) -> int:
        return len(self._task.component.signature.output_names)


class PipelineTask:
    """One call of a component: its arguments, and once run, its state and outputs."""

    def __init__(self, component: Component, name: str, arguments: dict[str, Any]) -> None:
        self.component = component
        self.name = name
        self.arguments = arguments
        self.enable_caching: bool | None = None
        self.upstream: list[PipelineTask] = []
        self.not_applied: dict[str, Any] = {}
        """Settings (CPU, memory, retries, ...) accepted for KFP's sake, not applied locally."""
        # Filled in when the task has run:
        self.state: ExecutionState | None = None
        self.execution = ""
        """Resource name of the task's execution in the metadata store."""
        self.error = ""
        self.results: dict[str, Any] | None = None
        for value in arguments.values():
            if isinstance(value, TaskOutput) and value.task not in self.upstream:
                self.upstream.append(value.task)

    @property
    def outputs(self) -> Mapping[str, Any]:
        """Output artifacts and parameters by name (references until the task has run)."""
        return _Outputs(self)

    @property
    def output(self) -> Any:
        """The task's only output."""
        names = self.component.signature.output_names
        if len(names) != 1:
            raise AttributeError(
                f"task {self.name} has {len(names)} outputs {names}: use .outputs[name]"
            )
        return self.outputs[names[0]]

    def set_caching_options(self, enable_caching: bool) -> PipelineTask:
        self.enable_caching = bool(enable_caching)
        return self

    def after(self, *tasks: PipelineTask) -> PipelineTask:
        for task in tasks:
            if task not in self.upstream:
                self.upstream.append(task)
        return self

    def set_display_name(self, name: str) -> PipelineTask:
        self.not_applied["display_name"] = name
        return self

    def _not_applied(self, setting: str, value: Any) -> PipelineTask:
        self.not_applied[setting] = value
        return self

    def set_cpu_limit(self, cpu: str) -> PipelineTask:
        return self._not_applied("cpu_limit", cpu)

    def set_cpu_request(self, cpu: str) -> PipelineTask:
        return self._not_applied("cpu_request", cpu)

    def set_memory_limit(self, memory: str) -> PipelineTask:
        return self._not_applied("memory_limit", memory)

    def set_memory_request(self, memory: str) -> PipelineTask:
        return self._not_applied("memory_request", memory)

    def set_accelerator_type(self, accelerator: str) -> PipelineTask:
        return self._not_applied("accelerator_type", accelerator)

    def set_accelerator_limit(self, limit: int) -> PipelineTask:
        return self._not_applied("accelerator_limit", limit)

    def set_retry(self, num_retries: int, **options: Any) -> PipelineTask:
        return self._not_applied("retry", {"num_retries": num_retries, **options})

    def set_env_variable(self, name: str, value: str) -> PipelineTask:
        env = self.not_applied.setdefault("env", {})
        env[name] = value
        return self

    def __repr__(self) -> str:
        state = self.state.name if self.state else "not run"
        return f"<PipelineTask {self.name} {state}>"


class Graph:
    """The tasks of one pipeline, in the order they were added."""

    def __init__(self) -> None:
        self.tasks: list[PipelineTask] = []
        self._names: set[str] = set()

    def add(self, component: Component, arguments: dict[str, Any]) -> PipelineTask:
        name = component.name
        number = 1
        while name in self._names:
            number += 1
            name = f"{component.name}-{number}"
        self._names.add(name)
        task = PipelineTask(component, name, arguments)
        self.tasks.append(task)
        return task


def current_graph() -> Graph | None:
    """The graph a pipeline function is building right now, if any."""
    return _CURRENT.get()


@contextmanager
def building(graph: Graph) -> Iterator[Graph]:
    token = _CURRENT.set(graph)
    try:
        yield graph
    finally:
        _CURRENT.reset(token)
