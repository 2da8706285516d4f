"""The server's auth: tokens, roles, project scoping, the loopback rule, and request limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request

from mlineage.server import auth
from mlineage.server.app import ServerSettings, create_app
from mlineage.server.auth import Action, classify, principal_of
from mlineage.server.limits import ConcurrencyLimit
from mlineage.store import schema
from mlineage.store.codec import now_micros
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import TokenStore

LOOPBACK = ("127.0.0.1", 5000)
REMOTE = ("10.1.2.3", 5000)
BASE_URL = "http://127.0.0.1:8080"  # the Host the loopback rule expects of a local client
# A resource path no real route serves, so the test's echo route answers whatever is allowed.
A = "/v1/projects/team-a/locations/us-central1/testStores/default"
B = "/v1/projects/team-b/locations/us-central1/testStores/default"


@dataclass
class Server:
    app: FastAPI
    tokens: TokenStore
    calls: list[str] = field(default_factory=list)

    def token(self, project: str, role: str) -> str:
        return self.tokens.create(project, role)[1]

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        client: tuple[str, int] = LOOPBACK,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
                return await c.request(method, path, headers=sent, **kwargs)

        return anyio.run(go)


def _echo_router(calls: list[str]) -> APIRouter:
    router = APIRouter()

    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        calls.append(f"{request.method} {request.url.path}")
        principal = principal_of(request)
        return {"project": principal.project, "role": principal.role.value, "bytes": len(body)}

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    router.add_api_route("/v1/{path:path}", echo, methods=methods, include_in_schema=False)
    router.add_api_route("/projects/{path:path}", echo, methods=methods, include_in_schema=False)
    return router


def make_server(
    store_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    cache_seconds: float = 0.0,
    insecure: bool = False,
    max_body_bytes: int = 32 * 1024 * 1024,
) -> Server:
    monkeypatch.setattr(auth, "CACHE_SECONDS", cache_seconds)
    store = SqlStore(str(store_path))
    settings = ServerSettings(
        str(store_path), insecure_allow_anonymous=insecure, max_body_bytes=max_body_bytes
    )
    app = create_app(store, settings)
    server = Server(app, TokenStore(store.db))
    app.include_router(_echo_router(server.calls))
    return server


@pytest.fixture
def server(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    made = make_server(store_path, monkeypatch)
    yield made
    made.tokens.db.close()


def _error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()["error"]
    assert body["code"] == response.status_code
    assert body["message"]
    return response.status_code, body["status"]


# (method, path under a project's store, action)
REQUESTS = [
    ("GET", "/artifacts/a1", Action.READ),
    ("GET", "/artifacts", Action.READ),
    ("GET", "/artifacts/a1:queryArtifactLineageSubgraph", Action.READ),
    ("POST", "/executions/e1:queryExecutionInputsAndOutputs", Action.READ),
    ("POST", "/tensorboards/t/experiments/e/runs/r/timeSeries:batchRead", Action.READ),
    ("POST", "/artifacts?artifactId=a2", Action.WRITE),
    ("PATCH", "/artifacts/a1", Action.WRITE),
    ("POST", "/executions/e1:addExecutionEvents", Action.WRITE),
    ("POST", "/contexts/c1:addContextArtifactsAndExecutions", Action.WRITE),
    ("POST", "/contexts/c1:removeContextChildren", Action.WRITE),
    ("POST", "/tensorboards/t/experiments/e/runs/r:write", Action.WRITE),
    ("DELETE", "/artifacts/a1", Action.ADMIN),
    ("POST", "/metadataSchemas?metadataSchemaId=s1", Action.ADMIN),
    ("POST", "/artifacts:purge", Action.ADMIN),
]
ROLES = {"reader": {Action.READ}, "writer": {Action.READ, Action.WRITE}, "admin": set(Action)}


@pytest.mark.parametrize(("method", "path", "action"), REQUESTS)
def test_classify(method: str, path: str, action: Action) -> None:
    assert classify(method, (A + path).partition("?")[0]) == ("team-a", action)


def test_every_role_against_every_action(server: Server) -> None:
    for role, allowed in ROLES.items():
        token = server.token("team-a", role)
        for method, path, action in REQUESTS:
            server.calls.clear()
            response = server.call(method, A + path, token=token)
            if action in allowed:
                assert response.status_code == 200, (role, method, path, response.text)
                assert response.json()["role"] == role
                assert response.json()["project"] == "team-a"
            else:
                assert _error(response) == (403, "PERMISSION_DENIED"), (role, method, path)
                assert role in response.json()["error"]["message"]
                assert server.calls == []  # refused before the route ran


@pytest.mark.parametrize("role", ["reader", "admin"])
def test_another_projects_resources_are_not_found(server: Server, role: str) -> None:
    token = server.token("team-a", role)
    for method, path, _ in REQUESTS:
        response = server.call(method, B + path, token=token)
        assert _error(response) == (404, "NOT_FOUND"), (method, path)
        assert "team-b" in response.json()["error"]["message"]
    assert server.calls == []


def test_a_resource_name_of_another_project_in_the_query_is_not_found(server: Server) -> None:
    token = server.token("team-a", "reader")
    b_name = B.removeprefix("/v1/") + "/artifacts/x"
    response = server.call("GET", A + "/artifacts/a1:diff", params={"other": b_name}, token=token)
    assert _error(response) == (404, "NOT_FOUND")
    assert b_name in response.json()["error"]["message"]
    for other in ("/" + b_name, "/v1/" + b_name):
        diff = server.call("GET", A + "/artifacts/a1:diff", params={"other": other}, token=token)
        assert diff.status_code == 404, other
    # Percent-encoded names are decoded before the check, as the route would decode them.
    for encoded in ("%70rojects/team-b" + b_name.removeprefix("projects/team-b"), "%2F" + b_name):
        diff = server.call("GET", A + "/artifacts/a1:diff?other=" + encoded, token=token)
        assert _error(diff) == (404, "NOT_FOUND"), encoded
    assert server.calls == []
    allowed = [
        {"other": A.removeprefix("/v1/") + "/artifacts/x"},
        {"filter": 'uri = "gs://bucket/projects/team-b/data"'},
        {"filter": 'display_name = "projects/team-b"'},
    ]
    for params in allowed:
        response = server.call("GET", A + "/artifacts/a1:diff", params=params, token=token)
        assert response.status_code == 200, params


def test_a_ui_path_of_another_project_is_not_found_too(server: Server) -> None:
    token = server.token("team-a", "admin")
    assert server.call("GET", "/projects/team-a/experiments", token=token).status_code == 200
    response = server.call("GET", "/projects/team-b/experiments", token=token)
    assert _error(response) == (404, "NOT_FOUND")


def test_once_a_token_exists_every_request_needs_one(server: Server) -> None:
    server.token("team-a", "admin")
    response = server.call("GET", A + "/artifacts")
    assert _error(response) == (401, "UNAUTHENTICATED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "mlineage token create" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", "bearer-abc"]
)
def test_a_malformed_authorization_header_is_unauthenticated(server: Server, header: str) -> None:
    server.token("team-a", "admin")
    response = server.call("GET", A + "/artifacts", headers={"Authorization": header})
    assert _error(response) == (401, "UNAUTHENTICATED")
    assert "Bearer <token>" in response.json()["error"]["message"]


def test_an_unknown_token_is_unauthenticated_even_with_no_tokens(server: Server) -> None:
    response = server.call("GET", A + "/artifacts", token="mlt_0000_guess")
    assert _error(response) == (401, "UNAUTHENTICATED")


def test_the_scheme_is_case_insensitive(server: Server) -> None:
    token = server.token("team-a", "reader")
    headers = {"Authorization": f"bearer {token}"}
    assert server.call("GET", A + "/artifacts", headers=headers).status_code == 200


def test_a_revoked_token_is_refused(server: Server) -> None:
    info, secret = server.tokens.create("team-a", "writer")
    assert server.call("GET", A + "/artifacts", token=secret).status_code == 200
    server.tokens.revoke(info.token_id)
    response = server.call("GET", A + "/artifacts", token=secret)
    assert _error(response) == (401, "UNAUTHENTICATED")
    assert "revoked" in response.json()["error"]["message"]


def test_an_expired_token_is_refused(server: Server) -> None:
    info, secret = server.tokens.create("team-a", "writer")
    with server.tokens.db.engine.begin() as connection:
        table = schema.api_tokens
        connection.execute(
            sa.update(table)
            .where(table.c.token_id == info.token_id)
            .values(expire_time=now_micros() - 1)
        )
    response = server.call("GET", A + "/artifacts", token=secret)
    assert _error(response) == (401, "UNAUTHENTICATED")
    assert "expired" in response.json()["error"]["message"]


def test_token_checks_are_cached_so_a_revoke_waits_for_the_cache(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(store_path, monkeypatch, cache_seconds=3600)
    info, secret = server.tokens.create("team-a", "writer")
    assert server.call("GET", A + "/artifacts", token=secret).status_code == 200
    server.tokens.revoke(info.token_id)
    # Within the cache lifetime this process still accepts it (documented: CACHE_SECONDS).
    assert server.call("GET", A + "/artifacts", token=secret).status_code == 200
    fresh = make_server(store_path, monkeypatch, cache_seconds=3600)
    assert fresh.call("GET", A + "/artifacts", token=secret).status_code == 401


def test_with_no_tokens_only_loopback_clients_are_served(server: Server) -> None:
    assert server.call("GET", A + "/artifacts", client=LOOPBACK).json()["role"] == "admin"
    assert server.call("DELETE", A + "/artifacts/a1", client=("::1", 5000)).status_code == 200
    assert server.call("GET", A + "/artifacts", client=("127.8.9.10", 1)).status_code == 200
    response = server.call("GET", A + "/artifacts", client=REMOTE)
    assert _error(response) == (403, "PERMISSION_DENIED")
    assert "--insecure-allow-anonymous" in response.json()["error"]["message"]
    for peer in ["::ffff:10.1.2.3", "192.168.0.1", "2001:db8::1", "localhost.evil.example"]:
        assert server.call("GET", A + "/artifacts", client=(peer, 1)).status_code == 403, peer


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]:9000", "127.0.0.2"]
)
def test_the_loopback_rule_serves_requests_sent_to_this_machine_by_name(
    server: Server, host: str
) -> None:
    response = server.call("DELETE", A + "/artifacts/a1", headers={"Host": host})
    assert response.json()["role"] == "admin"


@pytest.mark.parametrize(
    "host", ["attacker.example:8080", "localhost.attacker.example", "10.1.2.3:8080", "[::2]"]
)
def test_the_loopback_rule_refuses_a_page_rebinding_its_name_to_127_0_0_1(
    server: Server, host: str
) -> None:
    # A page at http://attacker.example:8080 whose DNS now answers 127.0.0.1 sends requests
    # from the browser on this machine: the peer is loopback, but the Host is the page's.
    for method in ("GET", "DELETE"):
        response = server.call(method, A + "/artifacts/a1", headers={"Host": host})
        assert _error(response) == (403, "PERMISSION_DENIED"), method
        assert "127.0.0.1" in response.json()["error"]["message"]
    assert server.calls == []


def test_the_loopback_rule_refuses_writes_sent_by_a_page_of_another_origin(
    server: Server,
) -> None:
    # A form on another site may post to http://127.0.0.1:8080 (a request without preflight).
    for origin in ("Origin", "Referer"):
        for source in ("http://attacker.example", "http://localhost:3000", "null"):
            headers = {origin: source, "Content-Type": "text/plain"}
            response = server.call("POST", A + "/artifacts", headers=headers, content="{}")
            assert _error(response) == (403, "PERMISSION_DENIED"), (origin, source)
    assert server.calls == []
    same = {"Origin": "http://127.0.0.1:8080"}
    assert server.call("POST", A + "/artifacts", headers=same).status_code == 200
    page = {"Referer": "http://127.0.0.1:8080/projects/team-a/experiments"}
    assert server.call("POST", A + "/artifacts", headers=page).status_code == 200
    assert server.call("POST", A + "/artifacts").status_code == 200  # not from a page
    # Reading is no harm: a page of another origin cannot see the answer (no CORS).
    other = {"Origin": "http://attacker.example"}
    assert server.call("GET", A + "/artifacts", headers=other).status_code == 200


def test_a_write_with_the_ui_cookie_must_come_from_this_sites_pages(server: Server) -> None:
    writer = server.token("team-a", "writer")
    cookie = {"Cookie": f"mlineage_token={writer}"}
    other = {**cookie, "Origin": "http://localhost:3000"}
    assert _error(server.call("POST", A + "/artifacts", headers=other)) == (
        403,
        "PERMISSION_DENIED",
    )
    same = {**cookie, "Origin": "http://127.0.0.1:8080"}
    assert server.call("POST", A + "/artifacts", headers=same).json()["role"] == "writer"
    # A bearer token is not sent by a browser on its own: no origin rule.
    bearer = {"Origin": "http://localhost:3000"}
    assert server.call("POST", A + "/artifacts", token=writer, headers=bearer).status_code == 200


def test_login_refuses_a_form_posted_by_another_site(server: Server) -> None:
    token = server.token("team-a", "reader")
    form = {"token": token, "next": "/"}
    for headers in ({"Origin": "http://attacker.example"}, {"Referer": "http://evil.test/x"}):
        response = server.call("POST", "/login", data=form, headers=headers)
        assert _error(response) == (403, "PERMISSION_DENIED"), headers
        assert "set-cookie" not in response.headers
    same = {"Origin": "http://127.0.0.1:8080"}
    response = server.call("POST", "/login", data=form, headers=same)
    assert response.status_code == 303
    assert response.headers["set-cookie"].startswith("mlineage_token=")


def test_insecure_allow_anonymous_serves_remote_clients_until_a_token_exists(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(store_path, monkeypatch, insecure=True)
    assert server.call("POST", B + "/artifacts", client=REMOTE).json()["project"] is None
    server.token("team-a", "reader")
    response = server.call("GET", A + "/artifacts", client=REMOTE)
    assert _error(response) == (401, "UNAUTHENTICATED")


def test_once_a_token_exists_loopback_clients_need_one_too(server: Server) -> None:
    server.token("team-a", "reader")
    assert server.call("GET", A + "/artifacts", client=LOOPBACK).status_code == 401


def test_a_revoked_last_token_does_not_reopen_the_server(server: Server) -> None:
    info, _ = server.tokens.create("team-a", "reader")
    server.tokens.revoke(info.token_id)
    assert server.call("GET", A + "/artifacts", client=LOOPBACK).status_code == 401


def test_the_ui_cookie_is_a_token_too(server: Server) -> None:
    token = server.token("team-a", "reader")
    cookies = {"Cookie": f"mlineage_token={token}"}
    assert server.call("GET", A + "/artifacts", headers=cookies).json()["role"] == "reader"
    response = server.call("GET", "/projects/team-a/experiments", headers=cookies)
    assert response.json()["project"] == "team-a"
    bad = {"Cookie": "mlineage_token=mlt_nope"}
    assert server.call("GET", A + "/artifacts", headers=bad).status_code == 401


def test_the_header_wins_over_the_cookie(server: Server) -> None:
    reader = server.token("team-a", "reader")
    writer = server.token("team-a", "writer")
    response = server.call(
        "POST", A + "/artifacts", token=reader, headers={"Cookie": f"mlineage_token={writer}"}
    )
    assert _error(response) == (403, "PERMISSION_DENIED")


def test_home_opens_the_project_of_the_callers_token(server: Server) -> None:
    token = server.token("team-a", "reader")
    response = server.call("GET", "/", headers={"Cookie": f"mlineage_token={token}"})
    assert response.status_code == 307
    assert response.headers["location"].startswith("/projects/team-a/locations/")


def test_a_browser_without_a_token_is_sent_to_the_login_page(server: Server) -> None:
    server.token("team-a", "reader")
    page = {"Accept": "text/html,application/xhtml+xml"}
    response = server.call("GET", "/projects/team-a/experiments", headers=page)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/team-a/experiments"
    # The API answers JSON whatever the client accepts.
    assert server.call("GET", A + "/artifacts", headers=page).status_code == 401


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/login", "/static/app.css"])
def test_public_paths_need_no_token(server: Server, path: str) -> None:
    server.token("team-a", "reader")
    response = server.call("GET", path, client=REMOTE)
    assert response.status_code not in (401, 403)
    if path in ("/openapi.json", "/docs"):
        assert response.status_code == 200


def test_a_body_over_the_limit_is_refused_with_413(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(store_path, monkeypatch, max_body_bytes=1000)
    assert server.call("POST", A + "/artifacts", content=b"x" * 1000).json()["bytes"] == 1000
    response = server.call("POST", A + "/artifacts", content=b"x" * 1001)
    assert _error(response) == (413, "INVALID_ARGUMENT")
    assert "1001 bytes" in response.json()["error"]["message"]
    assert response.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "body"
    assert server.calls == [f"POST {A}/artifacts"]


def test_a_streamed_body_over_the_limit_is_refused_as_it_arrives(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(store_path, monkeypatch, max_body_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 100

    response = server.call("POST", A + "/artifacts", content=chunks())
    assert _error(response) == (413, "INVALID_ARGUMENT")
    assert "over the limit of 1000 bytes" in response.json()["error"]["message"]
    assert server.calls == []


def test_requests_over_the_concurrency_limit_get_a_retryable_503() -> None:
    release = anyio.Event()
    entered = anyio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    limited = ConcurrencyLimit(slow, max_requests=1, wait_seconds=0.01)
    transport = httpx.ASGITransport(app=limited)

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first: list[httpx.Response] = []

            async def hold() -> None:
                first.append(await client.get("/a"))

            async with anyio.create_task_group() as group:
                group.start_soon(hold)
                await entered.wait()
                refused = await client.get("/b")
                release.set()
            after = await client.get("/c")
            return first[0], refused, after

    first, refused, after = anyio.run(scenario)
    assert first.status_code == 200
    assert _error(refused) == (503, "UNAVAILABLE")
    assert refused.headers["Retry-After"] == "1"
    assert after.status_code == 200
    assert limited.in_progress == 0
