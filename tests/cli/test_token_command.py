"""`mlineage token create|list|revoke`: what an operator types and reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlineage.cli.app import main
from mlineage.errors import UnauthenticatedError
from mlineage.store.tokens import Role, TokenStore, hash_secret


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def verify(store_path: Path, secret: str) -> tuple[str, Role]:
    tokens = TokenStore.open(str(store_path))
    try:
        info = tokens.verify(secret)
    finally:
        tokens.close()
    return info.project, info.role


def test_create_prints_the_secret_alone_on_stdout_and_how_to_use_it_on_stderr(
    capsys: pytest.CaptureFixture[str], store_path: Path
) -> None:
    code, out, err = run(
        capsys, "token", "create", "--project", "team-a", "--role", "writer",
        "--description", "nightly training", "--store", str(store_path),
    )  # fmt: skip
    assert code == 0
    secret = out.strip()
    assert "\n" not in secret
    assert secret.startswith("mlt_")
    assert verify(store_path, secret) == ("team-a", Role.WRITER)
    assert "writer in project team-a" in err
    assert "shown only this once" in err
    # The usage notes name the variable: the secret is printed once, alone on stdout.
    assert secret not in err
    assert "Authorization: Bearer $MLINEAGE_TOKEN" in err
    assert 'credentials=os.environ["MLINEAGE_TOKEN"]' in err


def test_list_shows_tokens_but_never_secrets(
    capsys: pytest.CaptureFixture[str], store_path: Path
) -> None:
    store = ["--store", str(store_path)]
    _, reader, _ = run(capsys, "token", "create", "--project", "team-a", "--role", "reader", *store)
    _, admin, _ = run(
        capsys, "token", "create", "--project", "team-b", "--role", "admin",
        "--expires-in-days", "30", "--description", "ops", *store,
    )  # fmt: skip
    code, out, _ = run(capsys, "token", "list", *store)
    assert code == 0
    for header in ("ID", "PROJECT", "ROLE", "STATUS", "CREATED", "EXPIRES", "DESCRIPTION"):
        assert header in out
    rows = [line for line in out.splitlines() if "team-" in line]
    assert len(rows) == 2
    assert "reader" in rows[0]
    assert "active" in rows[0]
    assert "admin" in rows[1]
    assert "ops" in rows[1]
    for secret in (reader.strip(), admin.strip()):
        assert secret not in out
        assert hash_secret(secret) not in out
        assert secret.split("_")[1] in out  # the token id inside the secret
    _, only_b, _ = run(capsys, "token", "list", "--project", "team-b", *store)
    assert "team-b" in only_b
    assert "team-a" not in only_b


def test_revoke_marks_the_token_and_it_stops_verifying(
    capsys: pytest.CaptureFixture[str], store_path: Path
) -> None:
    store = ["--store", str(store_path)]
    _, secret, _ = run(capsys, "token", "create", "--project", "team-a", "--role", "admin", *store)
    token_id = secret.strip().split("_")[1]
    code, out, _ = run(capsys, "token", "revoke", token_id, *store)
    assert code == 0
    assert f"Revoked token {token_id} (admin in project team-a)" in out
    assert "within 5 seconds" in out
    with pytest.raises(UnauthenticatedError, match="revoked"):
        verify(store_path, secret.strip())
    _, listed, _ = run(capsys, "token", "list", *store)
    assert "revoked" in listed


def test_an_empty_list_says_what_the_server_does_then(
    capsys: pytest.CaptureFixture[str], store_path: Path
) -> None:
    code, out, err = run(capsys, "token", "list", "--store", str(store_path))
    assert code == 0
    assert out == ""
    assert "No tokens" in err
    assert "loopback clients only" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--project", "team-a", "--role", "owner"], "role: must be one of"),
        (["create", "--project", "a b", "--role", "reader"], "project:"),
        (["revoke", "0123456789ab"], "token '0123456789ab' not found"),
    ],
)
def test_bad_input_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], store_path: Path, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "token", *args, "--store", str(store_path))
    assert code == 1
    assert out == ""
    assert message in err


def test_a_server_address_is_not_a_token_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "token", "list", "--store", "http://127.0.0.1:8080")
    assert code == 1
    assert "the server's database" in err


def test_the_store_comes_from_mlineage_store_by_default(
    capsys: pytest.CaptureFixture[str], store_path: Path
) -> None:
    # the fresh_sdk fixture points MLINEAGE_STORE at store_path
    _, secret, _ = run(capsys, "token", "create", "--project", "p", "--role", "reader")
    assert verify(store_path, secret.strip()) == ("p", Role.READER)


def test_tokens_on_postgresql(capsys: pytest.CaptureFixture[str], postgres_url: str) -> None:
    store = ["--store", postgres_url]
    _, secret, _ = run(capsys, "token", "create", "--project", "team-a", "--role", "reader", *store)
    code, out, _ = run(capsys, "token", "list", *store)
    assert code == 0
    assert secret.strip().split("_")[1] in out
    tokens = TokenStore.open(postgres_url)
    try:
        assert tokens.verify(secret.strip()).project == "team-a"
    finally:
        tokens.close()


def test_the_secret_can_be_captured_by_a_shell(store_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlineage.cli", "token", "create", "--project", "team-a",
         "--role", "reader", "--store", str(store_path)],
        capture_output=True, text=True, check=True, env={**os.environ, "COLUMNS": "60"},
    )  # fmt: skip
    secret = result.stdout.strip()
    assert verify(store_path, secret) == ("team-a", Role.READER)
    assert "MLINEAGE_TOKEN" in result.stderr  # the usage notes, on stderr
    assert secret not in result.stderr  # which do not repeat the secret
