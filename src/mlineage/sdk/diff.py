"""`mlineage.diff(a, b)`: what changed between two models (artifacts) or two runs.

One answer to the on-call question: parameters, metrics with deltas, the data upstream
(URI, content fingerprint, metadata), the upstream steps and their parameters, the code
version and the environment, and whether the two share anything upstream at all.

How the two sides are lined up:

- A model's own parameters, metrics and provenance are those of the run that produced it
  (the run whose execution recorded it as an output); a run's are its own.
- Upstream data is everything the subject's upstream lineage reaches (URI-linked, see
  `store.lineage`), paired by display name, else by URI.
- Upstream steps are the executions of that lineage, paired by where their output went
  (the URIs they produced), else by display name. A step's parameters are its run's
  parameters, or its execution metadata when it is not a run (e.g. a pipeline task).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlineage import types
from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.sdk.config import settings
from mlineage.sdk.experiments import ExperimentRun
from mlineage.sdk.resources import Artifact
from mlineage.store import MetadataStore, RunInfo
from mlineage.types import EventType, LineageGraph

__all__ = ["ArtifactChange", "Diff", "StepChange", "ValueChange", "diff"]


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()
"""Stands for a value that one side does not have."""


@dataclass(frozen=True)
class ValueChange:
    """One key whose value differs: added (before is MISSING), removed, or changed."""

    key: str
    before: Any = MISSING
    after: Any = MISSING

    @property
    def delta(self) -> float | None:
        numbers = (self.before, self.after)
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            return float(self.after) - float(self.before)
        return None

    def render(self) -> str:
        if self.before is MISSING:
            return f"+ {self.key}: {_show(self.after)}"
        if self.after is MISSING:
            return f"- {self.key}: {_show(self.before)}"
        text = f"{self.key}: {_show(self.before)} -> {_show(self.after)}"
        delta = self.delta
        if delta is not None and math.isfinite(delta):
            text += f" ({delta:+.6g})"
        return text


@dataclass(frozen=True)
class ArtifactChange:
    """Upstream data that appeared, disappeared, or differs (URI, content, metadata)."""

    key: str
    before: types.Artifact | None
    after: types.Artifact | None
    changes: tuple[ValueChange, ...] = ()

    def render(self) -> str:
        if self.before is None and self.after is not None:
            return f"+ {self.key} ({self.after.uri or 'no uri'})"
        if self.after is None and self.before is not None:
            return f"- {self.key} ({self.before.uri or 'no uri'})"
        return f"{self.key}: " + "; ".join(c.render() for c in self.changes)


@dataclass(frozen=True)
class StepChange:
    """An upstream step that appeared, disappeared, or ran with other parameters."""

    key: str
    label: str
    status: str
    """"added", "removed" or "changed"."""
    params: tuple[ValueChange, ...] = ()

    def render(self) -> str:
        where = f" (-> {self.key})" if self.key != self.label else ""
        if self.status != "changed":
            return f"{'+' if self.status == 'added' else '-'} {self.label}{where}"
        return f"{self.label}{where}: " + "; ".join(c.render() for c in self.params)


@dataclass
class Diff:
    """The differences between `before` and `after`; `str(diff)` reads them out."""

    before: str
    after: str
    params: list[ValueChange] = field(default_factory=list)
    metrics: list[ValueChange] = field(default_factory=list)
    data: list[ArtifactChange] = field(default_factory=list)
    steps: list[StepChange] = field(default_factory=list)
    code: list[ValueChange] = field(default_factory=list)
    environment: list[ValueChange] = field(default_factory=list)
    shared_upstream: bool = True
    """False when the two have no data and no step in common upstream."""
    truncated: bool = False
    """True when a lineage was too large to read whole: the upstream part is partial."""

    def __bool__(self) -> bool:
        sections = (self.params, self.metrics, self.data, self.steps, self.code, self.environment)
        return any(sections) or not self.shared_upstream

    def __str__(self) -> str:
        lines = [f"What changed: {self.before} -> {self.after}"]
        if not self.shared_upstream:
            lines.append("  They share nothing upstream: no data and no step in common.")
        if self.truncated:
            lines.append("  (The lineage was too large to read whole: upstream is partial.)")
        sections: list[tuple[str, Iterable[ValueChange | ArtifactChange | StepChange]]] = [
            ("Parameters", self.params),
            ("Metrics", self.metrics),
            ("Input data", self.data),
            ("Upstream steps", self.steps),
            ("Code", self.code),
            ("Environment", self.environment),
        ]
        for title, changes in sections:
            rendered = [change.render() for change in changes]
            if rendered:
                lines.append(f"{title}:")
                lines += [f"  {line}" for line in rendered]
        if not self:
            lines.append("  Nothing: same parameters, metrics, data, steps, code and environment.")
        return "\n".join(lines)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ValueChange]:
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if not _same(old, new):
            changes.append(ValueChange(key, old, new))
    return changes


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool | str):
        return not isinstance(b, bool) and a == b  # 1 and 1.0 are the same parameter value
    return bool(a == b) and type(a) is type(b)


@dataclass
class _Step:
    key: str
    label: str
    params: dict[str, Any]


@dataclass
class _Side:
    """What one subject stands on."""

    label: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    found: dict[str, tuple[str, str, types.Artifact]] = field(default_factory=dict)
    """Upstream artifacts by resource name: (label, label of the step that made it, artifact)."""
    steps: dict[str, _Step] = field(default_factory=dict)
    truncated: bool = False

    @property
    def data(self) -> dict[str, types.Artifact]:
        """Upstream data keyed for pairing: by label, or, when several artifacts share a
        label (pipeline outputs often do), by label and place, else label and maker."""
        labels = Counter(label for label, _, _ in self.found.values())
        keyed: dict[str, types.Artifact] = {}
        # A record an execution wrote comes before records of reading it: it says more.
        for label, producer, artifact in sorted(
            self.found.values(), key=lambda item: (item[0], item[1] == "input", item[2].name)
        ):
            if labels[label] == 1:
                key = label
            else:
                key = f"{label} ({artifact.uri})" if artifact.uri else f"{label} <- {producer}"
            keyed.setdefault(key, artifact)
        return keyed


class _Reader:
    """Reads both sides from one store, remembering runs it has looked up."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self._runs: dict[str, RunInfo | None] = {}

    def run_of(self, execution: types.Execution) -> RunInfo | None:
        """The experiment run whose log_input/log_output events `execution` carries."""
        return self._run_named(execution.metadata.get("experiment_run"))

    def _run_named(self, name: Any) -> RunInfo | None:
        if not isinstance(name, str):
            return None
        if name not in self._runs:
            try:
                self._runs[name] = self.store.get_run(name)
            except NotFoundError:  # the run was deleted: fall back to the execution's metadata
                self._runs[name] = None
        return self._runs[name]

    def step_params(self, execution: types.Execution) -> dict[str, Any]:
        run = self.run_of(execution)
        if run is not None:
            return self.store.get_params(run.context.name)
        return {k: v for k, v in execution.metadata.items() if not k.startswith("_")}

    def side_of_run(self, run: RunInfo, label: str) -> _Side:
        side = _Side(
            label,
            params=dict(self.store.get_params(run.context.name)),
            metrics=dict(self.store.get_metrics(run.context.name)),
            provenance=dict(run.provenance),
        )
        graph = self.store.query_context_lineage_subgraph(run.context.name)
        inputs = {e.artifact for e in graph.events if e.type is EventType.INPUT}
        for artifact in graph.artifacts:
            if artifact.name in inputs:
                self._add_upstream(side, artifact.name, exclude=set())
        return side

    def side_of_artifact(self, artifact: types.Artifact, label: str) -> _Side:
        graph = self.store.query_artifact_lineage_subgraph(artifact.name, direction="upstream")
        producers = {
            e.execution
            for e in graph.events
            if e.type is EventType.OUTPUT and e.artifact == artifact.name
        }
        side = _Side(label)
        for execution in graph.executions:
            run = self.run_of(execution) if execution.name in producers else None
            if run is not None:
                side.params = dict(self.store.get_params(run.context.name))
                side.metrics = dict(self.store.get_metrics(run.context.name))
                side.provenance = dict(run.provenance)
                break
        else:  # a pipeline task: its own parameters, its pipeline run's metrics
            for execution in graph.executions:
                if execution.name in producers:
                    side.params = self.step_params(execution)
                    pipeline = self._run_named(execution.metadata.get("_pipeline_run"))
                    if pipeline is not None:
                        side.metrics = dict(self.store.get_metrics(pipeline.context.name))
                        side.provenance = dict(pipeline.provenance)
        self._collect(side, graph, exclude={artifact.name} | producers)
        return side

    def _add_upstream(self, side: _Side, artifact: str, exclude: set[str]) -> None:
        graph = self.store.query_artifact_lineage_subgraph(artifact, direction="upstream")
        self._collect(side, graph, exclude)

    def _collect(self, side: _Side, graph: LineageGraph, exclude: set[str]) -> None:
        """Add the graph's data and steps to `side`, except the nodes named in `exclude`."""
        side.truncated = side.truncated or graph.truncated
        labels = {e.name: e.display_name or e.schema_title for e in graph.executions}
        outputs: dict[str, list[str]] = {}
        producers: dict[str, str] = {}
        by_name = {a.name: a for a in graph.artifacts}
        for event in graph.events:
            produced = by_name.get(event.artifact)
            if event.type is EventType.OUTPUT and produced is not None:
                producers[produced.name] = labels.get(event.execution, "?")
                if produced.uri:
                    outputs.setdefault(event.execution, []).append(produced.uri)
        for artifact in graph.artifacts:
            if artifact.name not in exclude:
                label = artifact.display_name or artifact.uri or artifact.name
                producer = producers.get(artifact.name, "input")
                side.found.setdefault(artifact.name, (label, producer, artifact))
        for execution in graph.executions:
            if execution.name in exclude:  # the subject's own step: its params are above
                continue
            label = execution.display_name or execution.schema_title
            key = ", ".join(sorted(set(outputs.get(execution.name, [])))) or label
            side.steps.setdefault(key, _Step(key, label, self.step_params(execution)))


