"""What a user types on the command line -> the artifact or run it means.

An artifact is named by its resource name, its id, or its display name when only one
artifact has it. A run is named by its resource name, or by its name, within `--experiment`
or, without it, when only one experiment has a run of that name.
"""

from __future__ import annotations

from mlineage import types
from mlineage.errors import InvalidArgumentError, NotFoundError
from mlineage.sdk.config import settings
from mlineage.store import MetadataStore, RunInfo

__all__ = ["artifact", "experiment_name", "run", "subject"]

RUN_SCHEMAS = ("system.ExperimentRun", "system.PipelineRun")


def _store() -> MetadataStore:
    return settings.store()


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_id(text: str) -> bool:
    try:
        types.validate_resource_id(text)
    except InvalidArgumentError:
        return False
    return True


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (", ..." if len(names) > 5 else "")


def experiment_name(run: RunInfo) -> str:
    """The name of the experiment a run belongs to ("" when none)."""
    return run.experiment.rsplit("/", 1)[-1] if run.experiment else ""


def _artifact_by_id(ref: str) -> types.Artifact | None:
    if ref.startswith("projects/"):
        return _store().get(ref, types.Artifact)
    if not _is_id(ref):
        return None
    try:
        return _store().get(str(settings.store_name().child("artifacts", ref)), types.Artifact)
    except NotFoundError:
        return None


def _artifact_by_display_name(ref: str, field: str) -> types.Artifact | None:
    page = _store().list(
        settings.store_name(),
        types.Artifact,
        filter=f"display_name = {_quoted(ref)}",
        order_by="create_time desc",
        page_size=6,
    )
    if len(page.items) > 1:
        ids = [a.resource_id for a in page.items]
        raise InvalidArgumentError(
            field,
            f"{ref!r} is the display name of {'more than 5' if page.next_page_token else len(ids)}"
            f" artifacts ({_some(ids)}): give an id",
        )
    return page.items[0] if page.items else None


def artifact(ref: str, field: str = "ARTIFACT") -> types.Artifact:
    """The artifact `ref` names (resource name, id or unique display name)."""
    found = _artifact_by_id(ref) or _artifact_by_display_name(ref, field)
    if found is None:
        raise NotFoundError(f"no artifact has the id or display name {ref!r}")
    return found


def _run_in(ref: str, experiment: str) -> RunInfo | None:
    parent = settings.store_name()
    for run_id in (f"{experiment}-{ref}", ref):
        if not _is_id(run_id):
            continue
        try:
            info = _store().get_run(str(parent.child("contexts", run_id)))
        except NotFoundError:
            continue
        if experiment_name(info) == experiment:
            return info
    return None


def _find_run(ref: str, experiment: str | None, field: str) -> RunInfo | None:
    if ref.startswith("projects/"):
        return _store().get_run(ref)
    if experiment is not None:
        return _run_in(ref, experiment)
    schemas = " OR ".join(f"schema_title = {_quoted(s)}" for s in RUN_SCHEMAS)
    page = _store().list(
        settings.store_name(),
        types.Context,
        filter=f"display_name = {_quoted(ref)} AND ({schemas})",
        page_size=50,
    )
    runs = [_store().get_run(c.name) for c in page.items]
    if len(runs) > 1:
        where = sorted({experiment_name(r) or "(no experiment)" for r in runs})
        raise InvalidArgumentError(
            field, f"run {ref!r} is in several experiments ({_some(where)}): give --experiment"
        )
    return runs[0] if runs else None


def run(ref: str, experiment: str | None, field: str = "RUN") -> RunInfo:
    """The run `ref` names (resource name, or run name within `experiment`)."""
    found = _find_run(ref, experiment, field)
    if found is None:
        where = f" in experiment {experiment}" if experiment else ""
        raise NotFoundError(f"no run named {ref!r}{where}")
    return found


def subject(ref: str, experiment: str | None, field: str) -> str:
    """The resource name of the artifact or run `ref` names (for `diff`): with
    `--experiment` a run comes first, else an artifact id does."""
    if ref.startswith("projects/"):
        return ref
    if experiment is not None:
        found_run = _find_run(ref, experiment, field)
        if found_run is not None:
            return found_run.context.name
    by_id = _artifact_by_id(ref)
    if by_id is not None:
        return by_id.name
    if experiment is None:
        found_run = _find_run(ref, None, field)
        if found_run is not None:
            return found_run.context.name
    by_name = _artifact_by_display_name(ref, field)
    if by_name is not None:
        return by_name.name
    raise NotFoundError(f"no artifact or run is named {ref!r}")
