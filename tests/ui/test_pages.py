"""The UI's pages and data endpoints, served by the app over a store holding the sample."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from mlineage.server.app import ServerSettings, create_app
from mlineage.types import Artifact, Execution, TimeSeriesPoint
from tests.ui.conftest import BROWSER, Ui
from tests.ui.html import table
from tests.ui.sample import INJECTION, PARENT


def _runs(page: str) -> list[str]:
    """The run names of the runs table, top to bottom."""
    header, rows = table(page, "runs-table")
    column = header.index("run")
    return [row[column] for row in rows]


def test_home_opens_the_default_project(ui: Ui) -> None:
    response = ui.client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert (
        response.headers["location"]
        == "/projects/default/locations/us-central1/metadataStores/default"
    )


def test_the_store_page_lists_experiments_and_artifacts(ui: Ui) -> None:
    page = ui.get(str(PARENT))
    assert f'href="/{ui.sample.experiment}"' in page
    assert "model-lr-0-1" in page
    assert "clean-data" in page


def test_the_artifact_filter_narrows_and_reports_errors_inline(ui: Ui) -> None:
    page = ui.get(str(PARENT), filter='schema_title="system.Model"')
    assert "model-lr-0-1" in page
    assert "clean-data" not in page
    page = ui.get(str(PARENT), filter="schema_title ==")
    assert 'class="error"' in page
    assert "position" in page


def test_the_runs_table_has_a_row_per_run_and_param_and_metric_columns(ui: Ui) -> None:
    page = ui.get(ui.sample.experiment)
    header, rows = table(page, "runs-table")
    assert len(rows) == 5
    for column in ("learning_rate", "batch_size", "accuracy", "loss"):
        assert column in header
    assert "5 of 5 runs" in page


def test_the_runs_table_shows_runs_past_the_apis_page_cap(ui: Ui) -> None:
    capped = ServerSettings(store_url="capped", max_page_size=2)  # the API's pages: 2 runs
    with TestClient(create_app(ui.store, capped), base_url="http://127.0.0.1") as client:
        page = client.get(f"/{ui.sample.experiment}").text
        filtered = client.get(
            f"/{ui.sample.experiment}", params={"filter": "metric.accuracy > 0.72"}
        )
        spreadsheet = client.get(f"/{ui.sample.experiment}/runs.csv").text
    assert len(_runs(page)) == 5
    assert "5 of 5 runs" in page
    assert sorted(_runs(filtered.text)) == ["lr-0-001", "lr-0-01", "lr-0-3"]
    assert len(list(csv.DictReader(io.StringIO(spreadsheet)))) == 5


def test_the_runs_table_sorts_by_a_metric_either_way(ui: Ui) -> None:
    ascending = _runs(ui.get(ui.sample.experiment, sort="metric.accuracy"))
    assert ascending[:4] == ["lr-0-1", "lr-0-01", "lr-0-001", "lr-0-3"]
    assert ascending[4] == INJECTION  # no accuracy: last, whichever the direction
    descending = _runs(ui.get(ui.sample.experiment, sort="metric.accuracy", desc="true"))
    assert descending == ["lr-0-3", "lr-0-001", "lr-0-01", "lr-0-1", INJECTION]


def test_the_runs_table_sorts_by_a_param(ui: Ui) -> None:
    names = _runs(ui.get(ui.sample.experiment, sort="param.learning_rate"))
    assert names[:4] == ["lr-0-001", "lr-0-01", "lr-0-1", "lr-0-3"]


def test_the_filter_box_narrows_the_runs(ui: Ui) -> None:
    page = ui.get(ui.sample.experiment, filter="metric.accuracy > 0.72")
    assert sorted(_runs(page)) == ["lr-0-001", "lr-0-01", "lr-0-3"]
    assert "3 of 5 runs" in page


def test_a_bad_filter_is_shown_inline_with_its_position(ui: Ui) -> None:
    page = ui.get(ui.sample.experiment, filter="metric.accuracy >> 1")
    assert 'id="filter-error"' in page
    assert re.search(r"at position \d+", page)
    assert len(_runs(page)) == 5  # the table stays, unfiltered
    assert 'value="metric.accuracy &gt;&gt; 1"' in page  # the text stays in the box


def test_only_columns_that_differ(ui: Ui) -> None:
    every = table(ui.get(ui.sample.experiment, filter="metric.accuracy > 0"), "runs-table")[0]
    differ = ui.get(ui.sample.experiment, filter="metric.accuracy > 0", differ="true")
    header = table(differ, "runs-table")[0]
    assert "optimizer" in every
    assert "optimizer" not in header
    assert "learning_rate" in header
    assert "accuracy" in header
    assert "columns with the same value everywhere hidden" in differ


def test_the_runs_csv_has_every_matching_run_sorted(ui: Ui) -> None:
    response = ui.client.get(
        f"/{ui.sample.experiment}/runs.csv",
        params={"sort": "metric.accuracy", "desc": "true", "filter": "metric.accuracy > 0.72"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["run"] for row in rows] == ["lr-0-3", "lr-0-001", "lr-0-01"]
    assert rows[0]["resource_name"] == ui.sample.runs["lr-0-3"]
    assert float(rows[0]["metric.accuracy"]) == pytest.approx(0.85)
    assert rows[0]["param.optimizer"] == "adam"


def test_the_csv_defuses_text_a_spreadsheet_would_run(ui: Ui) -> None:
    ui.store.log_params(ui.sample.runs["lr-0-1"], {"formula": "=HYPERLINK(1)"})
    text = ui.client.get(f"/{ui.sample.experiment}/runs.csv").text
    assert "'=HYPERLINK(1)" in text


def test_a_bad_filter_in_the_csv_is_a_400_naming_the_field(ui: Ui) -> None:
    response = ui.client.get(f"/{ui.sample.experiment}/runs.csv", params={"filter": "x >"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "filter"


def test_a_run_page_shows_params_metrics_artifacts_and_provenance(ui: Ui) -> None:
    run = ui.sample.runs["lr-0-1"]
    page = ui.get(run)
    params = dict(row[:2] for row in table(page)[1] if len(row) == 2)
    assert params["learning_rate"] == "0.1"
    assert params["accuracy"] == "0.7"
    assert f'href="/{ui.sample.dataset}"' in page  # input
    assert f'href="/{ui.sample.models["lr-0-1"]}"' in page  # output
    assert 'id="charts"' in page
    assert f'data-runs="{run}"' in page
    assert "Provenance" in page
    assert "python" in page
    assert f'href="/{ui.sample.experiment}"' in page


def test_series_json_has_a_line_per_run_and_metric(ui: Ui) -> None:
    runs = [ui.sample.runs["lr-0-1"], ui.sample.runs["lr-0-3"]]
    data = ui.client.get(f"/{PARENT}/series.json", params={"run": runs}).json()
    lines = data["metrics"]["loss"]
    assert [line["label"] for line in lines] == ["lr-0-1", "lr-0-3"]
    assert lines[0]["x"] == list(range(50))
    assert lines[0]["y"][0] == pytest.approx(1.0)
    by_time = ui.client.get(f"/{PARENT}/series.json", params={"run": runs, "x": "wall_time"})
    assert by_time.json()["metrics"]["loss"][0]["x"][0].startswith("20")


def test_a_long_series_is_downsampled_on_the_server_keeping_its_spikes(ui: Ui) -> None:
    run = ui.sample.runs["lr-0-01"]
    first = ui.store.read_time_series(run)[0]
    points = [
        TimeSeriesPoint("big", step, 1000.0 if step == 77_777 else step % 10, first.wall_time)
        for step in range(100_000)
    ]
    ui.store.write_time_series_points(run, points)
    data = ui.client.get(f"/{PARENT}/series.json", params={"run": run, "key": "big"}).json()
    (line,) = data["metrics"]["big"]
    assert 500 <= len(line["x"]) <= 2000
    assert 1000.0 in line["y"]
    assert 77_777 in line["x"]
    assert line["x"] == sorted(line["x"])
    assert line["x"][0] == 0
    assert line["x"][-1] == 99_999


def test_series_json_refuses_something_other_than_runs(ui: Ui) -> None:
    response = ui.client.get(f"/{PARENT}/series.json", params={"run": ui.sample.dataset})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_an_artifact_page_shows_properties_and_its_neighbours(ui: Ui) -> None:
    model = ui.store.get(ui.sample.models["lr-0-1"], Artifact)
    page = ui.get(model.name)
    assert model.fingerprint.startswith("sha256:")
    assert model.fingerprint in page
    assert model.uri in page
    assert "framework" in page
    assert "Made by" in page
    assert "lr-0-1" in page
    assert f'data-root="{model.name}"' in page


def test_graph_json_lays_the_lineage_out_left_to_right(ui: Ui) -> None:
    model = ui.sample.models["lr-0-1"]
    data = ui.client.get(f"/{PARENT}/graph.json", params={"root": model}).json()
    nodes = {node["id"]: node for node in data["nodes"]}
    labels = {node["label"]: node for node in data["nodes"]}
    assert {"raw-data", "preprocess", "clean-data", "lr-0-1", "model-lr-0-1"} <= set(labels)
    assert nodes[model]["root"] is True
    for edge in data["edges"]:
        if edge["kind"] == "flow":  # data flows left to right
            assert nodes[edge["source"]]["x"] < nodes[edge["target"]]["x"]
    chain = ["raw-data", "preprocess", "clean-data", "lr-0-1", "model-lr-0-1"]
    xs = [labels[label]["x"] for label in chain]
    assert xs == sorted(xs)
    assert len(set(xs)) == 5
    assert all(n["url"] == "/" + n["id"] for n in data["nodes"])


def test_graph_json_depth_and_direction(ui: Ui) -> None:
    model = ui.sample.models["lr-0-1"]
    near = ui.client.get(f"/{PARENT}/graph.json", params={"root": model, "depth": 1}).json()
    assert {n["label"] for n in near["nodes"]} == {"model-lr-0-1", "lr-0-1"}
    data = ui.sample.dataset
    down = ui.client.get(
        f"/{PARENT}/graph.json", params={"root": data, "direction": "downstream", "depth": 2}
    ).json()
    labels = {n["label"] for n in down["nodes"]}
    assert "model-lr-0-3" in labels
    assert "raw-data" not in labels


def _fan_out(ui: Ui, count: int) -> tuple[str, list[str]]:
    """The sample's clean data read by `count` more executions; returns it and them."""
    made = [
        ui.store.record_execution(
            PARENT, Execution(display_name=f"reader-{i:03d}"), inputs=[ui.sample.dataset]
        )[0].name
        for i in range(count)
    ]
    return ui.sample.dataset, made


