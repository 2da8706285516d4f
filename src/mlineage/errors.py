"""The exceptions mlineage raises, one root with stable codes.

    MlineageError                 code        meaning
    ├── InvalidArgumentError      INVALID_ARGUMENT     bad input; names the field and the rule
    │   └── InvalidTypeError                           ... a value of the wrong type
    ├── NotFoundError             NOT_FOUND            no resource with that name
    ├── AlreadyExistsError        ALREADY_EXISTS       the id is taken
    ├── FailedPreconditionError   FAILED_PRECONDITION  the request is valid but the state forbids it
    ├── AbortedError              ABORTED              stale etag or a lost write race; retry
    ├── PermissionDeniedError     PERMISSION_DENIED    the caller may not do this
    ├── UnauthenticatedError      UNAUTHENTICATED      no valid credentials
    ├── UnavailableError          UNAVAILABLE          the store cannot be reached right now
    └── DeadlineExceededError     DEADLINE_EXCEEDED    the store stopped a query at its time limit

Python's own exceptions are bases where code written against the Vertex SDK expects them:
InvalidArgumentError is a ValueError, InvalidTypeError also a TypeError, NotFoundError a
LookupError. The SDK adds a few more such pairings (see `mlineage.sdk.exceptions`).
"""

from __future__ import annotations

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MlineageError",
    "NotFoundError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "UnavailableError",
]


class MlineageError(Exception):
    """Root of every error mlineage raises on purpose."""

    code: str = "UNKNOWN"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgumentError(MlineageError, ValueError):
    """The request is malformed: a field breaks a rule."""

    code = "INVALID_ARGUMENT"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InvalidTypeError(InvalidArgumentError, TypeError):
    """A value has the wrong type (a TypeError too, as Python code expects)."""


class NotFoundError(MlineageError, LookupError):
    code = "NOT_FOUND"


class AlreadyExistsError(MlineageError):
    code = "ALREADY_EXISTS"


class FailedPreconditionError(MlineageError):
    code = "FAILED_PRECONDITION"


class AbortedError(MlineageError):
    code = "ABORTED"


class PermissionDeniedError(MlineageError):
    code = "PERMISSION_DENIED"


class UnauthenticatedError(MlineageError):
    code = "UNAUTHENTICATED"


class UnavailableError(MlineageError):
    code = "UNAVAILABLE"


class DeadlineExceededError(MlineageError):
    """The database stopped a statement at its time limit (PostgreSQL's `statement_timeout`,
    set with the store URL's `statement_timeout`): narrow the query, or raise the limit."""

    code = "DEADLINE_EXCEEDED"
