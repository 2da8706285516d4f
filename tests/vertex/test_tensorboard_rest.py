"""TensorboardService over HTTP as Vertex AI's REST clients speak it: LRO shapes, numeric
enums on request, repeated query parameters, and Google-shaped errors."""

from __future__ import annotations

import httpx
import pytest

from tests.vertex.conftest import Server

LOCATION = "/v1/projects/p/locations/us-central1"
STORE = f"{LOCATION}/metadataStores/default"
ENUM_INT = {"$alt": "json;enum-encoding=int"}


@pytest.fixture
def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def _ok(reply: httpx.Response) -> dict[str, object]:
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


def test_the_time_series_round_trip_over_rest(client: httpx.Client) -> None:
    operation = _ok(
        client.post(
            f"{LOCATION}/tensorboards",
            params=ENUM_INT,
            json={"displayName": "tb", "isDefault": True},
        )
    )
    assert operation["done"] is True
    board = operation["response"]
    assert isinstance(board, dict)
    assert board["@type"] == "type.googleapis.com/google.cloud.aiplatform.v1.Tensorboard"
    name = board["name"]
    listed = _ok(client.get(f"{LOCATION}/tensorboards", params={"filter": "is_default=true"}))
    assert [t["name"] for t in listed["tensorboards"]] == [name]  # type: ignore[index,union-attr]

    experiment = _ok(
        client.post(
            f"/v1/{name}/experiments",
            params={"tensorboardExperimentId": "exp"},
            json={"displayName": "exp"},
        )
    )
    run = _ok(
        client.post(f"/v1/{experiment['name']}/runs", params={"tensorboardRunId": "r1"}, json={})
    )
    assert run["name"] == f"{experiment['name']}/runs/r1"
    # The run is mlineage's: a system.ExperimentRun context `exp-r1` under experiment `exp`.
    context = _ok(client.get(f"{STORE}/contexts/exp-r1"))
    assert context["schemaTitle"] == "system.ExperimentRun"
    assert context["parentContexts"] == [
        "projects/p/locations/us-central1/metadataStores/default/contexts/exp"
    ]

    series = _ok(
        client.post(
            f"/v1/{run['name']}/timeSeries",
            params=ENUM_INT,
            json={"displayName": "Val Loss", "valueType": 1, "pluginName": "scalars"},
        )
    )
    assert series["valueType"] == 1
    series_id = str(series["name"]).rsplit("/", 1)[1]
    _ok(
        client.post(
            f"/v1/{run['name']}:write",
            params=ENUM_INT,
            json={
                "timeSeriesData": [
                    {
                        "tensorboardTimeSeriesId": series_id,
                        "valueType": 1,
                        "values": [
                            {
                                "step": "1",
                                "wallTime": "2026-01-02T03:04:05Z",
                                "scalar": {"value": 0.5},
                            },
                            {
                                "step": 2,
                                "wallTime": "2026-01-02T03:04:06Z",
                                "scalar": {"value": "NaN"},
                            },
                        ],
                    }
                ]
            },
        )
    )
    read = _ok(
        client.get(
            f"/v1/{name}:batchRead",
            params=[("timeSeries", series["name"]), ("timeSeries", series["name"])],
        )
    )
    (first, second) = read["timeSeriesData"]  # type: ignore[misc]
    assert first == second
    assert first["tensorboardTimeSeriesId"] == series_id
    # int64 is written as a string, as Google's JSON encoding does.
    assert [(v["step"], v["scalar"]["value"]) for v in first["values"]] == [
        ("1", 0.5),
        ("2", "NaN"),
    ]
    assert first["values"][0]["wallTime"] == "2026-01-02T03:04:05.000000Z"
    # mlineage's own run endpoint sees the same points under the key.
    listed_series = _ok(client.get(f"/v1/{run['name']}/timeSeries"))
    assert [s["displayName"] for s in listed_series["tensorboardTimeSeries"]] == ["Val Loss"]  # type: ignore[union-attr]


def test_errors_are_google_shaped(client: httpx.Client) -> None:
    missing = client.get(f"{LOCATION}/tensorboards/404")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    bad_filter = client.get(f"{LOCATION}/tensorboards", params={"filter": "is_default=maybe"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error"]["status"] == "INVALID_ARGUMENT"
    operation = _ok(client.post(f"{LOCATION}/tensorboards", json={"displayName": "tb"}))
    name = operation["response"]["name"]  # type: ignore[index]
    no_experiment = client.get(f"/v1/{name}/experiments/nope")
    assert no_experiment.status_code == 404
    _ok(client.post(f"/v1/{name}/experiments", params={"tensorboardExperimentId": "e"}, json={}))
    again = client.post(f"/v1/{name}/experiments", params={"tensorboardExperimentId": "e"}, json={})
    assert again.status_code == 409
    assert again.json()["error"]["status"] == "ALREADY_EXISTS"
    _ok(client.post(f"/v1/{name}/experiments/e/runs", params={"tensorboardRunId": "r"}, json={}))
    bad_id = client.post(
        f"/v1/{name}/experiments/e/runs/r:write",
        json={"timeSeriesData": [{"tensorboardTimeSeriesId": "Not An Id", "values": []}]},
    )
    assert bad_id.status_code == 400
    violation = bad_id.json()["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == "time_series_data[0].tensorboard_time_series_id"
    tensor = client.post(
        f"/v1/{name}/experiments/e/runs/r/timeSeries",
        json={"displayName": "img", "valueType": "TENSOR"},
    )
    assert tensor.status_code == 400