def test_a_large_fan_out_folds_into_a_more_node_that_expands(ui: Ui) -> None:
    data, readers = _fan_out(ui, 40)
    drawn = ui.client.get(f"/{PARENT}/graph.json", params={"root": data, "depth": 1}).json()
    more = [n for n in drawn["nodes"] if n["kind"] == "more"]
    assert len(more) == 1
    assert more[0]["more_of"] == data
    shown = [n for n in drawn["nodes"] if n["kind"] == "execution"]
    assert len(shown) + more[0]["more_count"] == 40 + 5  # readers + the 4 runs + preprocess
    assert more[0]["label"] == f"+{more[0]['more_count']} more"
    whole = ui.client.get(
        f"/{PARENT}/graph.json", params={"root": data, "depth": 1, "expand": data}
    ).json()
    assert not [n for n in whole["nodes"] if n["kind"] == "more"]
    assert set(readers) <= {n["id"] for n in whole["nodes"]}


def test_expanding_a_node_adds_its_neighbours(ui: Ui) -> None:
    model = ui.sample.models["lr-0-1"]
    near = ui.client.get(f"/{PARENT}/graph.json", params={"root": model, "depth": 1}).json()
    run_execution = next(n["id"] for n in near["nodes"] if n["kind"] == "execution")
    grown = ui.client.get(
        f"/{PARENT}/graph.json", params={"root": model, "depth": 1, "expand": run_execution}
    ).json()
    assert {n["label"] for n in grown["nodes"]} == {"model-lr-0-1", "lr-0-1", "clean-data"}
    assert next(n for n in grown["nodes"] if n["id"] == run_execution)["expanded"] is True