def _data_changes(before: _Side, after: _Side) -> list[ArtifactChange]:
    changes = []
    for key in sorted(before.data.keys() | after.data.keys()):
        old, new = before.data.get(key), after.data.get(key)
        if old is None or new is None:
            changes.append(ArtifactChange(key, old, new))
            continue
        differences = _compare({"uri": old.uri}, {"uri": new.uri})
        if old.fingerprint != new.fingerprint:
            differences.append(
                ValueChange("content", old.fingerprint or MISSING, new.fingerprint or MISSING)
            )
        differences += [
            ValueChange(f"metadata.{c.key}", c.before, c.after)
            for c in _compare(old.metadata, new.metadata)
        ]
        if differences:
            changes.append(ArtifactChange(key, old, new, tuple(differences)))
    return changes


def _pair_steps(before: _Side, after: _Side) -> list[tuple[_Step | None, _Step | None]]:
    """Pair upstream steps: by where their output went, then (for the rest, e.g. pipeline
    runs that each write to a folder of their own) by their name when it is unambiguous."""
    pairs: list[tuple[_Step | None, _Step | None]] = []
    for key in sorted(before.steps.keys() & after.steps.keys()):
        pairs.append((before.steps[key], after.steps[key]))
    old_rest = [s for k, s in before.steps.items() if k not in after.steps]
    new_rest = [s for k, s in after.steps.items() if k not in before.steps]
    old_labels = [s.label for s in old_rest]
    new_labels = [s.label for s in new_rest]
    for step in list(old_rest):
        if old_labels.count(step.label) == 1 and new_labels.count(step.label) == 1:
            match = next(s for s in new_rest if s.label == step.label)
            pairs.append((step, match))
            old_rest.remove(step)
            new_rest.remove(match)
    pairs += [(step, None) for step in old_rest] + [(None, step) for step in new_rest]
    return pairs


