"""Reads a component function's signature the way KFP v2 does.

Parameters annotated `Input[X]` are input artifacts, `Output[X]` output artifacts; a bare
artifact class is an input artifact. Every other parameter is a plain value of type str,
int, float, bool, list or dict (`list[int]`, `dict[str, float]`, `Optional[...]` are fine).
The return annotation names the output parameters: a NamedTuple gives one per field, any
other type one called `Output`.
"""

from __future__ import annotations

import inspect
import types as pytypes
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlineage.dsl.artifacts import Artifact, InputAnnotation, OutputAnnotation

__all__ = ["PARAMETER_TYPES", "Parameter", "Signature", "read_signature"]

PARAMETER_TYPES: tuple[type, ...] = (str, int, float, bool, list, dict)
SINGLE_OUTPUT = "Output"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: type
    default: Any = inspect.Parameter.empty

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty


@dataclass
class Signature:
    parameters: dict[str, Parameter] = field(default_factory=dict)
    inputs: dict[str, type[Artifact]] = field(default_factory=dict)
    """Input artifacts by argument name."""
    outputs: dict[str, type[Artifact]] = field(default_factory=dict)
    """Output artifacts by argument name."""
    returns: dict[str, type] = field(default_factory=dict)
    """Output parameters (from the return annotation) by name."""
    namedtuple: bool = False

    @property
    def output_names(self) -> list[str]:
        return [*self.outputs, *self.returns]


def _parameter_type(hint: Any, where: str) -> type:
    if hint is Any or hint is inspect.Parameter.empty:
        raise TypeError(f"{where}: give a type annotation (str, int, float, bool, list or dict)")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, pytypes.UnionType):
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) == 1:
            return _parameter_type(members[0], where)
    if origin is list or origin is dict:
        return list if origin is list else dict
    if isinstance(hint, type) and hint in PARAMETER_TYPES:
        return hint
    raise TypeError(
        f"{where}: type {hint!r} is not supported; parameters are str, int, float, bool, "
        "list or dict, artifacts Input[...] or Output[...] of an artifact class"
    )


def _artifact_class(hint: Any) -> tuple[type[Artifact], str] | None:
    """(class, "input" | "output") for an artifact annotation, None for anything else."""
    if typing.get_origin(hint) is typing.Annotated:
        base, *marks = typing.get_args(hint)
        if isinstance(base, type) and issubclass(base, Artifact):
            if OutputAnnotation in marks:
                return base, "output"
            if InputAnnotation in marks:
                return base, "input"
    if isinstance(hint, type) and issubclass(hint, Artifact):
        return hint, "input"
    return None


def _is_namedtuple(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def read_signature(func: Callable[..., Any]) -> Signature:
    """The component's parameters, input and output artifacts, and output parameters."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        raise TypeError(f"component {func.__name__}: cannot read its annotations: {exc}") from exc
    signature = Signature()
    for name, param in inspect.signature(func).parameters.items():
        where = f"component {func.__name__}, parameter {name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{where}: *args and **kwargs are not supported")
        hint = hints.get(name, inspect.Parameter.empty)
        artifact = _artifact_class(hint)
        if artifact is not None:
            cls, direction = artifact
            (signature.outputs if direction == "output" else signature.inputs)[name] = cls
            continue
        signature.parameters[name] = Parameter(name, _parameter_type(hint, where), param.default)
    returned = hints.get("return", None)
    if returned is not None and returned is not type(None):
        if _is_namedtuple(returned):
            signature.namedtuple = True
            field_hints = typing.get_type_hints(returned)
            for field_name in returned._fields:
                where = f"component {func.__name__}, output {field_name!r}"
                signature.returns[field_name] = _parameter_type(field_hints.get(field_name), where)
        else:
            where = f"component {func.__name__}, return value"
            signature.returns[SINGLE_OUTPUT] = _parameter_type(returned, where)
    clash = set(signature.returns) & set(signature.outputs)
    if clash:
        raise TypeError(f"component {func.__name__}: output names used twice: {sorted(clash)}")
    return signature


def check_value(parameter: Parameter, value: Any, where: str) -> Any:
    """`value` as `parameter`'s type (an int is a fine float), or a clear TypeError."""
    expected = parameter.type
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool or expected is int:
        ok = type(value) is expected or (
            expected is int and isinstance(value, int) and not isinstance(value, bool)
        )
    else:
        ok = isinstance(value, expected)
    if value is None and not parameter.required and parameter.default is None:
        ok = True
    if not ok:
        raise TypeError(f"{where}: expected {expected.__name__}, got {type(value).__name__}")
    return value
