"""The store contract over HTTP: `RestStore` talks to an mlineage server's REST API."""

from __future__ import annotations

from mlineage.client.store import RestStore
from mlineage.client.transport import RetryPolicy

__all__ = ["RestStore", "RetryPolicy"]
