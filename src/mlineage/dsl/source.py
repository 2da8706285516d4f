"""A component's source text: what its cache key hashes and what a subprocess runs."""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

__all__ = ["code_identity", "function_source", "runnable_source"]


def function_source(func: Callable[..., Any]) -> str | None:
    """The function's source text as written (decorators included), None when unknown."""
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None


def code_identity(func: Callable[..., Any]) -> str:
    """The source text, or (for functions without source) a digest of their bytecode."""
    source = function_source(func)
    if source is not None:
        return source
    code = func.__code__
    digest = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()
    return f"bytecode:{digest}"


def runnable_source(func: Callable[..., Any]) -> str:
    """The function alone, ready to `exec` elsewhere: decorators and annotations removed
    (the runner already knows the types; annotations could name things not defined there)."""
    source = function_source(func)
    if source is None:
        raise ValueError(
            f"component {func.__name__} has no source file, so it cannot run in a subprocess"
        )
    tree = ast.parse(source)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise ValueError(f"component {func.__name__}: its source is not a plain function")
    node.decorator_list = []
    node.returns = None
    arguments = node.args
    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        arg.annotation = None
    return ast.unparse(node)
