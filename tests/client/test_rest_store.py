"""RestStore against a live server: retries, idempotent retried writes, auth, one pool.

The servers here are real uvicorn servers on 127.0.0.1. A few wrap the app to misbehave on
purpose: refuse with 503 without doing the work, or do the work and then lose the reply (cut
the connection mid-reply, or answer 504 as a proxy that gave up waiting), which is the case
a retried write must not duplicate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from mlineage.client import RestStore, RetryPolicy
from mlineage.errors import AlreadyExistsError, NotFoundError, UnavailableError
from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, Context, Execution, ExecutionState, StoreName
from tests.live_server import LiveServer, ServerProcess

PARENT = StoreName("p1", "us-central1")
FAST = RetryPolicy(timeout=30.0, initial_backoff=0.01, max_backoff=0.2)


@dataclass
class Faults:
    """An ASGI wrapper that can refuse requests, or lose the replies of processed ones."""

    app: ASGIApp
    refuse: int = 0
    """The next `refuse` requests get 503 without reaching the app."""
    lose: int = 0
    """The next `lose` requests are processed, then their connection is cut mid-reply."""
    gateway: bool = False
    """Lost replies are answered 504, as a proxy that gave up waiting, instead."""
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            self.seen.append({"path": scope["path"], "client": scope["client"], **headers})
            refuse, lose = self.refuse > 0, self.refuse == 0 and self.lose > 0
            self.refuse -= refuse
            self.lose -= lose
        if refuse:
            await _unavailable(send)
            return
        if lose:

            async def swallow(message: Any) -> None:
                pass

            await self.app(scope, receive, swallow)
            await (_gateway_timeout(send) if self.gateway else _cut(send))
            return
        await self.app(scope, receive, send)


async def _unavailable(send: Send) -> None:
    body = b'{"error": {"code": 503, "message": "try again", "status": "UNAVAILABLE"}}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _cut(send: Send) -> None:
    """Start a reply and stop short of its declared length: the server closes the
    connection, and the client reads a broken reply (httpx.RemoteProtocolError)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{"})


async def _gateway_timeout(send: Send) -> None:
    headers = [(b"content-type", b"text/html")]
    await send({"type": "http.response.start", "status": 504, "headers": headers})
    await send({"type": "http.response.body", "body": b"<html>504 Gateway Time-out</html>"})


@pytest.fixture
def backing(store_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(str(store_path))
    yield store
    store.close()


@pytest.fixture
def faults(backing: SqlStore, store_path: Path) -> Faults:
    return Faults(create_app(backing, ServerSettings(str(store_path))))


@pytest.fixture
def server(faults: Faults) -> Iterator[LiveServer]:
    with LiveServer(faults) as live:
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[RestStore]:
    store = RestStore(server.url, retry=FAST)
    yield store
    store.close()


def test_a_call_rides_out_a_server_restart(
    server: LiveServer, client: RestStore, backing: SqlStore
) -> None:
    client.create(PARENT, Artifact(display_name="before"))
    server.stop()
    restarted = threading.Event()

    def restart() -> None:
        server.start()
        restarted.set()

    threading.Timer(0.5, restart).start()
    made = client.create(PARENT, Artifact(display_name="during"))  # sent while down
    assert restarted.is_set()
    assert backing.get(made.name, Artifact).display_name == "during"


def test_a_server_that_stays_down_is_unavailable_once_the_retry_time_is_spent(
    server: LiveServer,
) -> None:
    impatient = RestStore(server.url, retry=RetryPolicy(timeout=0.3, initial_backoff=0.01))
    server.stop()
    with pytest.raises(UnavailableError, match="ConnectError"):
        impatient.get_metadata_store(PARENT)
    impatient.close()


def test_503_is_retried(faults: Faults, client: RestStore, backing: SqlStore) -> None:
    faults.refuse = 3
    made = client.create(PARENT, Artifact(display_name="x"))
    assert len(faults.seen) == 4
    assert backing.list(PARENT, Artifact).items == [made]


def test_a_create_whose_reply_was_lost_is_made_once(
    faults: Faults, client: RestStore, backing: SqlStore
) -> None:
    faults.lose = 1
    made = client.create(PARENT, Artifact(display_name="once", uri="gs://b/once"))
    assert [seen["path"].rsplit("/", 1)[1] for seen in faults.seen[:2]] == ["artifacts"] * 2
    assert [a.name for a in backing.list(PARENT, Artifact).items] == [made.name]


def test_a_create_whose_reply_a_proxy_lost_is_made_once(
    faults: Faults, client: RestStore, backing: SqlStore
) -> None:
    faults.lose, faults.gateway = 1, True
    made = client.create(PARENT, Artifact(display_name="once"), "a1")
    # The retry met ALREADY_EXISTS, and the client found the earlier try had made it.
    assert [seen["path"].rsplit("/", 1)[1] for seen in faults.seen] == ["artifacts"] * 2 + ["a1"]
    assert [a.name for a in backing.list(PARENT, Artifact).items] == [made.name]


def test_a_create_with_a_taken_id_still_fails_when_nothing_was_retried(
    client: RestStore,
) -> None:
    client.create(PARENT, Artifact(display_name="a"), "a1")
    with pytest.raises(AlreadyExistsError):
        client.create(PARENT, Artifact(display_name="a"), "a1")


def test_a_refused_try_did_nothing_so_its_retry_reports_what_it_finds(
    faults: Faults, client: RestStore
) -> None:
    # A 503 (the server's concurrency guard, say) means the try was not done: a delete of
    # a missing resource is still NOT_FOUND, a create of a taken id still ALREADY_EXISTS.
    client.create(PARENT, Artifact(display_name="a"), "a1")
    faults.refuse = 1
    with pytest.raises(NotFoundError):
        client.delete(f"{PARENT}/artifacts/missing", Artifact)
    faults.refuse = 1
    with pytest.raises(AlreadyExistsError):
        client.create(PARENT, Artifact(display_name="a"), "a1")


def test_a_try_that_could_not_connect_did_nothing_either(
    server: LiveServer, client: RestStore
) -> None:
    server.stop()
    threading.Timer(0.3, server.start).start()
    with pytest.raises(NotFoundError):
        client.delete(f"{PARENT}/artifacts/missing", Artifact)  # first sent while down


def test_batch_record_and_finish_whose_replies_were_lost_are_made_once(
    faults: Faults, client: RestStore, backing: SqlStore
) -> None:
    faults.lose = 1
    data = client.create_many(PARENT, [Artifact(uri="gs://b/1"), Artifact(uri="gs://b/2")])
    faults.lose = 1
    execution, made = client.record_execution(
        PARENT,
        Execution(display_name="train"),
        inputs=[a.name for a in data],
        outputs=[Artifact(uri="gs://b/model")],
    )
    faults.lose = 1
    execution.state = ExecutionState.COMPLETE
    finished, more = client.finish_execution(execution, outputs=[Artifact(uri="gs://b/eval")])
    assert finished.state == ExecutionState.COMPLETE
    uris = sorted(a.uri for a in backing.list(PARENT, Artifact).items)
    assert uris == ["gs://b/1", "gs://b/2", "gs://b/eval", "gs://b/model"]
    assert [e.name for e in backing.list(PARENT, Execution).items] == [execution.name]
    assert [a.uri for a in made + more] == ["gs://b/model", "gs://b/eval"]


def test_an_update_and_a_delete_whose_replies_were_lost_succeed(
    faults: Faults, client: RestStore, backing: SqlStore
) -> None:
    context = client.create(PARENT, Context(display_name="old"))
    context.display_name = "new"
    faults.lose = 1
    updated = client.update(context)  # the retry meets a spent etag
    assert updated.display_name == "new"
    faults.lose = 1
    client.delete(context.name, Context)  # the retry finds it gone
    with pytest.raises(NotFoundError):
        backing.get(context.name, Context)
    with pytest.raises(NotFoundError):
        client.delete(context.name, Context)


def test_a_time_series_step_whose_reply_was_lost_is_written_once(
    faults: Faults, client: RestStore, backing: SqlStore
) -> None:
    run = client.create_run(
        PARENT, Context(schema_title="system.ExperimentRun"), "r1", experiment=None
    )
    assert client.write_time_series(run.context.name, {"loss": 1.0}) == 0
    faults.lose = 1
    assert client.write_time_series(run.context.name, {"loss": 0.5}) == 1
    faults.lose = 1
    again = client.create_run(
        PARENT, Context(schema_title="system.ExperimentRun"), "r2", experiment=None
    )
    assert again.context.name.endswith("/r2")
    points = backing.read_time_series(run.context.name)
    assert [(p.step, p.value) for p in points] == [(0, 1.0), (1, 0.5)]


def test_the_token_goes_in_a_bearer_header_read_at_each_call() -> None:
    headers: list[dict[str, str]] = []

    async def empty_lists(scope: Scope, receive: Receive, send: Send) -> None:
        headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"artifacts": []}'})

    tokens = iter(["first", "second"])
    with LiveServer(empty_lists) as server:
        store = RestStore(server.url, token=lambda: next(tokens))
        store.list(PARENT, Artifact)
        store.list(PARENT, Artifact)
        store.close()
        anonymous = RestStore(server.url)
        anonymous.list(PARENT, Artifact)
        anonymous.close()
    assert [h.get("authorization") for h in headers] == ["Bearer first", "Bearer second", None]


def test_calls_reuse_one_connection(client: RestStore, faults: Faults) -> None:
    for _ in range(5):
        client.list(PARENT, Artifact)
    assert len({tuple(seen["client"]) for seen in faults.seen}) == 1


def test_a_list_without_a_page_size_follows_the_servers_pages(
    backing: SqlStore, store_path: Path
) -> None:
    backing.create_many(PARENT, [Artifact(display_name=f"a{i}") for i in range(7)])
    app = create_app(backing, ServerSettings(str(store_path), max_page_size=2))
    with LiveServer(app) as small_pages:
        store = RestStore(small_pages.url)
        everything = store.list(PARENT, Artifact, order_by="display_name")
        assert [a.display_name for a in everything.items] == [f"a{i}" for i in range(7)]
        assert everything.next_page_token == ""
        five = store.list(PARENT, Artifact, order_by="display_name", page_size=5)
        assert len(five.items) == 5
        rest = store.list(
            PARENT, Artifact, order_by="display_name", page_token=five.next_page_token
        )
        assert [a.display_name for a in rest.items] == ["a5", "a6"]
        store.close()


def test_a_killed_server_process_is_ridden_out(store_path: Path) -> None:
    server = ServerProcess(str(store_path))
    server.start()
    store = RestStore(server.url, retry=FAST)
    try:
        run = store.create_run(
            PARENT, Context(schema_title="system.ExperimentRun"), "r1", experiment=None
        )
        store.log_metrics(run.context.name, {"acc": 0.5})
        server.kill()
        threading.Timer(0.5, server.start).start()
        store.log_metrics(run.context.name, {"acc": 0.9})  # sent while no server listens
        assert store.get_metrics(run.context.name) == {"acc": 0.9}
    finally:
        store.close()
        server.stop()
