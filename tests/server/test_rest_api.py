"""The REST API over real HTTP: Vertex's resource model, Google's JSON and error shapes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlineage.server.app import ServerSettings, create_app
from mlineage.store.sql import SqlStore
from tests.live_server import LiveServer

STORE = "/v1/projects/p1/locations/us-central1/metadataStores/default"
NAME = STORE.removeprefix("/v1/")
INT_ENUMS = {"$alt": "json;enum-encoding=int"}
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def settings(store_path: Path) -> ServerSettings:
    return ServerSettings(str(store_path), max_page_size=3, max_lineage_nodes=3)


@pytest.fixture
def api(store_path: Path, settings: ServerSettings) -> Iterator[httpx.Client]:
    store = SqlStore(str(store_path))
    with (
        LiveServer(create_app(store, settings)) as server,
        httpx.Client(base_url=server.url, timeout=60.0) as client,
    ):
        yield client
    store.close()


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] == status
    assert body["status"] == code
    assert body["message"]
    return body


def violated_field(body: dict[str, Any]) -> str:
    (detail,) = body["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    field: str = detail["fieldViolations"][0]["field"]
    return field


def artifact(api: httpx.Client, artifact_id: str, **fields: Any) -> dict[str, Any]:
    body = {"schemaTitle": "system.Dataset", "uri": f"gs://b/{artifact_id}", **fields}
    created: dict[str, Any] = ok(api.post(f"{STORE}/artifacts?artifactId={artifact_id}", json=body))
    return created


def test_create_and_get_speak_camel_case_rfc3339_and_enum_names(api: httpx.Client) -> None:
    created = artifact(api, "raw", displayName="raw data", metadata={"rows": 10, "ratio": 0.5})
    assert created["name"] == f"{NAME}/artifacts/raw"
    assert created["displayName"] == "raw data"
    assert created["schemaTitle"] == "system.Dataset"
    assert created["state"] == "LIVE"
    assert created["metadata"] == {"rows": 10, "ratio": 0.5}
    assert RFC3339_Z.match(created["createTime"])
    assert ok(api.get(f"{STORE}/artifacts/raw")) == created


def test_enum_encoding_int_is_read_and_written_as_the_vertex_sdk_does(api: httpx.Client) -> None:
    sent = {"displayName": "train", "schemaTitle": "system.ContainerExecution", "state": 3}
    created = ok(
        api.post(f"{STORE}/executions", params={**INT_ENUMS, "executionId": "e1"}, json=sent)
    )
    assert created["state"] == 3
    assert ok(api.get(f"{STORE}/executions/e1"))["state"] == "COMPLETE"
    assert ok(api.get(f"{STORE}/executions/e1", params=INT_ENUMS))["state"] == 3


def test_a_missing_resource_is_404_in_googles_shape(api: httpx.Client) -> None:
    body = error(api.get(f"{STORE}/artifacts/nothing"), 404, "NOT_FOUND")
    assert "artifacts/nothing" in body["message"]
    error(api.get(f"{STORE}/noSuchCollection"), 404, "NOT_FOUND")


def test_a_taken_id_is_409_already_exists(api: httpx.Client) -> None:
    artifact(api, "a1")
    response = api.post(f"{STORE}/artifacts?artifactId=a1", json={"uri": "gs://b/other"})
    error(response, 409, "ALREADY_EXISTS")


def test_bad_input_is_400_naming_the_field(api: httpx.Client) -> None:
    bad_id = error(
        api.post(f"{STORE}/artifacts?artifactId=Not_Valid", json={}), 400, "INVALID_ARGUMENT"
    )
    assert violated_field(bad_id) == "artifact_id"
    bad_enum = api.post(f"{STORE}/artifacts", json={"state": "MELTED"})
    assert violated_field(error(bad_enum, 400, "INVALID_ARGUMENT")) == "state"
    bad_filter = api.get(f"{STORE}/artifacts", params={"filter": 'uri = = "x"'})
    assert violated_field(error(bad_filter, 400, "INVALID_ARGUMENT")) == "filter"
    bad_hops = api.get(f"{STORE}/artifacts/a:queryArtifactLineageSubgraph?maxHops=x")
    assert violated_field(error(bad_hops, 400, "INVALID_ARGUMENT")) == "maxHops"


def test_a_stale_etag_is_aborted_with_the_text_the_vertex_sdk_retries_on(
    api: httpx.Client,
) -> None:
    created = ok(api.post(f"{STORE}/contexts?contextId=c1", json={"displayName": "one"}))
    assert created["etag"] == "1"
    ok(api.patch(f"{STORE}/contexts/c1", json={**created, "displayName": "two"}))
    stale = api.patch(f"{STORE}/contexts/c1", json={**created, "displayName": "three"})
    body = error(stale, 409, "ABORTED")
    assert body["message"] == "Specified Context `etag`: `1` does not match server `etag`: `2`"


def test_patch_with_an_update_mask_changes_only_the_masked_fields(api: httpx.Client) -> None:
    artifact(api, "a1", displayName="old", description="keep me")
    patched = ok(
        api.patch(
            f"{STORE}/artifacts/a1",
            params={"updateMask": "displayName"},
            json={"displayName": "new", "description": ""},
        )
    )
    assert (patched["displayName"], patched["description"]) == ("new", "keep me")
    bad = api.patch(f"{STORE}/artifacts/a1", params={"updateMask": "schemaTitle"}, json={})
    assert violated_field(error(bad, 400, "INVALID_ARGUMENT")) == "update_mask"


def test_list_pages_round_trip_within_the_servers_page_size_cap(api: httpx.Client) -> None:
    for i in range(7):
        artifact(api, f"a{i}")
    seen: list[str] = []
    params: dict[str, Any] = {"pageSize": 100, "orderBy": "name desc"}  # capped at 3
    while True:
        page = ok(api.get(f"{STORE}/artifacts", params=params))
        assert len(page["artifacts"]) <= 3
        seen += [a["name"].rsplit("/", 1)[1] for a in page["artifacts"]]
        if not page["nextPageToken"]:
            break
        params["pageToken"] = page["nextPageToken"]
    assert seen == [f"a{i}" for i in reversed(range(7))]


def test_list_filters_use_the_vertex_language(api: httpx.Client) -> None:
    artifact(api, "d1")
    artifact(api, "m1", schemaTitle="system.Model")
    ok(api.post(f"{STORE}/contexts?contextId=c", json={}))
    ok(
        api.post(
            f"{STORE}/contexts/c:addContextArtifactsAndExecutions",
            json={"artifacts": [f"{NAME}/artifacts/d1"]},
        )
    )
    models = ok(api.get(f"{STORE}/artifacts", params={"filter": 'schema_title="system.Model"'}))
    assert [a["name"] for a in models["artifacts"]] == [f"{NAME}/artifacts/m1"]
    member = ok(
        api.get(f"{STORE}/artifacts", params={"filter": f'in_context("{NAME}/contexts/c")'})
    )
    assert [a["name"] for a in member["artifacts"]] == [f"{NAME}/artifacts/d1"]


def test_events_and_lineage_subgraphs(api: httpx.Client) -> None:
    artifact(api, "raw")
    artifact(api, "model", schemaTitle="system.Model")
    ok(api.post(f"{STORE}/executions?executionId=train", json={"state": "COMPLETE"}))
    events = [
        {"artifact": f"{NAME}/artifacts/raw", "type": "INPUT"},
        {"artifact": f"{NAME}/artifacts/model", "type": 2},
    ]
    assert (
        ok(api.post(f"{STORE}/executions/train:addExecutionEvents", json={"events": events})) == {}
    )
    io = ok(api.get(f"{STORE}/executions/train:queryExecutionInputsAndOutputs"))
    assert {(e["artifact"].rsplit("/", 1)[1], e["type"]) for e in io["events"]} == {
        ("raw", "INPUT"),
        ("model", "OUTPUT"),
    }
    graph = ok(
        api.get(
            f"{STORE}/artifacts/model:queryArtifactLineageSubgraph",
            params={"maxHops": 2, "direction": "upstream"},
        )
    )
    assert sorted(a["name"].rsplit("/", 1)[1] for a in graph["artifacts"]) == ["model", "raw"]
    assert [e["name"].rsplit("/", 1)[1] for e in graph["executions"]] == ["train"]
    only = ok(api.get(f"{STORE}/artifacts/model:queryArtifactLineageSubgraph?maxHops=0"))
    assert [a["name"].rsplit("/", 1)[1] for a in only["artifacts"]] == ["model"]


def test_lineage_is_cut_at_the_servers_node_cap(api: httpx.Client) -> None:
    ok(api.post(f"{STORE}/executions?executionId=fan", json={}))
    for i in range(5):
        artifact(api, f"in{i}")
    events = [{"artifact": f"{NAME}/artifacts/in{i}", "type": "INPUT"} for i in range(5)]
    artifact(api, "out")
    events.append({"artifact": f"{NAME}/artifacts/out", "type": "OUTPUT"})
    ok(api.post(f"{STORE}/executions/fan:addExecutionEvents", json={"events": events}))
    graph = ok(api.get(f"{STORE}/artifacts/out:queryArtifactLineageSubgraph?nodeLimit=1000"))
    assert graph["truncated"] is True
    assert len(graph["artifacts"]) <= 3


def test_context_children_show_as_parent_contexts_and_cycles_are_refused(
    api: httpx.Client,
) -> None:
    for context_id in ("exp", "run"):
        ok(api.post(f"{STORE}/contexts?contextId={context_id}", json={}))
    child = {"childContexts": [f"{NAME}/contexts/run"]}
    ok(api.post(f"{STORE}/contexts/exp:addContextChildren", json=child))
    assert ok(api.get(f"{STORE}/contexts/run"))["parentContexts"] == [f"{NAME}/contexts/exp"]
    cycle = {"childContexts": [f"{NAME}/contexts/exp"]}
    error(api.post(f"{STORE}/contexts/run:addContextChildren", json=cycle), 400, "INVALID_ARGUMENT")
    ok(api.post(f"{STORE}/contexts/exp:removeContextChildren", json=child))
    assert ok(api.get(f"{STORE}/contexts/run"))["parentContexts"] == []


def test_stores_and_deletes_answer_done_long_running_operations(api: httpx.Client) -> None:
    stores = "/v1/projects/p1/locations/us-central1/metadataStores"
    error(api.get(STORE), 404, "NOT_FOUND")
    made = ok(api.post(stores, params={"metadataStoreId": "default"}, json={"description": "d"}))
    assert made["done"] is True
    assert made["name"].startswith(f"{NAME}/operations/")
    assert (
        made["response"]["@type"] == "type.googleapis.com/google.cloud.aiplatform.v1.MetadataStore"
    )
    assert made["response"]["name"] == NAME
    assert ok(api.get(STORE))["description"] == "d"
    error(api.post(stores, params={"metadataStoreId": "default"}, json={}), 409, "ALREADY_EXISTS")

    artifact(api, "gone")
    deleted = ok(api.delete(f"{STORE}/artifacts/gone"))
    assert deleted["done"] is True
    assert deleted["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    error(api.get(f"{STORE}/artifacts/gone"), 404, "NOT_FOUND")


def test_metadata_stores_are_listed_page_by_page_within_the_servers_cap(
    api: httpx.Client,
) -> None:
    stores = "/v1/projects/p1/locations/us-central1/metadataStores"
    assert ok(api.get(stores)) == {"metadataStores": [], "nextPageToken": ""}
    for i in range(5):
        ok(api.post(stores, params={"metadataStoreId": f"s{i}"}, json={"description": f"d{i}"}))
    elsewhere = "/v1/projects/p2/locations/us-central1/metadataStores"
    for store_id in ("s8", "s9"):
        ok(api.post(elsewhere, params={"metadataStoreId": store_id}, json={}))
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"pageSize": 100}  # capped at 3
    while True:
        page = ok(api.get(stores, params=params))
        assert len(page["metadataStores"]) <= 3
        seen += page["metadataStores"]
        if not page["nextPageToken"]:
            break
        params["pageToken"] = page["nextPageToken"]
    assert [s["name"] for s in seen] == [f"{stores[4:]}/s{i}" for i in range(5)]
    assert seen[0] == ok(api.get(f"{stores}/s0"))
    assert seen[1]["description"] == "d1"
    assert RFC3339_Z.match(seen[1]["createTime"])
    assert ok(api.get("/v1/projects/p9/locations/nowhere/metadataStores"))["metadataStores"] == []

    bad_token = api.get(stores, params={"pageToken": "not-a-token"})
    assert violated_field(error(bad_token, 400, "INVALID_ARGUMENT")) == "page_token"
    another = ok(api.get(elsewhere, params={"pageSize": 1}))["nextPageToken"]
    not_this_list = api.get(stores, params={"pageToken": another})
    assert violated_field(error(not_this_list, 400, "INVALID_ARGUMENT")) == "page_token"
    negative = api.get(stores, params={"pageSize": -1})
    assert violated_field(error(negative, 400, "INVALID_ARGUMENT")) == "page_size"


def test_metadata_schemas_are_created_got_and_listed(api: httpx.Client) -> None:
    schema = {
        "schemaTitle": "acme.Table",
        "schemaVersion": "1.0.0",
        "schema": '{"type": "object", "required": ["rows"]}',
        "schemaType": "ARTIFACT_TYPE",
    }
    made = ok(api.post(f"{STORE}/metadataSchemas?metadataSchemaId=table", json=schema))
    assert ok(api.get(f"{STORE}/metadataSchemas/table")) == made
    listed = ok(api.get(f"{STORE}/metadataSchemas"))
    assert [s["name"] for s in listed["metadataSchemas"]] == [f"{NAME}/metadataSchemas/table"]
    refused = api.post(
        f"{STORE}/artifacts", json={"schemaTitle": "acme.Table", "metadata": {"cols": 1}}
    )
    error(refused, 400, "INVALID_ARGUMENT")


def run(api: httpx.Client, run_id: str = "exp-r1") -> str:
    ok(api.post(f"{STORE}/contexts?contextId=exp", json={"schemaTitle": "system.Experiment"}))
    made = ok(
        api.post(
            f"{STORE}/contexts:createRun",
            json={
                "runId": run_id,
                "context": {"displayName": "r1", "schemaTitle": "system.ExperimentRun"},
                "experiment": f"{NAME}/contexts/exp",
            },
        )
    )
    assert made["state"] == "RUNNING"
    return f"{STORE}/contexts/{run_id}"


def test_runs_log_typed_params_and_non_finite_metrics(api: httpx.Client) -> None:
    path = run(api)
    params = {
        "lr": {"doubleValue": 0.1},
        "epochs": {"intValue": "3"},
        "opt": {"stringValue": "adam"},
        "shuffle": {"boolValue": True},
    }
    ok(api.post(f"{path}:logParams", json={"params": params}))
    ok(
        api.post(
            f"{path}:logMetrics", json={"metrics": {"acc": 0.9, "loss": "NaN", "x": "-Infinity"}}
        )
    )
    assert ok(api.get(f"{path}:readParams"))["params"] == params
    assert ok(api.get(f"{path}:readMetrics"))["metrics"] == {
        "acc": 0.9,
        "loss": "NaN",
        "x": "-Infinity",
    }
    ended = ok(api.patch(f"{path}/run", json={"state": "COMPLETE"}))
    assert ended["state"] == "COMPLETE"
    assert "endTime" in ended
    runs = ok(api.get(f"{STORE}/contexts/exp:listRuns", params={"filter": "metric.acc > 0.5"}))
    assert [r["context"]["displayName"] for r in runs["runs"]] == ["r1"]
    rows = ok(api.get(f"{STORE}/contexts/exp:experimentRows"))["rows"]
    assert rows[0]["params"]["epochs"] == {"intValue": "3"}


def _sweep(api: httpx.Client, experiment_id: str, runs: int) -> str:
    """An experiment of `runs` runs, `{experiment_id}-r0` first, each with param `i`."""
    ok(
        api.post(
            f"{STORE}/contexts",
            params={"contextId": experiment_id},
            json={"schemaTitle": "system.Experiment"},
        )
    )
    for i in range(runs):
        run_id = f"{experiment_id}-r{i}"
        context = {"displayName": run_id, "schemaTitle": "system.ExperimentRun"}
        body = {
            "runId": run_id,
            "context": context,
            "experiment": f"{NAME}/contexts/{experiment_id}",
        }
        ok(api.post(f"{STORE}/contexts:createRun", json=body))
        params = {"i": {"intValue": str(i)}}
        ok(api.post(f"{STORE}/contexts/{run_id}:logParams", json={"params": params}))
    return f"{STORE}/contexts/{experiment_id}"


def test_runs_and_experiment_rows_are_paged_within_the_servers_cap(api: httpx.Client) -> None:
    experiment = _sweep(api, "exp", 7)
    _sweep(api, "other", 2)
    names = {
        "listRuns": lambda r: r["context"]["displayName"],
        "experimentRows": lambda r: r["runName"],
    }
    for verb, field in (("listRuns", "runs"), ("experimentRows", "rows")):
        name = names[verb]
        first = ok(api.get(f"{experiment}:{verb}"))  # no pageSize: the capped page of 3
        assert [name(r) for r in first[field]] == ["exp-r0", "exp-r1", "exp-r2"], verb
        assert first["nextPageToken"]
        seen: list[str] = []
        sizes: list[int] = []
        params: dict[str, Any] = {"pageSize": 100, "filter": "param.i >= 1"}  # capped at 3
        while True:
            page = ok(api.get(f"{experiment}:{verb}", params=params))
            seen += [name(r) for r in page[field]]
            sizes.append(len(page[field]))
            if not page["nextPageToken"]:
                break
            params["pageToken"] = page["nextPageToken"]
        assert seen == [f"exp-r{i}" for i in range(1, 7)], verb
        assert sizes == [3, 3], verb
        two = ok(api.get(f"{experiment}:{verb}", params={"pageSize": 2}))
        assert [name(r) for r in two[field]] == ["exp-r0", "exp-r1"], verb

        bad_token = api.get(f"{experiment}:{verb}", params={"pageToken": "not-a-token"})
        assert violated_field(error(bad_token, 400, "INVALID_ARGUMENT")) == "page_token"
        other = ok(api.get(f"{STORE}/contexts/other:{verb}", params={"pageSize": 1}))
        not_this_list = api.get(
            f"{experiment}:{verb}", params={"pageToken": other["nextPageToken"]}
        )
        assert violated_field(error(not_this_list, 400, "INVALID_ARGUMENT")) == "page_token"
        negative = api.get(f"{experiment}:{verb}", params={"pageSize": -1})
        assert violated_field(error(negative, 400, "INVALID_ARGUMENT")) == "page_size"
    runs_token = ok(api.get(f"{experiment}:listRuns"))["nextPageToken"]
    crossed = api.get(f"{experiment}:experimentRows", params={"pageToken": runs_token})
    assert violated_field(error(crossed, 400, "INVALID_ARGUMENT")) == "page_token"
    last = ok(api.get(f"{STORE}/contexts/other:experimentRows"))
    assert [r["params"] for r in last["rows"]] == [
        {"i": {"intValue": "0"}},
        {"i": {"intValue": "1"}},
    ]
    assert last["nextPageToken"] == ""


def test_a_time_series_write_with_a_request_id_is_written_once(api: httpx.Client) -> None:
    path = run(api)
    first = ok(
        api.post(f"{path}:writeTimeSeries", json={"metrics": {"loss": 1.0}, "requestId": "q1"})
    )
    again = ok(
        api.post(f"{path}:writeTimeSeries", json={"metrics": {"loss": 9.0}, "requestId": "q1"})
    )
    later = ok(
        api.post(f"{path}:writeTimeSeries", json={"metrics": {"loss": 0.5}, "requestId": "q2"})
    )
    assert (first["step"], again["step"], later["step"]) == ("0", "0", "1")
    points = ok(api.get(f"{path}:readTimeSeries"))["points"]
    assert [(p["step"], p["value"]) for p in points] == [("0", 1.0), ("1", 0.5)]


def test_int64_fields_are_written_as_strings_and_read_from_either(api: httpx.Client) -> None:
    path = run(api)
    points = [
        {"key": "loss", "step": step, "value": 1.0, "wallTime": "2026-01-01T00:00:00Z"}
        for step in (1, "2", 3.0, str(2**63 - 1))
    ]
    ok(api.post(f"{path}:writeTimeSeriesPoints", json={"points": points}))
    read = ok(api.get(f"{path}:readTimeSeries"))["points"]
    assert [p["step"] for p in read] == ["1", "2", "3", str(2**63 - 1)]
    counted = ok(api.get(f"{STORE}/contexts/exp:countRuns"))
    assert counted == {"count": "1"}
    for given in (3, "3", 3.0):
        ok(api.post(f"{path}:logParams", json={"params": {"n": {"intValue": given}}}))
        assert ok(api.get(f"{path}:readParams"))["params"]["n"] == {"intValue": "3"}
    for wrong in (True, 2**63, str(-(2**63) - 1), "3.5", 3.5, "0x10", None):
        sent = api.post(f"{path}:logParams", json={"params": {"n": {"intValue": wrong}}})
        if wrong is None:  # no value set at all
            error(sent, 400, "INVALID_ARGUMENT")
            continue
        assert violated_field(error(sent, 400, "INVALID_ARGUMENT")) == "params.n.intValue", wrong
    beyond = {"key": "loss", "step": 2**64, "value": 1.0, "wallTime": "2026-01-01T00:00:00Z"}
    sent = api.post(f"{path}:writeTimeSeriesPoints", json={"points": [beyond]})
    assert violated_field(error(sent, 400, "INVALID_ARGUMENT")) == "points.0.step"


def test_a_thousand_points_go_in_one_request(api: httpx.Client) -> None:
    path = run(api)
    points = [
        {"key": "loss", "step": step, "value": 1 / (step + 1), "wallTime": "2026-01-01T00:00:00Z"}
        for step in range(1000)
    ]
    ok(api.post(f"{path}:writeTimeSeriesPoints", json={"points": points}))
    read = ok(api.get(f"{path}:readTimeSeries", params={"keys": "loss"}))["points"]
    assert len(read) == 1000
    assert read[999]["wallTime"] == "2026-01-01T00:00:00.000000Z"


def test_batch_create_is_all_or_nothing(api: httpx.Client) -> None:
    requests = [{"artifactId": "b1", "artifact": {}}, {"artifactId": "b2", "artifact": {}}]
    made = ok(api.post(f"{STORE}/artifacts:batchCreate", json={"requests": requests}))
    assert [a["name"].rsplit("/", 1)[1] for a in made["artifacts"]] == ["b1", "b2"]
    clash = [{"artifactId": "b3", "artifact": {}}, {"artifactId": "b1", "artifact": {}}]
    error(
        api.post(f"{STORE}/artifacts:batchCreate", json={"requests": clash}), 409, "ALREADY_EXISTS"
    )
    error(api.get(f"{STORE}/artifacts/b3"), 404, "NOT_FOUND")


def test_record_and_finish_an_execution_in_one_request_each(api: httpx.Client) -> None:
    artifact(api, "data")
    recorded = ok(
        api.post(
            f"{STORE}/executions:record",
            json={
                "execution": {"displayName": "train"},
                "executionId": "t1",
                "inputs": [f"{NAME}/artifacts/data"],
            },
        )
    )
    execution = recorded["execution"]
    finished = ok(
        api.post(
            f"{STORE}/executions/t1:finish",
            json={
                "execution": {**execution, "state": "COMPLETE"},
                "outputs": [{"newArtifact": {"name": f"{NAME}/artifacts/model", "uri": "gs://m"}}],
            },
        )
    )
    assert finished["execution"]["state"] == "COMPLETE"
    assert [a["name"] for a in finished["artifacts"]] == [f"{NAME}/artifacts/model"]
    graph = ok(api.get(f"{STORE}/artifacts/model:queryArtifactLineageSubgraph"))
    assert {a["uri"] for a in graph["artifacts"]} == {"gs://b/data", "gs://m"}


def test_diff_of_two_runs_names_the_changed_param(api: httpx.Client) -> None:
    first = run(api, "exp-a")
    ok(
        api.post(
            f"{STORE}/contexts:createRun",
            json={
                "runId": "exp-b",
                "context": {"displayName": "b"},
                "experiment": f"{NAME}/contexts/exp",
            },
        )
    )
    second = f"{STORE}/contexts/exp-b"
    ok(api.post(f"{first}:logParams", json={"params": {"depth": {"intValue": "6"}}}))
    ok(api.post(f"{second}:logParams", json={"params": {"depth": {"intValue": "8"}}}))
    result = ok(api.get(f"{first}:diff", params={"other": second.removeprefix("/v1/")}))
    assert result["params"] == [{"key": "depth", "before": 6, "after": 8, "delta": 2.0}]
    assert "depth: 6 -> 8" in result["text"]


def test_out_of_range_values_are_invalid_arguments_naming_the_field(api: httpx.Client) -> None:
    json_type = {"content-type": "application/json"}
    for number in ("1e400", "-1e400"):  # Python's json reads these as infinities
        body = f'{{"schemaTitle": "system.ExperimentRun", "metadata": {{"_state": {number}}}}}'
        sent = api.post(f"{STORE}/contexts?contextId=r1", content=body, headers=json_type)
        assert violated_field(error(sent, 400, "INVALID_ARGUMENT")) == "metadata._state"
    late = "9999-12-31T23:59:59-01:00"  # year 10000 in UTC
    sent = api.post(f"{STORE}/artifacts?artifactId=a1", json={"createTime": late})
    assert violated_field(error(sent, 400, "INVALID_ARGUMENT")) == "createTime"
    path = run(api)
    point = {"key": "loss", "step": 1, "value": 1.0, "wallTime": "0001-01-01T00:00:00+01:00"}
    sent = api.post(f"{path}:writeTimeSeriesPoints", json={"points": [point]})
    assert violated_field(error(sent, 400, "INVALID_ARGUMENT")) == "points.0.wallTime"


def test_a_method_a_path_lacks_is_405_naming_the_allowed_ones(api: httpx.Client) -> None:
    body = error(api.put(f"{STORE}/artifacts/a1", json={}), 405, "UNIMPLEMENTED")
    assert "GET, PATCH, DELETE" in body["message"]
    response = api.delete(f"{STORE}/artifacts")
    error(response, 405, "UNIMPLEMENTED")
    assert response.headers["Allow"] == "GET, POST"


def test_a_body_that_is_not_json_is_reported_on_the_field_body(api: httpx.Client) -> None:
    for text in (b"{", b'{"displayName": ', b"[1,"):
        sent = api.post(
            f"{STORE}/artifacts", content=text, headers={"content-type": "application/json"}
        )
        body = error(sent, 400, "INVALID_ARGUMENT")
        assert violated_field(body) == "body", text
        assert "not valid JSON" in body["message"]


def test_diff_refuses_another_store_as_other(api: httpx.Client) -> None:
    first = run(api, "exp-a")
    elsewhere = "projects/p2/locations/us-central1/metadataStores/default/contexts/exp-a"
    for other in (elsewhere, "%2F" + elsewhere, f"{NAME}/artifacts/exp-a", "exp-a"):
        body = error(api.get(f"{first}:diff?other={other}"), 400, "INVALID_ARGUMENT")
        assert violated_field(body) == "other", other


def test_openapi_documents_the_custom_methods(api: httpx.Client) -> None:
    document = ok(api.get("/openapi.json"))
    verbs = {path.rsplit(":", 1)[1] for path in document["paths"] if ":" in path.rsplit("/", 1)[1]}
    assert verbs >= {
        "addContextArtifactsAndExecutions",
        "addContextChildren",
        "removeContextChildren",
        "addExecutionEvents",
        "queryExecutionInputsAndOutputs",
        "queryArtifactLineageSubgraph",
        "queryContextLineageSubgraph",
        "batchCreate",
        "record",
        "finish",
        "createRun",
        "listRuns",
        "logParams",
        "logMetrics",
        "writeTimeSeries",
        "writeTimeSeriesPoints",
        "readParams",
        "readMetrics",
        "readTimeSeries",
        "experimentRows",
        "diff",
    }
    assert {"ArtifactJson", "LineageSubgraphJson", "WriteTimeSeriesRequest"} <= set(
        document["components"]["schemas"]
    )
