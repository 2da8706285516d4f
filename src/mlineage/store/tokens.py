"""Server API tokens: create, list, revoke, verify, over the `api_tokens` table.

A token's secret is shown once, when it is created: `mlt_<token id>_<43 random characters>`
(256 random bits). The database keeps only the SHA-256 of the whole secret; a random secret of
that size needs no slow password hash, and a lookup by hash is one indexed query. The token id
inside the secret lets an operator who finds a leaked secret see which token to revoke.

Each token grants one role in one project. Roles are ordered: a writer can do what a reader
can, an admin what a writer can.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlineage.errors import InvalidArgumentError, NotFoundError, UnauthenticatedError
from mlineage.store import migrate, schema
from mlineage.store.codec import from_micros, now_micros
from mlineage.store.engine import Database, create_engine
from mlineage.types import StoreName

__all__ = ["CACHE_SECONDS", "SECRET_PREFIX", "Role", "TokenInfo", "TokenStore", "hash_secret"]

CACHE_SECONDS = 5.0
"""How long a server process trusts a token check (`mlineage.server.auth` caches them): a
revoke takes effect within this many seconds."""
SECRET_PREFIX = "mlt_"
MAX_SECRET_LENGTH = 256
"""Longer presented secrets are refused before hashing: no token of ours is that long."""
MAX_DESCRIPTION_LENGTH = 1000


class Role(enum.Enum):
    """What a token may do in its project, each role including the ones before it."""

    READER = "reader"
    WRITER = "writer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether this role may perform an action that needs `needed`."""
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str | Role, field: str = "role") -> Role:
        if isinstance(value, Role):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            names = ", ".join(role.value for role in cls)
            raise InvalidArgumentError(field, f"must be one of {names}; got {value!r}") from None


_RANKS = {Role.READER: 0, Role.WRITER: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: everything but its secret."""

    token_id: str
    project: str
    role: Role
    description: str
    create_time: datetime
    expire_time: datetime | None
    revoke_time: datetime | None

    def status(self, now: datetime | None = None) -> str:
        """ "active", "revoked" or "expired"."""
        if self.revoke_time is not None:
            return "revoked"
        if self.expire_time is not None and self.expire_time <= (now or from_micros(now_micros())):
            return "expired"
        return "active"


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(row: sa.Row[tuple[object, ...]]) -> TokenInfo:
    mapping = row._mapping
    expire, revoke = mapping["expire_time"], mapping["revoke_time"]
    return TokenInfo(
        token_id=mapping["token_id"],
        project=mapping["project"],
        role=Role(mapping["role"]),
        description=mapping["description"],
        create_time=from_micros(mapping["create_time"]),
        expire_time=None if expire is None else from_micros(expire),
        revoke_time=None if revoke is None else from_micros(revoke),
    )


_COLUMNS = [
    schema.api_tokens.c.token_id,
    schema.api_tokens.c.project,
    schema.api_tokens.c.role,
    schema.api_tokens.c.description,
    schema.api_tokens.c.create_time,
    schema.api_tokens.c.expire_time,
    schema.api_tokens.c.revoke_time,
]


class TokenStore:
    """The tokens of one database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database, *, owned: bool = False) -> None:
        """Tokens in `db`; `owned` means `close()` closes the database too."""
        self.db = db
        self._owned = owned

    @classmethod
    def open(cls, url: str) -> TokenStore:
        """Open the tokens of the store at `url`; SQLite is created or upgraded as on open."""
        db = Database(create_engine(url))
        try:
            migrate.ensure_current(db, auto_upgrade=db.dialect == "sqlite")
        except BaseException:
            db.close()
            raise
        return cls(db, owned=True)

    def close(self) -> None:
        if self._owned:
            self.db.close()

    def create(
        self,
        project: str,
        role: str | Role,
        *,
        description: str = "",
        expires_in: timedelta | None = None,
    ) -> tuple[TokenInfo, str]:
        """Create a token; returns it and its secret, which is never available again."""
        StoreName(project, "global")  # the same rule as a project in a resource name
        parsed = Role.parse(role)
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidArgumentError(
                "description", f"must be a string of at most {MAX_DESCRIPTION_LENGTH} characters"
            )
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidArgumentError("expires_in", f"must be positive; got {expires_in}")
        token_id = secrets.token_hex(6)
        secret = f"{SECRET_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        created = now_micros()
        expires = None if expires_in is None else created + _micros(expires_in)
        values = {
            "token_id": token_id,
            "project": project,
            "role": parsed.value,
            "secret_hash": hash_secret(secret),
            "description": description,
            "create_time": created,
            "expire_time": expires,
            "revoke_time": None,
        }

        def insert(connection: Connection) -> None:
            connection.execute(sa.insert(schema.api_tokens).values(values))

        self.db.write(insert)
        info = TokenInfo(
            token_id,
            project,
            parsed,
            description,
            from_micros(created),
            None if expires is None else from_micros(expires),
            None,
        )
        return info, secret

    def list(self, *, project: str | None = None) -> list[TokenInfo]:
        """Every token (revoked and expired ones too), oldest first."""
        statement = sa.select(*_COLUMNS).order_by(schema.api_tokens.c.id)
        if project is not None:
            statement = statement.where(schema.api_tokens.c.project == project)
        with self.db.read() as connection:
            return [_info(row) for row in connection.execute(statement)]

    def get(self, token_id: str) -> TokenInfo:
        with self.db.read() as connection:
            return self._get(connection, token_id)

    def _get(self, connection: Connection, token_id: str) -> TokenInfo:
        row = connection.execute(
            sa.select(*_COLUMNS).where(schema.api_tokens.c.token_id == token_id)
        ).first()
        if row is None:
            raise NotFoundError(f"token {token_id!r} not found (mlineage token list shows them)")
        return _info(row)

    def revoke(self, token_id: str) -> TokenInfo:
        """Revoke a token (revoking it again changes nothing); returns it."""

        def work(connection: Connection) -> TokenInfo:
            table = schema.api_tokens
            connection.execute(
                sa.update(table)
                .where(table.c.token_id == token_id, table.c.revoke_time.is_(None))
                .values(revoke_time=now_micros())
            )
            return self._get(connection, token_id)

        return self.db.write(work)

    def verify(self, secret: str) -> TokenInfo:
        """The active token with this secret, or UnauthenticatedError saying why not."""
        if not secret or len(secret) > MAX_SECRET_LENGTH:
            raise UnauthenticatedError("the token is not valid")
        table = schema.api_tokens
        with self.db.read() as connection:
            row = connection.execute(
                sa.select(*_COLUMNS).where(table.c.secret_hash == hash_secret(secret))
            ).first()
        if row is None:
            raise UnauthenticatedError("the token is not valid")
        info = _info(row)
        status = info.status()
        if status != "active":
            raise UnauthenticatedError(f"the token {info.token_id} is {status}")
        return info

    def any_exist(self) -> bool:
        """Whether any token was ever created (revoked and expired ones count)."""
        with self.db.read() as connection:
            first = connection.execute(sa.select(schema.api_tokens.c.id).limit(1)).first()
        return first is not None


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
