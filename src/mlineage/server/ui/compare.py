"""The compare page's content: runs side by side, and the diff of two runs or two models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.sdk.diff import MISSING, ArtifactChange, Diff, StepChange, ValueChange, diff
from mlineage.store import MetadataStore
from mlineage.types import Artifact, ResourceName, StoreName

from .templating import show

__all__ = ["Subject", "diff_sections", "resolve_subjects", "side_by_side"]

MAX_SUBJECTS = 20


@dataclass(frozen=True, slots=True)
class Subject:
    name: str
    label: str
    kind: Literal["run", "artifact"]


@dataclass(slots=True)
class Line:
    """One row of a side-by-side table: a key and each side's value, shown as text."""

    key: str
    values: list[str]
    status: str = "same"
    """"same", "changed", "added" or "removed"."""
    delta: str = ""
    notes: list[str] = field(default_factory=list)


def _subject(store: MetadataStore, parent: StoreName, item: str) -> Subject:
    text = item.strip()
    if "/" not in text:  # a bare id: a run's context id, else an artifact id
        for kind in ("contexts", "artifacts"):
            try:
                return _subject(store, parent, str(parent.child(kind, text)))
            except NotFoundError:
                continue
        raise NotFoundError(f"no run or artifact {text!r} in {parent}")
    name = ResourceName.parse(text)
    if name.parent != parent:
        raise InvalidArgumentError("item", f"{text!r} is not in {parent}")
    if name.kind == "contexts":
        run = store.get_run(text)
        return Subject(text, run.context.display_name or name.resource_id, "run")
    if name.kind == "artifacts":
        artifact = store.get(text, Artifact)
        label = artifact.display_name or name.resource_id
        return Subject(text, label, "artifact")
    raise InvalidArgumentError("item", f"{text!r} must be a run or an artifact")


def resolve_subjects(
    store: MetadataStore, parent: StoreName, items: Sequence[str]
) -> list[Subject]:
    """The runs and artifacts to compare, given as resource names or ids in `parent`."""
    chosen = list(dict.fromkeys(i for i in items if i.strip()))
    if len(chosen) > MAX_SUBJECTS:
        raise InvalidArgumentError("item", f"at most {MAX_SUBJECTS} runs or artifacts at once")
    return [_subject(store, parent, item) for item in chosen]


def side_by_side(store: MetadataStore, runs: Sequence[Subject]) -> dict[str, list[Line]]:
    """Params and metrics of several runs, one column per run, keys in order."""
    sections: dict[str, list[Line]] = {}
    for title, read in (("Parameters", store.get_params), ("Metrics", store.get_metrics)):
        values: list[dict[str, Any]] = [dict(read(run.name)) for run in runs]
        keys = sorted(set().union(*values)) if values else []
        lines = []
        for key in keys:
            row = [side.get(key) for side in values]
            same = all(v == row[0] for v in row[1:])
            lines.append(
                Line(
                    key, ["" if v is None else show(v) for v in row], "same" if same else "changed"
                )
            )
        sections[title] = lines
    return sections


def _text(value: Any) -> str:
    return "" if value is MISSING else show(value)


def _value_line(change: ValueChange) -> Line:
    status = "changed"
    if change.before is MISSING:
        status = "added"
    elif change.after is MISSING:
        status = "removed"
    delta = change.delta
    return Line(
        change.key,
        [_text(change.before), _text(change.after)],
        status,
        f"{delta:+.6g}" if delta is not None else "",
    )


def _artifact_text(artifact: Artifact | None) -> str:
    if artifact is None:
        return ""
    text = artifact.uri or artifact.name
    return f"{text} ({artifact.fingerprint[:19]})" if artifact.fingerprint else text


def _data_line(change: ArtifactChange) -> Line:
    if change.before is None:
        status = "added"
    elif change.after is None:
        status = "removed"
    else:
        status = "changed"
    notes = [c.render() for c in change.changes]
    return Line(
        change.key,
        [_artifact_text(change.before), _artifact_text(change.after)],
        status,
        notes=notes,
    )


def _step_line(change: StepChange) -> Line:
    present = {"added": ("", "ran"), "removed": ("ran", ""), "changed": ("ran", "ran")}
    label = change.label if change.key == change.label else f"{change.label} (-> {change.key})"
    return Line(
        label,
        list(present[change.status]),
        change.status,
        notes=[c.render() for c in change.params],
    )


def diff_sections(
    store: MetadataStore, a: Subject, b: Subject
) -> tuple[Diff, dict[str, list[Line]]]:
    """`mlineage.diff` of two subjects, as rows of a two-column table per section."""
    result = diff(a.name, b.name, store=store)
    sections = {
        "Parameters": [_value_line(c) for c in result.params],
        "Metrics": [_value_line(c) for c in result.metrics],
        "Input data": [_data_line(c) for c in result.data],
        "Upstream steps": [_step_line(c) for c in result.steps],
        "Code": [_value_line(c) for c in result.code],
        "Environment": [_value_line(c) for c in result.environment],
    }
    return result, sections
