"""Token storage on SQLite and PostgreSQL: secrets shown once, only hashes kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlineage.errors import InvalidArgumentError, NotFoundError, UnauthenticatedError
from mlineage.store import schema
from mlineage.store.codec import now_micros
from mlineage.store.tokens import Role, TokenStore, hash_secret


@pytest.fixture(params=["sqlite", "postgresql"])
def tokens(request: pytest.FixtureRequest, store_path: Path) -> Iterator[TokenStore]:
    url = str(store_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = TokenStore.open(url)
    yield opened
    opened.close()


def test_a_created_token_verifies_to_its_project_and_role(tokens: TokenStore) -> None:
    info, secret = tokens.create("team-a", "writer", description="CI jobs")
    verified = tokens.verify(secret)
    assert verified.token_id == info.token_id
    assert (verified.project, verified.role) == ("team-a", Role.WRITER)
    assert verified.description == "CI jobs"
    assert secret.startswith(f"mlt_{info.token_id}_")


def test_only_a_hash_of_the_secret_is_stored(tokens: TokenStore) -> None:
    _, secret = tokens.create("team-a", "reader")
    with tokens.db.read() as connection:
        rows = connection.execute(sa.select(schema.api_tokens)).mappings().all()
    assert len(rows) == 1
    assert secret not in {str(value) for value in rows[0].values()}
    assert rows[0]["secret_hash"] == hash_secret(secret)


def test_secrets_are_distinct_and_a_wrong_one_fails(tokens: TokenStore) -> None:
    _, first = tokens.create("team-a", "reader")
    _, second = tokens.create("team-a", "reader")
    assert first != second
    with pytest.raises(UnauthenticatedError, match="not valid"):
        tokens.verify(first[:-1] + ("x" if first[-1] != "x" else "y"))
    with pytest.raises(UnauthenticatedError):
        tokens.verify("")
    with pytest.raises(UnauthenticatedError):
        tokens.verify("x" * 10_000)


def test_a_revoked_token_fails_and_says_so(tokens: TokenStore) -> None:
    info, secret = tokens.create("team-a", "admin")
    revoked = tokens.revoke(info.token_id)
    assert revoked.status() == "revoked"
    assert tokens.revoke(info.token_id).revoke_time == revoked.revoke_time  # again: no change
    with pytest.raises(UnauthenticatedError, match=f"{info.token_id} is revoked"):
        tokens.verify(secret)


def test_an_expired_token_fails(tokens: TokenStore) -> None:
    info, secret = tokens.create("team-a", "reader", expires_in=timedelta(days=30))
    assert info.expire_time is not None
    assert timedelta(days=29) < info.expire_time - info.create_time <= timedelta(days=30)
    tokens.verify(secret)
    with tokens.db.engine.begin() as connection:
        connection.execute(sa.update(schema.api_tokens).values(expire_time=now_micros() - 1))
    with pytest.raises(UnauthenticatedError, match=f"{info.token_id} is expired"):
        tokens.verify(secret)
    assert tokens.get(info.token_id).status() == "expired"


def test_list_shows_every_token_oldest_first_without_secrets(tokens: TokenStore) -> None:
    assert tokens.list() == []
    assert not tokens.any_exist()
    a, _ = tokens.create("team-a", "reader")
    b, _ = tokens.create("team-b", "admin")
    tokens.revoke(a.token_id)
    listed = tokens.list()
    assert [t.token_id for t in listed] == [a.token_id, b.token_id]
    assert [t.status() for t in listed] == ["revoked", "active"]
    assert [t.token_id for t in tokens.list(project="team-b")] == [b.token_id]
    assert tokens.any_exist()


def test_revoking_an_unknown_token_is_not_found(tokens: TokenStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        tokens.revoke("nope")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"project": "", "role": "reader"}, "project"),
        ({"project": "a/b", "role": "reader"}, "project"),
        ({"project": "team-a", "role": "owner"}, "role"),
        ({"project": "team-a", "role": "reader", "expires_in": timedelta(0)}, "expires_in"),
        ({"project": "team-a", "role": "reader", "description": "x" * 1001}, "description"),
    ],
)
def test_bad_input_names_the_field(
    tokens: TokenStore, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as raised:
        tokens.create(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert tokens.list() == []


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.WRITER)
    assert Role.WRITER.allows(Role.READER)
    assert not Role.READER.allows(Role.WRITER)
    assert not Role.WRITER.allows(Role.ADMIN)
    assert Role.parse("Admin") is Role.ADMIN
