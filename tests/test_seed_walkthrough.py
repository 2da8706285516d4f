"""The reference walkthrough's Steps 1-5 run unchanged except for their imports.

The code is read from the walkthrough itself (`../shared/seed/...`, or `$MLINEAGE_SEED`);
the only edits are the two import lines the issue allows. The snippets are executed in
one namespace, as a reader pasting them into one notebook would (Step 3 uses `datetime`
without importing it).
"""

from __future__ import annotations

import datetime as real_datetime
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mlineage

SEED = Path(
    os.environ.get(
        "MLINEAGE_SEED",
        Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_c95f2756e8f0de06.txt",
    )
)
IMPORTS = {
    "from google.cloud import aiplatform": "import mlineage as aiplatform",
    "from google.cloud.aiplatform import metadata": "from mlineage import metadata",
}


def seed_steps() -> list[str]:
    """The Python blocks of Steps 1-5, with the allowed import edits and nothing else."""
    assert SEED.is_file(), f"the reference walkthrough is missing: {SEED} (set MLINEAGE_SEED)"
    blocks = re.findall(r"```python\n(.*?)```", SEED.read_text(), flags=re.S)
    steps = blocks[:5]
    assert "kfp" not in "".join(steps)
    assert "kfp" in blocks[5]
    edited = []
    for block in steps:
        for old, new in IMPORTS.items():
            block = block.replace(old, new)
        assert "google.cloud" not in block
        edited.append(block)
    return edited


class _Clock:
    """Stands in for the `datetime` module the walkthrough uses to name runs, so two runs
    started in the same second still get distinct ids."""

    def __init__(self) -> None:
        self._now = real_datetime.datetime(2026, 2, 17, 9, 0, 0)
        outer = self

        class _DateTime(real_datetime.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
                outer._now += real_datetime.timedelta(seconds=1)
                return outer._now

        self.datetime = _DateTime


@pytest.fixture
def walkthrough(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "walkthrough"}
    for block in seed_steps():
        exec(compile(block, str(SEED), "exec"), namespace)
    namespace["datetime"] = _Clock()
    namespace["train_and_evaluate"] = lambda config: round(
        0.8 + config["max_depth"] / 100 + config["learning_rate"], 4
    )
    return namespace


HYPERPARAMETERS = {"learning_rate": 0.1, "n_estimators": 50, "max_depth": 6, "batch_size": 256}


def test_step1_prints_the_default_metadata_store(
    walkthrough: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    out = capsys.readouterr().out
    assert "Metadata store: projects/my-project/locations/us-central1/metadataStores/default" in out


def test_step3_records_preprocessing_lineage(walkthrough: dict[str, Any]) -> None:
    run_id = walkthrough["preprocess_data_with_metadata"](
        "gs://bucket/raw/events.parquet", "gs://bucket/processed/train.csv", {"scaling": "minmax"}
    )
    run = mlineage.ExperimentRun(run_id, experiment="default")
    assert run.get_state() == "COMPLETE"
    assert run.get_params() == {
        "null_handling": "drop",
        "scaling_method": "minmax",
        "encoding_method": "one_hot",
        "feature_selection": "all",
    }
    assert run.get_metrics()["rows_removed"] == 20000
    processed = mlineage.Artifact.get_with_uri("gs://bucket/processed/train.csv")
    lineage = processed.get_with_lineage_subgraph(direction="upstream")
    assert {a.display_name for a in lineage.artifacts} == {"raw-data", "processed-data"}
    assert [e.display_name for e in lineage.executions] == [run_id]
    assert {(e.type.name, e.artifact.rsplit("/", 1)[-1]) for e in lineage.events} == {
        ("INPUT", mlineage.Artifact.get_with_uri("gs://bucket/raw/events.parquet").name),
        ("OUTPUT", processed.name),
    }


def test_steps_2_and_4_train_and_trace_a_model(
    walkthrough: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = walkthrough["train_model_with_metadata"](
        "gs://bucket/processed/train.csv", HYPERPARAMETERS, "gs://bucket/models/m1"
    )
    run = mlineage.ExperimentRun(run_id, experiment="default")
    params = run.get_params()
    assert params["learning_rate"] == 0.1
    assert params["framework"] == "xgboost"
    metrics = run.get_metrics()
    assert metrics["accuracy"] == 0.92
    assert metrics["auc_roc"] == 0.95
    assert metrics["train_loss_epoch_40"] == pytest.approx(0.5 - 40 * 0.003)

    model = mlineage.Artifact.get_with_uri("gs://bucket/models/m1")
    assert model.metadata["training_run"] == run_id
    capsys.readouterr()
    lineage = walkthrough["get_model_lineage"](model.name)
    out = capsys.readouterr().out
    assert "Model: trained-model" in out
    assert "URI: gs://bucket/models/m1" in out
    assert "Artifact: training-dataset" in out
    assert f"Execution: {run_id}" in out
    assert {a.display_name for a in lineage.artifacts} == {"trained-model", "training-dataset"}
    assert [e.state.name for e in lineage.executions] == ["COMPLETE"]


def test_step4_compares_two_training_runs(
    walkthrough: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    train = walkthrough["train_model_with_metadata"]
    first = train("gs://b/train.csv", HYPERPARAMETERS, "gs://b/m1")
    second = train("gs://b/train.csv", {**HYPERPARAMETERS, "max_depth": 8}, "gs://b/m2")
    capsys.readouterr()
    walkthrough["compare_training_runs"](first, second)
    out = capsys.readouterr().out
    parameter_part, metric_part = out.split("Metric differences:")
    assert "max_depth: 6 -> 8" in parameter_part
    assert "learning_rate" not in parameter_part
    assert metric_part.strip() == ""  # same metrics in both runs


def test_step5_runs_a_sweep_and_ranks_it(
    walkthrough: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    walkthrough["run_hyperparameter_experiment"]()
    out = capsys.readouterr().out
    frame = mlineage.get_experiment_df("churn-prediction-v2")
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame["run_name"]) == ["config-0", "config-1", "config-2", "config-3"]
    assert set(frame["state"]) == {"COMPLETE"}
    ranked = frame.sort_values("metric.accuracy", ascending=False)
    # accuracy = 0.8 + max_depth / 100 + learning_rate: 0.86, 0.92, 0.93, 0.91
    assert ranked["run_name"].tolist() == ["config-2", "config-1", "config-3", "config-0"]
    assert ranked.iloc[0]["param.max_depth"] == 3
    assert ranked.iloc[0]["metric.accuracy"] == pytest.approx(0.93)
    assert "config-2" in out.splitlines()[1]  # the printed table starts with the best run


def test_steps_3_then_2_chained_by_uri_trace_the_model_to_raw_data(
    walkthrough: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    processed = "gs://bucket/processed/train.csv"
    preprocessing = walkthrough["preprocess_data_with_metadata"](
        "gs://bucket/raw/events.parquet", processed, {}
    )
    training = walkthrough["train_model_with_metadata"](
        processed, HYPERPARAMETERS, "gs://bucket/models/m1"
    )
    model = mlineage.Artifact.get_with_uri("gs://bucket/models/m1")
    capsys.readouterr()
    lineage = walkthrough["get_model_lineage"](model.name)
    out = capsys.readouterr().out
    assert {a.display_name for a in lineage.artifacts} >= {
        "trained-model",
        "training-dataset",
        "processed-data",
        "raw-data",
    }
    assert {e.display_name for e in lineage.executions} >= {training, preprocessing}
    assert "Artifact: raw-data" in out
