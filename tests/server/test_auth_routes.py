"""Auth over the real routes: every operation's role, projects that cannot see each other,
and the REST client and a real server process with tokens."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlineage.client import RestStore
from mlineage.errors import NotFoundError, PermissionDeniedError, UnauthenticatedError
from mlineage.server.app import ServerSettings, create_app
from mlineage.server.auth import Action, classify
from mlineage.store.sql import SqlStore
from mlineage.store.tokens import TokenStore
from mlineage.types import Artifact, Context, Execution, StoreName
from tests.live_server import LiveServer, ServerProcess

LOCATION = "us-central1"


def test_every_operation_of_the_api_needs_the_role_its_kind_says(store_path: Path) -> None:
    """A new route gets a deliberate role: reads are GETs, deletes and schemas are admin's."""
    app = create_app(SqlStore(str(store_path)), ServerSettings(str(store_path)))
    operations = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if path.startswith("/v1/")
    ]
    assert len(operations) > 40
    for method, path in operations:
        project, action = classify(method, path.replace("{project}", "p"))
        assert project == "p", path
        if method == "GET":
            expected = Action.READ
        elif method == "DELETE" or (method == "POST" and path.endswith("/metadataSchemas")):
            expected = Action.ADMIN
        else:
            expected = Action.WRITE
        assert action is expected, (method, path)


@dataclass
class Project:
    parent: StoreName
    data: Artifact
    model: Artifact
    execution: Execution
    context: Context


def _record(store: SqlStore, project: str) -> Project:
    parent = StoreName(project, LOCATION)
    store.get_or_create_metadata_store(parent)
    data = store.create(parent, Artifact(display_name="data", uri="gs://b/data"), "data")
    execution, (model,) = store.record_execution(
        parent,
        Execution(display_name="train"),
        "train",
        inputs=[data.name],
        outputs=[Artifact(display_name="model", uri="gs://b/model")],
    )
    context = store.create(parent, Context(display_name="exp"), "exp")
    store.add_context_artifacts_and_executions(context.name, [data.name], [execution.name])
    assert isinstance(data, Artifact)
    assert isinstance(context, Context)
    return Project(parent, data, model, execution, context)


@dataclass
class World:
    url: str
    tokens: TokenStore
    a: Project
    b: Project
    store: SqlStore

    def client(self, project: str, role: str) -> RestStore:
        return RestStore(self.url, token=self.tokens.create(project, role)[1])


@pytest.fixture
def world(store_path: Path) -> Iterator[World]:
    store = SqlStore(str(store_path))
    a, b = _record(store, "team-a"), _record(store, "team-b")
    with LiveServer(create_app(store, ServerSettings(str(store_path)))) as server:
        yield World(server.url, TokenStore(store.db), a, b, store)
    store.close()


def _calls(p: Project) -> dict[str, Callable[[RestStore], Any]]:
    """One call of each kind on project `p`'s resources."""
    new = Artifact(display_name="new")
    return {
        "get": lambda c: c.get(p.data.name, Artifact),
        "get store": lambda c: c.get_metadata_store(p.parent),
        "list stores": lambda c: c.list_metadata_stores(p.parent.project, p.parent.location),
        "list": lambda c: c.list(p.parent, Artifact),
        "list schemas": lambda c: c.list_metadata_schemas(p.parent),
        "artifact lineage": lambda c: c.query_artifact_lineage_subgraph(p.model.name),
        "execution lineage": lambda c: c.query_execution_inputs_and_outputs(p.execution.name),
        "context lineage": lambda c: c.query_context_lineage_subgraph(p.context.name),
        "create": lambda c: c.create(p.parent, new, "new"),
        "update": lambda c: c.update(c.get(p.data.name, Artifact)),
        "add to context": lambda c: c.add_context_artifacts_and_executions(
            p.context.name, [p.model.name]
        ),
        "delete": lambda c: c.delete(p.context.name, Context),
    }


@pytest.mark.parametrize("role", ["reader", "admin"])
def test_a_token_sees_nothing_of_another_project(world: World, role: str) -> None:
    client = world.client("team-a", role)
    for call in _calls(world.b).values():
        with pytest.raises(NotFoundError, match="team-b"):
            call(client)
    # Nothing of team-b was changed by the attempts.
    assert world.store.get(world.b.context.name, Context).name == world.b.context.name
    assert [x.display_name for x in world.store.list(world.b.parent, Artifact).items] == [
        "data",
        "model",
    ]
    # The same calls on its own project work.
    client.get(world.a.data.name, Artifact)
    graph = client.query_artifact_lineage_subgraph(world.a.model.name)
    assert {x.name for x in graph.artifacts} == {world.a.data.name, world.a.model.name}


