"""Execution caching: a task's cache key, and the earlier execution that matches it.

The key is the sha256 of the component's source text (and local settings), its parameter
values, and each input artifact's content: its fingerprint; for an artifact with no
fingerprint, its metadata when its local path holds nothing (e.g. a Metrics artifact), else
its URI.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from mlineage import types
from mlineage.dsl.artifacts import Artifact
from mlineage.fingerprint import fingerprint, local_path
from mlineage.store import MetadataStore
from mlineage.types import EventType, StoreName

__all__ = ["CACHE_KEY", "cache_key", "find_cached"]

CACHE_KEY = "_cache_key"
"""The execution metadata key holding the cache key."""


def _content(artifact: Artifact) -> str:
    if artifact.fingerprint:
        return artifact.fingerprint
    path = local_path(artifact.uri) if artifact.uri else None
    if path is not None and path.exists():
        return f"uri:{artifact.uri}"
    # No content to hash (a remote URI, or metadata only): its place and its metadata.
    text = json.dumps(artifact.metadata, sort_keys=True, default=repr)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{artifact.schema_title}:{artifact.uri}:metadata:{digest}"


def cache_key(
    code: str,
    settings: Mapping[str, Any],
    parameters: Mapping[str, Any],
    inputs: Mapping[str, Artifact],
) -> str:
    payload = {
        "code": code,
        "settings": settings,
        "parameters": parameters,
        "inputs": {name: _content(artifact) for name, artifact in inputs.items()},
    }
    text = json.dumps(payload, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def find_cached(
    store: MetadataStore, parent: StoreName, key: str
) -> tuple[types.Execution, dict[str, types.Artifact]] | None:
    """The newest COMPLETE execution with this key and its outputs by name, if its local
    output files are all still there."""
    page = store.list(
        parent,
        types.Execution,
        filter=f'metadata.{CACHE_KEY}.string_value = "{key}" AND state = COMPLETE',
        order_by="create_time desc",
        page_size=1,
    )
    if not page.items:
        return None
    execution = page.items[0]
    graph = store.query_execution_inputs_and_outputs(execution.name)
    produced = {e.artifact for e in graph.events if e.type is EventType.OUTPUT}
    outputs = {a.display_name: a for a in graph.artifacts if a.name in produced}
    for artifact in outputs.values():
        path = local_path(artifact.uri) if artifact.fingerprint else None
        if path is not None and fingerprint(artifact.uri) != artifact.fingerprint:
            return None  # an output was deleted or changed since: run again
    return execution, outputs