def test_graph_json_refuses_a_root_of_another_store(ui: Ui) -> None:
    other = "projects/elsewhere/locations/us-central1/metadataStores/default/artifacts/x"
    response = ui.client.get(f"/{PARENT}/graph.json", params={"root": other})
    assert response.status_code == 400
    assert "root" in response.json()["error"]["message"] or response.json()["error"]["details"]


def test_an_execution_page_shows_inputs_outputs_and_lineage(ui: Ui) -> None:
    model = ui.sample.models["lr-0-1"]
    near = ui.client.get(f"/{PARENT}/graph.json", params={"root": model, "depth": 1}).json()
    execution = next(n["id"] for n in near["nodes"] if n["kind"] == "execution")
    page = ui.get(execution)
    assert f'href="/{model}"' in page
    assert f'href="/{ui.sample.dataset}"' in page
    assert f'href="/{ui.sample.runs["lr-0-1"]}"' in page
    drawn = ui.client.get(f"/{PARENT}/graph.json", params={"root": execution}).json()
    assert {"raw-data", "model-lr-0-1"} <= {n["label"] for n in drawn["nodes"]}


def test_compare_two_runs_shows_the_diff_side_by_side(ui: Ui) -> None:
    a, b = ui.sample.runs["lr-0-1"], ui.sample.runs["lr-0-01"]
    page = ui.get(f"{PARENT}/compare", item=[a, b])
    diff = page.split('id="diff"')[1].split("</section>")[0]
    rows = {row[0]: row for row in table(diff)[1]}
    assert rows["learning_rate"][1:3] == ["0.1", "0.01"]
    assert rows["accuracy"][3] == "+0.05"
    assert f'data-runs="{a} {b}"' in page