def test_a_diff_cannot_reach_into_another_project(world: World) -> None:
    secret = world.tokens.create("team-a", "reader")[1]
    headers = {"Authorization": f"Bearer {secret}"}
    diff = f"{world.url}/v1/{world.a.model.name}:diff"
    response = httpx.get(diff, params={"other": world.b.model.name}, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert httpx.get(diff, params={"other": world.a.data.name}, headers=headers).status_code == 200


NEEDS = {"create": "writer", "update": "writer", "add to context": "writer", "delete": "admin"}
RANKS = ["reader", "writer", "admin"]


@pytest.mark.parametrize("role", RANKS)
def test_each_role_over_the_rest_client(world: World, role: str) -> None:
    client = world.client("team-a", role)
    for what, call in _calls(world.a).items():
        if RANKS.index(role) >= RANKS.index(NEEDS.get(what, "reader")):
            call(client)
        else:
            with pytest.raises(PermissionDeniedError, match=f"role {role}"):
                call(client)


def test_no_token_or_a_wrong_one_is_unauthenticated(world: World) -> None:
    world.tokens.create("team-a", "reader")
    for token in (None, "mlt_wrong"):
        with pytest.raises(UnauthenticatedError):
            RestStore(world.url, token=token).get(world.a.data.name, Artifact)


@pytest.mark.slow
def test_a_server_process_with_tokens_created_by_the_cli(store_path: Path) -> None:
    """`mlineage token create`, then `mlineage server`: loopback clients need the token too."""
    created = subprocess.run(
        [sys.executable, "-m", "mlineage.cli", "token", "create", "--project", "team-a",
         "--role", "writer", "--store", str(store_path)],
        capture_output=True, text=True, check=True, env={**os.environ},
    )  # fmt: skip
    secret = created.stdout.strip()
    store_url = "/v1/projects/team-a/locations/us-central1/metadataStores"
    with ServerProcess(str(store_path)) as server:
        assert httpx.get(server.url + store_url + "/default").status_code == 401
        made = httpx.post(
            server.url + store_url,
            params={"metadataStoreId": "default"},
            json={},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert made.status_code == 200, made.text
        other = httpx.get(
            server.url + "/v1/projects/team-b/locations/us-central1/metadataStores/default",
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert other.status_code == 404
        assert other.json()["error"]["status"] == "NOT_FOUND"
        docs = httpx.get(server.url + "/openapi.json")
        assert docs.status_code == 200


def test_a_live_server_refuses_a_huge_body_and_keeps_serving(store_path: Path) -> None:
    store = SqlStore(str(store_path))
    settings = ServerSettings(str(store_path), max_body_bytes=100_000)
    artifacts = "/v1/projects/p/locations/us-central1/metadataStores/default/artifacts"

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 10_000

    with LiveServer(create_app(store, settings)) as server:
        for body in (b"x" * 10_000_000, chunks()):
            refused = httpx.post(server.url + artifacts, content=body)
            assert refused.status_code == 413
            assert refused.json()["error"]["status"] == "INVALID_ARGUMENT"
        made = httpx.post(server.url + artifacts, json={"displayName": "small"})
        assert made.status_code == 200, made.text
    store.close()


def test_the_sdk_sends_its_token_from_init_or_the_environment(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlineage
    from mlineage.sdk import provenance

    store = SqlStore(str(store_path))
    tokens = TokenStore(store.db)
    writer = tokens.create("team-a", "writer")[1]
    reader = tokens.create("team-a", "reader")[1]
    where = {"project": "team-a", "location": LOCATION, "experiment": "sweep"}
    with LiveServer(create_app(store, ServerSettings(str(store_path)))) as server:
        mlineage.init(**where, store=server.url, credentials=writer)
        with mlineage.start_run("run-1") as run:
            run.log_params({"lr": 0.1})
            run.log_metrics({"accuracy": 0.9})
        monkeypatch.setenv("MLINEAGE_TOKEN", reader)
        mlineage.init(**where, store=server.url, credentials=None)
        frame = mlineage.get_experiment_df()
        assert list(frame["run_name"]) == ["run-1"]
        assert list(frame["metric.accuracy"]) == [0.9]
        with pytest.raises(PermissionDeniedError, match="role reader"):
            mlineage.start_run("run-2")
        monkeypatch.setenv("MLINEAGE_TOKEN", "mlt_wrong")
        with pytest.raises(UnauthenticatedError):
            mlineage.init(**where, store=server.url)  # it reads the experiment
        provenance.wait_for_pending()  # run-1's provenance, recorded while the server is up
    store.close()
