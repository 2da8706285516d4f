"""The real Vertex AI SDK (`google-cloud-aiplatform`) against a real `mlineage server`.

Each test starts `mlineage server` on a fresh SQLite file (one on PostgreSQL), runs
`vertex_flow.py` (the SDK's experiment, metadata and lineage calls) in a process of its own,
checks what the SDK read back, then opens the same store with mlineage's own SDK: both
views must agree.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import mlineage
from mlineage.store.sql import SqlStore
from mlineage.types import StoreName
from tests.vertex.conftest import Server, serving

FLOW = Path(__file__).with_name("vertex_flow.py")
PROJECT, LOCATION = "vertex-compat", "us-central1"
STORE = StoreName(PROJECT, LOCATION, "default")


def _run_flow(
    server: Server, experiment: str, tmp_path: Path, *, tensorboard: bool, token: str = ""
) -> Any:
    out = tmp_path / f"{experiment}.json"
    flag = "--tensorboard" if tensorboard else "--no-tensorboard"
    extra = ["--token", token] if token else []
    result = subprocess.run(
        [sys.executable, str(FLOW), server.url, experiment, str(out), flag, *extra],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("GOOGLE_")},
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return json.loads(out.read_text())


def _by_run(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["run_name"]: r for r in records}


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN and None both meaning "no value"."""
    missing_a = a is None or (isinstance(a, float) and math.isnan(a))
    missing_b = b is None or (isinstance(b, float) and math.isnan(b))
    if missing_a or missing_b:
        return missing_a and missing_b
    return bool(a == b)


def _check_common_read_backs(seen: dict[str, Any], experiment: str) -> None:
    """What both flows read back through the real SDK."""
    rows = _by_run(seen["experiment_df"])
    assert set(rows) == {"run-1", "run-2"}
    first, second = rows["run-1"], rows["run-2"]
    assert (first["experiment_name"], first["run_type"], first["state"]) == (
        experiment,
        "system.ExperimentRun",
        "COMPLETE",
    )
    # Ints come back as floats: Vertex stores them in a protobuf Struct.
    assert (first["param.learning_rate"], first["param.optimizer"], first["param.epochs"]) == (
        0.01,
        "adam",
        3.0,
    )
    assert (first["metric.accuracy"], first["metric.loss"]) == (0.9, 0.25)
    assert (second["param.optimizer"], second["metric.accuracy"], second["state"]) == (
        "sgd",
        0.7,
        "COMPLETE",
    )
    assert second["metric.f1"] == 0.6
    assert second["metric.loss"] is None
    assert experiment in seen["experiments"]
    assert seen["runs"] == ["run-1", "run-2"]
    run = seen["run"]
    assert run["resource_name"] == f"{STORE}/contexts/{experiment}-run-1"
    assert run["params"] == {"learning_rate": 0.01, "optimizer": "adam", "epochs": 3.0}
    assert run["metrics"] == {"accuracy": 0.9, "loss": 0.25}
    assert run["state"] == "COMPLETE"
    assert seen["resumed_state"] == "RUNNING"
    assert seen["run_2"] == {"state": "COMPLETE", "metrics": {"accuracy": 0.7, "f1": 0.6}}
    assert seen["missing_run"] is None
    assert seen["runs_after_delete"] == ["run-1", "run-2"]
    assert run["classification_metrics"] == [
        {
            "display_name": "confusion",
            "labels": ["cat", "dog"],
            "matrix": [[9.0, 1.0], [2.0, 8.0]],
            "fpr": [0.1, 0.5],
            "tpr": [0.3, 0.9],
            "threshold": [0.9, 0.5],
        }
    ]
    assert {"confusion", "model", "training-data"} <= set(run["artifacts"])
    assert run["executions"] == [["train", "COMPLETE"]]
    assert seen["models"] == [["model", "gs://bucket/model", {"framework": "sklearn"}]]
    assert seen["by_uri"] == seen["dataset"]
    assert (seen["inputs"], seen["outputs"]) == (["training-data"], ["model"])
    assert seen["lineage"] == {
        "artifacts": ["model", "training-data"],
        "executions": [["train", "COMPLETE"]],
        "events": [["model", "OUTPUT"], ["training-data", "INPUT"]],
    }


