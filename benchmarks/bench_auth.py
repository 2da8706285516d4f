"""Auth benchmark: what the auth middleware adds to each request, on its own.

Raw ASGI calls into `AuthMiddleware` around an app that answers at once (no HTTP, no
routing), so the figure is the middleware's own cost per request:

  no-op app            the bare app, for reference
  anonymous loopback   no tokens in the database, a loopback client
  token, cached        a bearer token whose check is in the cache (the usual case)
  token, uncached      a bearer token checked against the database on every request
                       (cache lifetime 0; what each request would cost without the cache)

Median of 5 rounds; SQLite, and PostgreSQL on a throwaway cluster with `--postgres`.

    python benchmarks/bench_auth.py --quick     # a few seconds
    python benchmarks/bench_auth.py --postgres  # 20,000 calls per round, both databases
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa

from mlineage.server.app import ServerSettings
from mlineage.server.auth import AuthMiddleware
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import TokenStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pgcluster import postgres_cluster

PATH = "/v1/projects/bench/locations/us-central1/metadataStores/default/artifacts/a1"
ROUNDS = 5


async def _noop(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    if message["type"] == "http.response.start" and message["status"] != 200:
        raise RuntimeError(f"refused: {message['status']}")


LOOPBACK_HOST = (b"host", b"127.0.0.1")
"""What an HTTP client sends to a loopback server: the loopback rule refuses other hosts."""


def _per_call_us(app: Any, headers: list[tuple[bytes, bytes]], calls: int) -> float:
    async def run() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            scope = {
                "type": "http",
                "method": "GET",
                "path": PATH,
                "headers": [LOOPBACK_HOST, *headers],
                "client": ("127.0.0.1", 40000),
            }
            await app(scope, _receive, _send)
        return (time.perf_counter() - start) / calls * 1e6

    return statistics.median(anyio.run(run) for _ in range(ROUNDS))


@contextmanager
def _database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield str(directory / "metadata.db")
        return
    directory.chmod(0o755)  # the cluster runs as the postgres user when we are root
    with postgres_cluster(directory / "pg") as server:
        engine = sa.create_engine(
            server.replace("postgresql://", "postgresql+psycopg://", 1),
            isolation_level="AUTOCOMMIT",
        )
        with engine.connect() as connection:
            connection.execute(sa.text("CREATE DATABASE bench_auth"))
        engine.dispose()
        url = server.rsplit("/", 1)[0] + "/bench_auth"
        SqlStore(url, auto_upgrade=True).close()
        yield url


def _uncached_calls(calls: int) -> int:
    return max(calls // 10, 100)


def measure(kind: str, calls: int) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory(prefix="mlineage-bench-auth-") as tmp,
        _database(kind, Path(tmp)) as url,
    ):
        store = SqlStore(url)
        tokens = TokenStore(store.db)
        settings = ServerSettings(url)

        def middleware(cache: float) -> AuthMiddleware:
            return AuthMiddleware(_noop, tokens=tokens, settings=settings, cache=cache)

        results = {
            "no-op app": _per_call_us(_noop, [], calls),
            "anonymous loopback": _per_call_us(middleware(5.0), [], calls),
        }
        secret = tokens.create("bench", "reader")[1]
        bearer = [(b"authorization", f"Bearer {secret}".encode())]
        results["token, cached"] = _per_call_us(middleware(5.0), bearer, calls)
        results["token, uncached"] = _per_call_us(middleware(0.0), bearer, _uncached_calls(calls))
        store.close()
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 calls per round")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    options = parser.parse_args(argv)
    calls = 2_000 if options.quick else 20_000
    kinds = ["sqlite", "postgresql"] if options.postgres else ["sqlite"]
    table = {kind: measure(kind, calls) for kind in kinds}
    uncached = _uncached_calls(calls)
    print(
        f"\nmicroseconds per request (median of {ROUNDS} rounds, {calls} calls each; "
        f"{uncached} for the uncached token, which reads the database every call)\n"
    )
    print(f"{'':22}" + "".join(f"{kind:>14}" for kind in kinds))
    for row in table[kinds[0]]:
        print(f"{row:22}" + "".join(f"{table[kind][row]:14.1f}" for kind in kinds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