def test_compare_two_models(ui: Ui) -> None:
    a, b = ui.sample.models["lr-0-1"], ui.sample.models["lr-0-001"]
    page = ui.get(f"{PARENT}/compare", item=[a, b])
    rows = {row[0]: row for row in table(page)[1]}
    assert rows["learning_rate"][1:3] == ["0.1", "0.001"]
    assert rows["batch_size"][1:3] == ["32", "64"]


def test_compare_several_runs_side_by_side(ui: Ui) -> None:
    runs = [ui.sample.runs[n] for n in ("lr-0-1", "lr-0-01", "lr-0-3")]
    page = ui.get(f"{PARENT}/compare", item=runs)
    assert 'id="diff"' not in page
    _header, rows = table(page)
    lines = {row[0]: row[1:] for row in rows}
    assert lines["learning_rate"] == ["0.1", "0.01", "0.3"]
    assert lines["optimizer"] == ["adam", "adam", "adam"]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["sweep-lr-0-1"], "at least two"),
        (["sweep-lr-0-1", "nothing-like-it"], "no run or artifact"),
    ],
)
def test_compare_explains_a_bad_choice(ui: Ui, items: list[str], message: str) -> None:
    response = ui.client.get(f"/{PARENT}/compare", params={"item": items}, headers=BROWSER)
    assert response.status_code in (400, 404)
    assert message in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_compare_accepts_ids_and_refuses_mixing_a_run_and_a_model(ui: Ui) -> None:
    assert (
        ui.client.get(
            f"/{PARENT}/compare", params={"item": ["sweep-lr-0-1", "sweep-lr-0-3"]}
        ).status_code
        == 200
    )
    mixed = [ui.sample.runs["lr-0-1"], ui.sample.models["lr-0-1"]]
    response = ui.client.get(f"/{PARENT}/compare", params={"item": mixed})
    assert response.status_code == 400
    assert "not one of each" in response.text


@pytest.mark.parametrize("page", ["experiment", "run", "compare", "store"])
def test_a_script_in_a_display_name_is_text(ui: Ui, page: str) -> None:
    injected = ui.sample.injected_run
    path = {
        "experiment": ui.sample.experiment,
        "run": injected,
        "compare": f"{PARENT}/compare?item={injected}&item={ui.sample.runs['lr-0-1']}",
        "store": str(PARENT),
    }[page]
    if page == "store":
        artifact = ui.store.get(ui.sample.dataset, Artifact)
        artifact.display_name = INJECTION
        ui.store.update(artifact)
    response = ui.client.get("/" + path)
    assert response.status_code == 200
    assert INJECTION not in response.text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_static_files_and_plotly_from_the_installed_package(ui: Ui) -> None:
    plotly = ui.client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert "javascript" in plotly.headers["content-type"]
    assert len(plotly.content) > 1_000_000
    for name in ("ui.js", "charts.js", "lineage.js", "ui.css"):
        assert ui.client.get(f"/static/{name}").status_code == 200
    assert ui.client.get("/static/app.py").status_code == 404
    assert ui.client.get("/static/..%2F__init__.py").status_code == 404


def test_login_stores_the_token_in_a_cookie_and_goes_back(ui: Ui) -> None:
    response = ui.client.post(
        "/login",
        data={"token": "secret-token", "next": f"/{PARENT}"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/{PARENT}"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mlineage_token=secret-token")
    assert "HttpOnly" in cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "\\\\evil"])
def test_login_never_sends_the_browser_to_another_site(ui: Ui, target: str) -> None:
    response = ui.client.post("/login", data={"token": "t", "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_login_can_forget_the_token(ui: Ui) -> None:
    response = ui.client.post("/login", data={"forget": "1"}, follow_redirects=False)
    assert response.status_code == 303
    assert 'mlineage_token=""' in response.headers["set-cookie"]
