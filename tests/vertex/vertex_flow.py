"""The real `google-cloud-aiplatform` SDK against an mlineage server, as a user would run it.

    python vertex_flow.py http://127.0.0.1:PORT EXPERIMENT OUT.json --[no-]tensorboard [--token T]

It logs two runs (params, metrics, time series when a Tensorboard backs the experiment,
classification metrics, a training execution with input and output artifacts), then reads
everything back through the SDK and writes what it read as one JSON object to OUT.json for
the test to check (the SDK logs to stdout). It runs in a process of its own: the SDK keeps
global state.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import datetime
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
from google.oauth2.credentials import Credentials as OAuthCredentials
from google.protobuf.timestamp_pb2 import Timestamp

PROJECT = "vertex-compat"
LOCATION = "us-central1"


def plain(value: Any) -> Any:
    """JSON-safe: NaN becomes None, times become ISO strings, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def frame_records(frame: Any) -> list[dict[str, Any]]:
    return [plain(record) for record in frame.to_dict(orient="records")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("endpoint")
    parser.add_argument("experiment")
    parser.add_argument("out")
    parser.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, required=True)
    parser.add_argument("--token", help="an mlineage token (default: anonymous)")
    args = parser.parse_args()
    credentials = OAuthCredentials(token=args.token) if args.token else AnonymousCredentials()
    experiment = args.experiment
    aiplatform.init(
        project=PROJECT,
        location=LOCATION,
        experiment=experiment,
        api_endpoint=args.endpoint,
        api_transport="rest",
        credentials=credentials,
        **({} if args.tensorboard else {"experiment_tensorboard": False}),
    )
    out: dict[str, Any] = {}

    # -- run 1: params, metrics, time series, lineage --------------------------------------
    aiplatform.start_run("run-1")
    aiplatform.log_params({"learning_rate": 0.01, "optimizer": "adam", "epochs": 3})
    aiplatform.log_metrics({"accuracy": 0.5})
    aiplatform.log_metrics({"accuracy": 0.9, "loss": 0.25})  # merged: accuracy replaced
    if args.tensorboard:
        for epoch in range(3):
            aiplatform.log_time_series_metrics(
                {"train-loss": 1.0 / (epoch + 1), "Val Loss": 2.0 - epoch}
            )
        wall = Timestamp()
        wall.FromSeconds(1_800_000_000)
        aiplatform.log_time_series_metrics({"train-loss": 0.1}, step=10, wall_time=wall)
    else:
        try:
            aiplatform.log_time_series_metrics({"train-loss": 1.0})
        except RuntimeError as exc:  # Vertex's answer without a backing Tensorboard
            out["time_series_without_tensorboard"] = str(exc)
    aiplatform.log_classification_metrics(
        labels=["cat", "dog"], matrix=[[9, 1], [2, 8]], fpr=[0.1, 0.5], tpr=[0.3, 0.9],
        threshold=[0.9, 0.5], display_name="confusion",
    )  # fmt: skip
    dataset = aiplatform.Artifact.create(
        schema_title="system.Dataset", uri="gs://bucket/data.csv", display_name="training-data"
    )
    with aiplatform.start_execution(
        schema_title="system.ContainerExecution", display_name="train"
    ) as execution:
        execution.assign_input_artifacts([dataset])
        model = aiplatform.Artifact.create(
            schema_title="system.Model",
            uri="gs://bucket/model",
            display_name="model",
            metadata={"framework": "sklearn"},
        )
        execution.assign_output_artifacts([model])
    aiplatform.end_run()

    # -- run 2: a context manager that ends COMPLETE ---------------------------------------
    with aiplatform.start_run("run-2"):
        aiplatform.log_params({"learning_rate": 0.1, "optimizer": "sgd", "epochs": 5})
        aiplatform.log_metrics({"accuracy": 0.7})

    # -- resuming run 2 sets it RUNNING again; ending it completes it ------------------------
    aiplatform.start_run("run-2", resume=True)
    out["resumed_state"] = aiplatform.ExperimentRun("run-2", experiment=experiment).get_state()
    aiplatform.log_metrics({"f1": 0.6})
    aiplatform.end_run()
    out["missing_run"] = aiplatform.ExperimentRun.get("no-such-run", experiment=experiment)

    # -- read everything back ----------------------------------------------------------------
    out["experiment_df"] = frame_records(aiplatform.get_experiment_df())
    out["experiment_df_columns"] = list(aiplatform.get_experiment_df().columns)
    out["experiments"] = [e.name for e in aiplatform.Experiment.list()]
    out["runs"] = sorted(r.name for r in aiplatform.ExperimentRun.list(experiment=experiment))
    run = aiplatform.ExperimentRun("run-1", experiment=experiment)
    out["run"] = {
        "resource_name": run.resource_name,
        "params": run.get_params(),
        "metrics": run.get_metrics(),
        "state": run.get_state(),
        "time_series": frame_records(run.get_time_series_data_frame()),
        "classification_metrics": [
            {k: v for k, v in m.items() if k != "id"} for m in run.get_classification_metrics()
        ],
        "artifacts": sorted(a.display_name for a in run.get_artifacts()),
        "executions": [(e.display_name, e.state.name) for e in run.get_executions()],
    }
    run_2 = aiplatform.ExperimentRun("run-2", experiment=experiment)
    out["run_2"] = {"state": run_2.get_state(), "metrics": run_2.get_metrics()}
    out["models"] = [
        (a.display_name, a.uri, a.metadata)
        for a in aiplatform.Artifact.list(filter='schema_title="system.Model"')
    ]
    out["by_uri"] = aiplatform.Artifact.get_with_uri("gs://bucket/data.csv").resource_name
    out["dataset"] = dataset.resource_name
    out["model"] = model.resource_name
    out["inputs"] = [a.display_name for a in execution.get_input_artifacts()]
    out["outputs"] = [a.display_name for a in execution.get_output_artifacts()]
    graph = model.api_client.query_artifact_lineage_subgraph(
        request={"artifact": model.resource_name, "max_hops": 2}
    )
    names = {a.name: a.display_name for a in graph.artifacts}
    out["lineage"] = {
        "artifacts": sorted(names.values()),
        "executions": [(e.display_name, e.state.name) for e in graph.executions],
        "events": sorted((names[e.artifact], e.type_.name) for e in graph.events),
    }
    # -- deleting a run, with its backing Tensorboard run ------------------------------------
    with aiplatform.start_run("run-3") as doomed:
        aiplatform.log_metrics({"accuracy": 0.1})
        if args.tensorboard:
            aiplatform.log_time_series_metrics({"train-loss": 9.0})
    doomed.delete(delete_backing_tensorboard_run=args.tensorboard)
    out["runs_after_delete"] = sorted(
        r.name for r in aiplatform.ExperimentRun.list(experiment=experiment)
    )

    with open(args.out, "w") as file:
        json.dump(plain(out), file)


if __name__ == "__main__":
    main()