def _step_changes(before: _Side, after: _Side) -> list[StepChange]:
    changes = []
    for old, new in _pair_steps(before, after):
        if old is None and new is not None:
            changes.append(StepChange(new.key, new.label, "added"))
        elif new is None and old is not None:
            changes.append(StepChange(old.key, old.label, "removed"))
        elif old is not None and new is not None:
            params = _compare(old.params, new.params)
            if params:
                changes.append(StepChange(new.key, new.label, "changed", tuple(params)))
    return sorted(changes, key=lambda change: (change.label, change.key))


def _code(provenance: Mapping[str, Any]) -> dict[str, Any]:
    git = provenance.get("git", {})
    return {key: git[key] for key in ("commit", "branch", "dirty") if key in git}


def _environment(provenance: Mapping[str, Any]) -> dict[str, Any]:
    facts = {key: provenance[key] for key in ("python", "platform") if key in provenance}
    facts.update(provenance.get("packages", {}))
    return facts


def _shares_upstream(before: _Side, after: _Side) -> bool:
    """Whether the two have any data or step in common upstream."""
    if not (before.data or before.steps or after.data or after.steps):
        return True  # nothing recorded upstream on either side: nothing to say

    def data(side: _Side) -> set[str]:
        names = {a.name for a in side.data.values()}
        return names | {f"{a.uri}#{a.fingerprint}" for a in side.data.values() if a.uri}

    same_places = bool(before.steps.keys() & after.steps.keys())  # steps that wrote the same URI
    return same_places or bool(data(before) & data(after))


