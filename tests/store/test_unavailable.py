"""A database that cannot be reached is UNAVAILABLE (clients retry it), not an internal error."""

from __future__ import annotations

import pytest

from mlineage.errors import UnavailableError
from mlineage.store.sql import SqlStore
from tests.live_server import free_port


def test_an_unreachable_postgresql_server_is_unavailable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing?connect_timeout=2"
    with pytest.raises(UnavailableError, match="cannot be read now"):
        SqlStore(url, auto_upgrade=False)
