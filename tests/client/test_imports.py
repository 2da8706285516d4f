"""The REST client is light: importing it loads no database library."""

from __future__ import annotations

import subprocess
import sys

LOADED = (
    "import sys, mlineage.client.store\n"
    "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg')))"
)


def test_the_rest_client_imports_no_database_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
