"""Runs one component function with concrete values: in this process, or in a child one.

Either way the output artifacts' `metadata` (and `uri`, if the function moved it) come back
on the objects passed in, and the output parameters come back as a dict by output name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

from mlineage.dsl.artifacts import Artifact
from mlineage.dsl.signature import SINGLE_OUTPUT, Signature
from mlineage.dsl.source import runnable_source

__all__ = ["TaskError", "returned_values", "run_in_process", "run_in_subprocess"]


class TaskError(Exception):
    """The component function raised (or its process died); `message` says what happened."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def returned_values(signature: Signature, value: Any) -> dict[str, Any]:
    """The output parameters of a return value, by output name."""
    if not signature.returns:
        return {}
    if signature.namedtuple or len(signature.returns) > 1:
        if hasattr(value, "_asdict"):
            return dict(value._asdict())
        names = list(signature.returns)
        if not isinstance(value, tuple | list) or len(value) != len(names):
            raise TypeError(f"expected a tuple of {len(names)} values ({names}), got {value!r}")
        return dict(zip(names, value, strict=True))
    return {SINGLE_OUTPUT: value}


def run_in_process(
    func: Callable[..., Any],
    signature: Signature,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, Artifact],
) -> dict[str, Any]:
    """Call `func`; its exceptions propagate unchanged."""
    return returned_values(signature, func(**parameters, **artifacts))


def _artifact_json(artifact: Artifact) -> dict[str, Any]:
    return {
        "schema_title": artifact.schema_title,
        "name": artifact.name,
        "uri": artifact.uri,
        "metadata": artifact.metadata,
    }


def run_in_subprocess(
    func: Callable[..., Any],
    signature: Signature,
    parameters: Mapping[str, Any],
    artifacts: Mapping[str, Artifact],
    workdir: str,
) -> dict[str, Any]:
    """Run `func`'s source in a fresh `python -m mlineage.dsl.child` with this interpreter."""
    os.makedirs(workdir, exist_ok=True)
    request = {
        "source": runnable_source(func),
        "function": func.__name__,
        "parameters": dict(parameters),
        "artifacts": {name: _artifact_json(a) for name, a in artifacts.items()},
        "returns": list(signature.returns),
        "namedtuple": signature.namedtuple,
    }
    with tempfile.TemporaryDirectory(dir=workdir, prefix=".executor-") as scratch:
        request_path = os.path.join(scratch, "executor_input.json")
        result_path = os.path.join(scratch, "executor_output.json")
        with open(request_path, "w", encoding="utf-8") as handle:
            json.dump(request, handle)
        completed = subprocess.run(
            [sys.executable, "-m", "mlineage.dsl.child", request_path, result_path],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            with open(result_path, encoding="utf-8") as handle:
                result = json.load(handle)
        except (OSError, ValueError):
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
            raise TaskError(
                f"the task's process exited with code {completed.returncode} without a result: "
                + " | ".join(tail)
            ) from None
    if not result.get("ok"):
        raise TaskError(str(result.get("error", "the task failed")))
    for name, state in result.get("artifacts", {}).items():
        if name in artifacts:
            artifacts[name].uri = state["uri"]
            artifacts[name].metadata = state["metadata"]
    outputs: dict[str, Any] = result.get("outputs", {})
    return outputs
