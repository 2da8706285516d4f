"""The SDK in remote mode: every call goes over HTTP to a live server, and what it wrote is
what a local store on the server's own file reads back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pandas as pd
import pytest

import mlineage
from mlineage.client import RestStore
from mlineage.errors import InvalidArgumentError
from mlineage.sdk.config import settings
from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from mlineage.types import Artifact, StoreName
from tests.live_server import LiveServer, live_server
from tests.test_seed_walkthrough import HYPERPARAMETERS, _Clock, seed_steps

__all__ = ["live_server"]  # a fixture

MY_PROJECT = StoreName("my-project", "us-central1")


@pytest.fixture
def remote(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    """The SDK pointed at the live server; the local file is then only the server's."""
    monkeypatch.setenv("MLINEAGE_STORE", live_server.url)
    return live_server


@pytest.fixture
def local(store_path: Path) -> Iterator[SqlStore]:
    """A second reader: a local store on the file the server serves."""
    store = SqlStore(str(store_path))
    yield store
    store.close()


@pytest.fixture
def walkthrough(remote: LiveServer) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "walkthrough"}
    for block in seed_steps():
        exec(compile(block, "walkthrough", "exec"), namespace)
    namespace["datetime"] = _Clock()
    namespace["train_and_evaluate"] = lambda config: round(
        0.8 + config["max_depth"] / 100 + config["learning_rate"], 4
    )
    return namespace


def test_metadata_stores_are_listed_through_the_server(remote: LiveServer, local: SqlStore) -> None:
    made = [mlineage.MetadataStore(), mlineage.MetadataStore("team", project="my-project")]
    local.get_or_create_metadata_store(StoreName("my-project", "us-central1", "made-locally"))
    listed = mlineage.MetadataStore.list(project="my-project")
    assert [s.name for s in listed] == ["team", "made-locally"]
    assert listed[0].resource_name == made[1].resource_name
    assert [s.resource_name for s in mlineage.MetadataStore.list()] == [made[0].resource_name]