def _check_mlineage_agrees(server: Server, seen: dict[str, Any], experiment: str) -> None:
    """mlineage's own SDK, on the server's store file, reads what the Vertex SDK read."""
    mlineage.init(store=server.store_url, project=PROJECT, location=LOCATION)
    frame = mlineage.Experiment(experiment).get_data_frame()
    mine = _by_run([dict(r) for r in frame.to_dict(orient="records")])
    theirs = _by_run(seen["experiment_df"])
    assert set(frame.columns) == set(seen["experiment_df_columns"])
    for run_name, row in theirs.items():
        assert all(_same(row[c], mine[run_name][c]) for c in row), (row, mine[run_name])
    run = mlineage.ExperimentRun("run-1", experiment)
    assert run.get_params() == seen["run"]["params"]
    assert run.get_metrics() == seen["run"]["metrics"]
    assert run.get_state() == seen["run"]["state"]
    series = run.get_time_series_data_frame()
    points = {
        (row["step"], key): row[key]
        for row in series.to_dict(orient="records")
        for key in series.columns
        if key not in ("step", "wall_time")
    }
    for row in seen["run"]["time_series"]:
        for key, value in row.items():
            if key not in ("step", "wall_time"):
                assert _same(points.get((row["step"], key)), value), (row, key)
    with closing(SqlStore(server.store_url)) as store:
        graph = store.query_artifact_lineage_subgraph(seen["model"], max_hops=2)
        names = {a.name: a.display_name for a in graph.artifacts}
        assert sorted(names.values()) == seen["lineage"]["artifacts"]
        assert sorted((names[e.artifact], e.type.name) for e in graph.events) == [
            tuple(e) for e in seen["lineage"]["events"]
        ]


def test_the_vertex_sdk_without_a_tensorboard(server: Server, tmp_path: Path) -> None:
    seen = _run_flow(server, "churn", tmp_path, tensorboard=False)
    _check_common_read_backs(seen, "churn")
    assert "backing tensorboard" in seen["time_series_without_tensorboard"]
    assert seen["run"]["time_series"] == []
    assert not any(c.startswith("time_series_metric.") for c in seen["experiment_df_columns"])
    _check_mlineage_agrees(server, seen, "churn")


def test_the_vertex_sdk_with_the_default_tensorboard(server: Server, tmp_path: Path) -> None:
    _check_tensorboard_flow(server, tmp_path)


def test_the_vertex_sdk_on_postgresql(pg_server: Server, tmp_path: Path) -> None:
    _check_tensorboard_flow(pg_server, tmp_path)


def _check_tensorboard_flow(server: Server, tmp_path: Path) -> None:
    seen = _run_flow(server, "churn-tb", tmp_path, tensorboard=True)
    _check_common_read_backs(seen, "churn-tb")
    series = seen["run"]["time_series"]
    assert [row["step"] for row in series] == [1, 2, 3, 10]
    assert [row["train-loss"] for row in series] == [1.0, 0.5, 1 / 3, 0.1]
    assert [row["Val Loss"] for row in series] == [2.0, 1.0, 0.0, None]
    assert datetime.fromisoformat(series[-1]["wall_time"]) == datetime.fromtimestamp(
        1_800_000_000, UTC
    )
    rows = _by_run(seen["experiment_df"])
    assert (
        rows["run-1"]["time_series_metric.train-loss"],
        rows["run-1"]["time_series_metric.Val Loss"],
    ) == (0.1, 0.0)
    assert rows["run-2"]["time_series_metric.train-loss"] is None
    _check_mlineage_agrees(server, seen, "churn-tb")
    # The time series are mlineage's own: its SDK logs to the same run and the Vertex
    # TensorboardService shows the point.
    mlineage.ExperimentRun("run-1", "churn-tb").log_time_series_metrics({"train-loss": 0.05})
    with closing(SqlStore(server.store_url)) as store:
        (board,) = store.list_tensorboards(f"projects/{PROJECT}/locations/{LOCATION}").items
        assert board.is_default
        (data,) = store.read_tensorboard_time_series_data(
            board.name, [f"{board.name}/experiments/churn-tb/runs/run-1/timeSeries/train-loss"]
        )
        assert [(p.step, p.value) for p in data.values][-2:] == [(10, 0.1), (11, 0.05)]


def test_the_vertex_sdk_with_an_mlineage_token(tmp_path: Path) -> None:
    """Once tokens exist, the SDK authenticates with OAuth credentials holding the token."""
    store = tmp_path / "secured.db"
    created = subprocess.run(
        [str(Path(sys.executable).with_name("mlineage")), "token", "create", "--store",
         str(store), "--project", "vertex-compat", "--role", "admin"],  # the flow deletes a run
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    token = created.stdout.strip()
    with serving(str(store), tmp_path / "server.log") as server:
        anonymous = httpx.get(
            f"{server.url}/v1/projects/vertex-compat/locations/us-central1/metadataStores/default"
        )
        assert anonymous.status_code == 401
        seen = _run_flow(server, "secured", tmp_path, tensorboard=False, token=token)
    _check_common_read_backs(seen, "secured")
