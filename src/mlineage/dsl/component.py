"""`@dsl.component`: a typed Python function becomes a KFP-shaped component.

Called inside a `@dsl.pipeline` function, a component adds a task to the pipeline. Called
anywhere else, with concrete values and artifacts, it runs at once as a one-task pipeline run
(recorded like any other) and returns the finished task: `task.outputs["model"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

from mlineage.dsl.artifacts import Artifact
from mlineage.dsl.graph import PipelineTask, TaskOutput, current_graph
from mlineage.dsl.signature import Signature, check_value, read_signature
from mlineage.dsl.source import code_identity

__all__ = ["Component", "component"]


class Component:
    """A component: its function, signature, and the KFP settings it was declared with."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        base_image: str | None = None,
        packages_to_install: Sequence[str] | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.func = func
        self.name = func.__name__.replace("_", "-").lower()
        self.description = (func.__doc__ or "").strip()
        self.signature: Signature = read_signature(func)
        self.base_image = base_image
        self.packages_to_install = list(packages_to_install or [])
        self.options = dict(options or {})
        self._code: str | None = None
        self.__wrapped__ = func
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__

    @property
    def code(self) -> str:
        """The component's source text (what its cache key hashes)."""
        if self._code is None:
            self._code = code_identity(self.func)
        return self._code

    def local_settings(self) -> dict[str, Any]:
        """The declared settings that have no effect locally, for the execution's metadata."""
        settings: dict[str, Any] = {}
        if self.base_image is not None:
            settings["base_image"] = self.base_image
        if self.packages_to_install:
            settings["packages_to_install"] = self.packages_to_install
        settings.update(self.options)
        return settings

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check a call's arguments against the signature; defaults filled in."""
        signature = self.signature
        for name in arguments:
            if name in signature.outputs:
                raise TypeError(
                    f"component {self.name}: {name!r} is an output artifact; outputs are "
                    "created by the runner, not passed in"
                )
            if name not in signature.parameters and name not in signature.inputs:
                known = [*signature.parameters, *signature.inputs]
                raise TypeError(
                    f"component {self.name}: unknown argument {name!r}; it takes {known}"
                )
        bound: dict[str, Any] = {}
        for name, parameter in signature.parameters.items():
            where = f"component {self.name}, argument {name!r}"
            if name in arguments:
                value = arguments[name]
                bound[name] = (
                    value if isinstance(value, TaskOutput) else check_value(parameter, value, where)
                )
            elif parameter.required:
                raise TypeError(f"{where} is required")
            else:
                bound[name] = parameter.default
        for name, cls in signature.inputs.items():
            if name not in arguments:
                raise TypeError(f"component {self.name}: input artifact {name!r} is required")
            bound[name] = _input_artifact(self.name, name, cls, arguments[name])
        return bound

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        if args:
            raise TypeError(
                f"component {self.name} takes keyword arguments only (as in KFP), "
                f"got {len(args)} positional"
            )
        bound = self.bind(kwargs)
        graph = current_graph()
        if graph is not None:
            return graph.add(self, bound)
        from mlineage.dsl.runner import run_component

        return run_component(self, bound)

    def __repr__(self) -> str:
        return f"<Component {self.name}>"


def _input_artifact(component: str, name: str, cls: type[Artifact], value: Any) -> Any:
    if isinstance(value, TaskOutput | Artifact):
        return value
    from mlineage.sdk.resources import Artifact as SdkArtifact

    if isinstance(value, SdkArtifact):  # a recorded artifact: use it, keep its identity
        from mlineage.dsl.artifacts import artifact_class_for

        found = artifact_class_for(value.schema_title)(
            name=value.display_name, uri=value.uri, metadata=dict(value.metadata)
        )
        found.resource_name = value.resource_name
        found.fingerprint = value.fingerprint
        return found
    raise TypeError(
        f"component {component}: input artifact {name!r} must be a task output or a "
        f"{cls.__name__} (e.g. {cls.__name__}(uri='data/x.csv')), got {type(value).__name__}"
    )


@overload
def component(func: Callable[..., Any]) -> Component: ...


@overload
def component(
    func: None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = None,
    output_component_file: str | None = None,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    additional_funcs: Sequence[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    task_config_passthroughs: Sequence[Any] | None = None,
) -> Callable[[Callable[..., Any]], Component]: ...


def component(
    func: Callable[..., Any] | None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: Sequence[str] | None = None,
    pip_index_urls: Sequence[str] | None = None,
    output_component_file: str | None = None,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    pip_trusted_hosts: Sequence[str] | None = None,
    use_venv: bool = False,
    additional_funcs: Sequence[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    task_config_passthroughs: Sequence[Any] | None = None,
) -> Component | Callable[[Callable[..., Any]], Component]:
    """Make a component of a typed function, with KFP v2's arguments.

    Components run locally in this Python environment: no image is pulled and nothing is
    installed. The settings that cannot apply are recorded in each execution's metadata
    (`_local`); a package of `packages_to_install` that is not installed here fails the task,
    naming the package, before the function runs.
    """
    given = {
        "target_image": target_image,
        "pip_index_urls": list(pip_index_urls) if pip_index_urls else None,
        "output_component_file": output_component_file,
        "install_kfp_package": install_kfp_package if install_kfp_package is not True else None,
        "kfp_package_path": kfp_package_path,
        "pip_trusted_hosts": list(pip_trusted_hosts) if pip_trusted_hosts else None,
        "use_venv": use_venv or None,
        "additional_funcs": [f.__name__ for f in additional_funcs] if additional_funcs else None,
        "embedded_artifact_path": embedded_artifact_path,
        "task_config_passthroughs": (
            [str(p) for p in task_config_passthroughs] if task_config_passthroughs else None
        ),
    }
    options = {key: value for key, value in given.items() if value is not None}

    def decorate(function: Callable[..., Any]) -> Component:
        return Component(
            function,
            base_image=base_image,
            packages_to_install=packages_to_install,
            options=options,
        )

    return decorate if func is None else decorate(func)