def _side(reader: _Reader, subject: Any) -> _Side:
    if isinstance(subject, ExperimentRun):
        return reader.side_of_run(reader.store.get_run(subject.resource_name), subject.name)
    if isinstance(subject, Artifact):
        return reader.side_of_artifact(subject.gca_resource, _artifact_label(subject.gca_resource))
    if isinstance(subject, types.Artifact):
        return reader.side_of_artifact(subject, _artifact_label(subject))
    if isinstance(subject, str) and "/artifacts/" in subject:
        artifact = reader.store.get(subject, types.Artifact)
        return reader.side_of_artifact(artifact, _artifact_label(artifact))
    if isinstance(subject, str) and "/contexts/" in subject:
        run = reader.store.get_run(subject)
        return reader.side_of_run(run, run.context.display_name)
    raise InvalidArgumentError(
        "subject",
        f"must be an Artifact, an ExperimentRun, or the resource name of either, got {subject!r}",
    )


def _artifact_label(artifact: types.Artifact) -> str:
    return f"{artifact.display_name or artifact.resource_id} ({artifact.uri or artifact.name})"


def diff(a: Any, b: Any, *, store: MetadataStore | None = None) -> Diff:
    """What changed from `a` to `b`: two models (Artifacts) or two runs (ExperimentRuns),
    given as SDK objects or resource names, read from `store` (default: the SDK's current
    store). `str(result)` reads the answer out."""
    reader = _Reader(store if store is not None else settings.store())
    before, after = _side(reader, a), _side(reader, b)
    return Diff(
        before=before.label,
        after=after.label,
        params=_compare(before.params, after.params),
        metrics=_compare(before.metrics, after.metrics),
        data=_data_changes(before, after),
        steps=_step_changes(before, after),
        code=_compare(_code(before.provenance), _code(after.provenance)),
        environment=_compare(_environment(before.provenance), _environment(after.provenance)),
        shared_upstream=_shares_upstream(before, after),
        truncated=before.truncated or after.truncated,
    )
