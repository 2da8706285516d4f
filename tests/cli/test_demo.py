"""`mlineage.demo.record_demo`: the example newcomers see first."""

from __future__ import annotations

from pathlib import Path

import mlineage
from mlineage.demo import STEPS, record_demo


def test_the_demo_records_a_sweep_a_release_pair_and_a_pipeline(tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    summary = record_demo(data_dir=tmp_path / "data", progress=lambda *a: seen.append(a))
    assert [done for done, _, _ in seen] == list(range(STEPS + 1))
    assert summary.experiment == "churn-demo"
    assert summary.note == ""
    frame = mlineage.get_experiment_df("churn-demo")
    assert set(frame["run_name"]) >= {"preprocess", "sweep-1", "sweep-4", "evaluate", "production"}
    kinds = dict(zip(frame["run_name"], frame["run_type"], strict=True))
    pipeline_runs = [name for name, kind in kinds.items() if kind == "system.PipelineRun"]
    assert len(pipeline_runs) == 1
    sweep = frame[frame["run_name"].str.startswith("sweep-")]
    best = sweep.sort_values("metric.auc").iloc[-1]["run_name"]
    assert summary.champion == best
    curve = mlineage.ExperimentRun(best, "churn-demo").get_time_series_data_frame()
    assert len(curve) == 300
    assert curve["loss"].iloc[-20:].mean() < curve["loss"].iloc[:20].mean()

    model = mlineage.Artifact(summary.production_model)
    assert model.fingerprint.startswith("sha256:")
    assert Path(model.uri).is_file()
    assert Path(model.uri).is_relative_to(tmp_path / "data" / "churn-demo")

    change = mlineage.diff(summary.last_good_model, summary.production_model)
    assert [c.key for c in change.params] == ["learning_rate"]
    assert {d.key for d in change.data} >= {"raw-customers", "train-data"}
    assert any("content" in {c.key for c in d.changes} for d in change.data)
    assert [s.label for s in change.steps] == ["preprocess-refresh"]
    accuracy = next(m for m in change.metrics if m.key == "accuracy")
    assert accuracy.delta is not None
    assert accuracy.delta < 0


def test_running_it_again_records_a_second_experiment(tmp_path: Path) -> None:
    record_demo(data_dir=tmp_path)
    again = record_demo(data_dir=tmp_path)
    assert again.experiment == "churn-demo-2"
    assert "churn-demo already exists" in again.note
    assert again.data_dir == tmp_path / "churn-demo-2"
    names = {e.name for e in mlineage.Experiment.list()}
    assert {"churn-demo", "churn-demo-2"} <= names
