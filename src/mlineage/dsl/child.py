"""Entry point of a task's subprocess: `python -m mlineage.dsl.child request.json result.json`.

Runs the component's source with the artifact classes in scope and writes
`{"ok": true, "outputs": {...}, "artifacts": {...}}` or `{"ok": false, "error": "..."}`.
"""

from __future__ import annotations

import json
import sys
import traceback
import typing
from typing import Any

from mlineage import dsl
from mlineage.dsl.artifacts import Artifact, artifact_class_for
from mlineage.dsl.executor import returned_values
from mlineage.dsl.signature import Signature


def _namespace() -> dict[str, Any]:
    names: dict[str, Any] = {"__name__": "__mlineage_component__", "dsl": dsl}
    names.update({name: getattr(dsl, name) for name in dsl.__all__})
    names.update({name: getattr(typing, name) for name in ("NamedTuple", "Optional", "List")})
    return names


def _run(request: dict[str, Any]) -> dict[str, Any]:
    namespace = _namespace()
    exec(compile(request["source"], "<component>", "exec"), namespace)
    func = namespace[request["function"]]
    artifacts: dict[str, Artifact] = {}
    for name, data in request["artifacts"].items():
        cls = artifact_class_for(data["schema_title"])
        artifacts[name] = cls(name=data["name"], uri=data["uri"], metadata=data["metadata"])
    signature = Signature(returns=dict.fromkeys(request["returns"], object))
    signature.namedtuple = request["namedtuple"]
    value = func(**request["parameters"], **artifacts)
    return {
        "ok": True,
        "outputs": returned_values(signature, value),
        "artifacts": {
            name: {"uri": a.uri, "metadata": a.metadata} for name, a in artifacts.items()
        },
    }


def main(argv: list[str]) -> int:
    request_path, result_path = argv
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    try:
        result = _run(request)
        text = json.dumps(result)
    except BaseException as exc:
        traceback.print_exc()
        text = json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    with open(result_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0 if '"ok": true' in text else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