@pytest.fixture
def small_pages(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The SDK pointed at a live server that answers at most 2 runs per page."""
    store = SqlStore(str(store_path))
    capped = ServerSettings(str(store_path), max_page_size=2)
    with LiveServer(create_app(store, capped)) as server:
        monkeypatch.setenv("MLINEAGE_STORE", server.url)
        yield server
    store.close()


def test_the_experiment_df_over_a_server_holds_runs_past_its_page_cap(
    small_pages: LiveServer,
) -> None:
    mlineage.init(project="p1", experiment="sweep")
    for i in range(5):
        with mlineage.start_run(f"r{i}"):
            mlineage.log_params({"i": i})
            mlineage.log_metrics({"score": i / 10})
            mlineage.log_time_series_metrics({"loss": 1 / (i + 1)}, step=0)
    experiment = mlineage.Experiment("sweep").resource_name
    served = httpx.get(f"{small_pages.url}/v1/{experiment}:experimentRows").json()
    assert len(served["rows"]) == 2  # the server pages...
    assert served["nextPageToken"]

    frame = mlineage.get_experiment_df("sweep")  # ...and the SDK follows every page
    assert list(frame["run_name"]) == [f"r{i}" for i in range(5)]
    assert list(frame["param.i"]) == list(range(5))
    assert list(frame["metric.score"]) == [i / 10 for i in range(5)]
    assert list(frame["time_series_metric.loss"]) == [1 / (i + 1) for i in range(5)]
    runs = mlineage.ExperimentRun.list(experiment="sweep")
    assert [run.name for run in runs] == [f"r{i}" for i in range(5)]
    kept = mlineage.ExperimentRun.list(experiment="sweep", filter="param.i >= 1")
    assert [run.name for run in kept] == [f"r{i}" for i in range(1, 5)]
    store = settings.store()
    page = store.experiment_rows(experiment, page_size=3)  # a page size passes through
    assert [row.run_name for row in page.items] == ["r0", "r1", "r2"]
    rest = store.experiment_rows(experiment, page_size=3, page_token=page.next_page_token)
    assert ([row.run_name for row in rest.items], rest.next_page_token) == (["r3", "r4"], "")


def test_the_sdk_opens_a_rest_store_for_a_server_url(remote: LiveServer) -> None:
    assert isinstance(settings.store(), RestStore)
    mlineage.init(store="sqlite:///elsewhere.db")
    assert not isinstance(settings.store(), RestStore)
    mlineage.init(api_endpoint=remote.url)
    assert isinstance(settings.store(), RestStore)
    assert settings.store_url == remote.url


def test_an_endpoint_without_a_scheme_means_https_as_in_vertex() -> None:
    mlineage.init(api_endpoint="metadata.example.com:8443")
    assert settings.store_url == "https://metadata.example.com:8443"
    with pytest.raises(InvalidArgumentError, match="api_endpoint"):
        mlineage.init(store="x.db", api_endpoint="http://h:1")


def test_the_token_comes_from_credentials_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLINEAGE_TOKEN", "from-env")
    mlineage.init()
    assert settings.token() == "from-env"
    mlineage.init(credentials="given")
    assert settings.token() == "given"
    mlineage.init(credentials=SimpleNamespace(token="google-style"))
    assert settings.token() == "google-style"


def test_the_settings_repr_never_shows_the_token() -> None:
    mlineage.init(credentials="mlt_secret-value")
    assert "mlt_secret-value" not in repr(settings)
    assert "mlt_secret-value" not in str(settings)


def test_the_walkthrough_runs_against_a_server_and_reads_back_locally(
    walkthrough: dict[str, Any], local: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    processed = "gs://bucket/processed/train.csv"
    preprocessing = walkthrough["preprocess_data_with_metadata"](
        "gs://bucket/raw/events.parquet", processed, {"scaling": "minmax"}
    )
    training = walkthrough["train_model_with_metadata"](
        processed, HYPERPARAMETERS, "gs://bucket/models/m1"
    )
    walkthrough["run_hyperparameter_experiment"]()
    assert isinstance(settings.store(), RestStore)
    model = mlineage.Artifact.get_with_uri("gs://bucket/models/m1")
    capsys.readouterr()
    walkthrough["get_model_lineage"](model.name)
    assert "Artifact: raw-data" in capsys.readouterr().out

    # The same facts, read from the database file by a local store.
    default = f"{MY_PROJECT}/contexts/default"
    runs = {run.context.display_name: run for run in local.list_runs(default).items}
    assert set(runs) == {preprocessing, training}
    assert local.get_params(runs[training].context.name)["learning_rate"] == 0.1
    assert local.get_metrics(runs[training].context.name)["accuracy"] == 0.92
    assert runs[preprocessing].state.name == "COMPLETE"
    (stored_model,) = local.list(MY_PROJECT, Artifact, filter='uri="gs://bucket/models/m1"').items
    lineage = local.query_artifact_lineage_subgraph(stored_model.name, direction="upstream")
    assert {a.display_name for a in lineage.artifacts} >= {"trained-model", "raw-data"}
    assert {e.display_name for e in lineage.executions} >= {training, preprocessing}

    sweep = pd.DataFrame(
        [
            row.params | {"run": row.run_name}
            for row in local.experiment_rows(f"{MY_PROJECT}/contexts/churn-prediction-v2").items
        ]
    )
    assert sorted(sweep["run"]) == ["config-0", "config-1", "config-2", "config-3"]
    remote_frame = mlineage.get_experiment_df("churn-prediction-v2")
    assert sorted(remote_frame["run_name"]) == sorted(sweep["run"])


def test_time_series_and_diff_work_remotely(remote: LiveServer, local: SqlStore) -> None:
    mlineage.init(project="p1", experiment="exp")
    with mlineage.start_run("a") as first:
        mlineage.log_params({"depth": 6})
        for loss in (1.0, 0.5, 0.25):
            mlineage.log_time_series_metrics({"loss": loss})
    with mlineage.start_run("b") as second:
        mlineage.log_params({"depth": 8})
    frame = first.get_time_series_data_frame()
    assert frame["loss"].tolist() == [1.0, 0.5, 0.25]
    assert "depth: 6 -> 8" in str(mlineage.diff(first, second))
    points = local.read_time_series(first.resource_name)
    assert [p.step for p in points] == [0, 1, 2]
