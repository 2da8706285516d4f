"""`@dsl.pipeline`: a function that calls components and wires their outputs to inputs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, overload

from mlineage.dsl.graph import Graph, building, current_graph

__all__ = ["Pipeline", "pipeline"]


class Pipeline:
    """A pipeline function with its name; calling it runs it (see `run_pipeline`)."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        pipeline_root: str | None = None,
        display_name: str | None = None,
    ) -> None:
        self.func = func
        self.name = (name or func.__name__).replace("_", "-").lower()
        self.description = description if description is not None else (func.__doc__ or "")
        self.pipeline_root = pipeline_root
        self.display_name = display_name or self.name
        self.__wrapped__ = func
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The pipeline's arguments with defaults filled in; a missing one is a TypeError."""
        try:
            bound = inspect.signature(self.func).bind(**arguments)
        except TypeError as exc:
            raise TypeError(f"pipeline {self.name}: {exc}") from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def build(self, arguments: dict[str, Any]) -> Graph:
        """Call the function with concrete arguments, collecting the tasks it adds."""
        if current_graph() is not None:
            raise TypeError(f"pipeline {self.name}: pipelines inside pipelines are not supported")
        graph = Graph()
        with building(graph):
            self.func(**arguments)
        return graph

    def __call__(self, **arguments: Any) -> Any:
        from mlineage.dsl.runner import run_pipeline

        return run_pipeline(self, arguments)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name}>"


@overload
def pipeline(func: Callable[..., Any]) -> Pipeline: ...


@overload
def pipeline(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: Any = None,
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: Any = None,
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Declare a pipeline (KFP v2's arguments; `pipeline_config` is accepted and ignored)."""

    def decorate(function: Callable[..., Any]) -> Pipeline:
        return Pipeline(function, name, description, pipeline_root, display_name)

    return decorate if func is None else decorate(func)
