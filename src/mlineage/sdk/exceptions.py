"""Errors the SDK raises where the Vertex SDK raises a Python built-in exception.

Each is an mlineage error (with its code) and the built-in one, so code written against
the Vertex SDK (`except ValueError`, `except RuntimeError`) keeps working.
"""

from __future__ import annotations

from mlineage.errors import AlreadyExistsError, FailedPreconditionError, NotFoundError

__all__ = ["NoActiveRunError", "NoArtifactWithUriError", "RunAlreadyExistsError"]


class NoActiveRunError(FailedPreconditionError, ValueError):
    """A run-level call (`log_params`, `end_run`, ...) with no run started."""


class RunAlreadyExistsError(AlreadyExistsError, RuntimeError):
    """`start_run` of a run that exists, without `resume=True`."""


class NoArtifactWithUriError(NotFoundError, ValueError):
    """`Artifact.get_with_uri` found nothing."""
