"""Defaults of local pipeline runs, set by `dsl.init(...)` (as `kfp.local.init` does)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LocalSettings", "init", "local_settings"]


@dataclass
class LocalSettings:
    pipeline_root: str = "local_outputs"
    """Where outputs go: `<pipeline_root>/<pipeline>-<timestamp>/<task>/<output>`."""
    enable_caching: bool = True
    subprocess: bool = False
    """Run each task in its own Python process instead of in this one."""
    raise_on_error: bool = True
    """Raise PipelineTaskError when a task fails (after recording everything)."""


local_settings = LocalSettings()


def init(
    *,
    pipeline_root: str | None = None,
    enable_caching: bool | None = None,
    subprocess: bool | None = None,
    raise_on_error: bool | None = None,
) -> None:
    """Set the defaults of later `run_pipeline` calls and direct component calls."""
    if pipeline_root is not None:
        local_settings.pipeline_root = str(pipeline_root)
    if enable_caching is not None:
        local_settings.enable_caching = bool(enable_caching)
    if subprocess is not None:
        local_settings.subprocess = bool(subprocess)
    if raise_on_error is not None:
        local_settings.raise_on_error = bool(raise_on_error)
