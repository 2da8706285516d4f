"""`mlineage server` warns when it listens beyond loopback but no token exists yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlineage.cli.server import _warn_if_unreachable
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import TokenStore


def test_a_public_address_without_tokens_is_warned_about(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqlStore(str(store_path)).close()
    _warn_if_unreachable(str(store_path), "0.0.0.0", insecure=False)
    assert "only loopback clients are served" in capsys.readouterr().err


def test_no_warning_on_loopback_with_a_token_or_when_insecure(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqlStore(str(store_path)).close()
    _warn_if_unreachable(str(store_path), "127.0.0.1", insecure=False)
    _warn_if_unreachable(str(store_path), "0.0.0.0", insecure=True)
    tokens = TokenStore.open(str(store_path))
    tokens.create(project="p", role="reader")
    tokens.close()
    _warn_if_unreachable(str(store_path), "0.0.0.0", insecure=False)
    assert capsys.readouterr().err == ""
