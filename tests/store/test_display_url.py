"""Store URLs as messages show them: never with a password."""

from __future__ import annotations

import pytest

from mlineage.store import display_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pa%40ss@db:5432/m", "postgresql://u:***@db:5432/m"),
        (
            "postgresql+psycopg://u:p:w@h/m?sslmode=require",
            "postgresql+psycopg://u:***@h/m?sslmode=require",
        ),
        (
            "postgresql://u@h/m?password=pw&sslmode=require",
            "postgresql://u@h/m?password=***&sslmode=require",
        ),
        ("https://user:tok@server.example", "https://user:***@server.example"),
        ("postgresql://u@h/m", "postgresql://u@h/m"),
        ("sqlite:////tmp/m.db", "sqlite:////tmp/m.db"),
        ("/home/me/.mlineage/metadata.db", "/home/me/.mlineage/metadata.db"),
    ],
)
def test_display_url_hides_the_password(url: str, shown: str) -> None:
    assert display_url(url) == shown
