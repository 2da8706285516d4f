"""`mlineage.demo.record_demo`: the example newcomers see first."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Invoke

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


def test_the_demo_command_says_what_to_try_next(cli: Invoke, tmp_path: Path) -> None:
    result = cli("demo", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Recorded experiment churn-demo: 9 runs" in out
    assert "Champion sweep-" in out
    assert "mlineage ui" in out
    diff_line = next(line.strip() for line in out.splitlines() if "mlineage diff" in line)
    assert diff_line.endswith("churn-demo-production-model")
    assert "--store" not in out  # the store came from the environment, as it will next time

    # What it suggests works: the sweep, best first; the lineage; the diff.
    sweep = cli(
        "runs",
        "list",
        "-e",
        "churn-demo",
        "--filter",
        'display_name:"sweep-*"',
        "--sort",
        "metric.auc desc",
        "--format",
        "csv",
    ).stdout
    rows = list(csv.DictReader(io.StringIO(sweep)))
    assert rows[0]["run_name"] in diff_line  # the champion is the best sweep run
    assert len(rows) == 4
    lineage = cli("lineage", "churn-demo-production-model", "--upstream").stdout
    assert "read raw-customers" in lineage
    _, before, after = diff_line.split()[1:]
    changes = cli("diff", before, after).stdout
    assert "learning_rate: 0.1 -> 0.8" in changes
    assert "null_handling: 'drop' -> 'fill_zero'" in changes


def test_the_demo_repeats_given_options_in_its_suggestions(cli: Invoke, tmp_path: Path) -> None:
    store = tmp_path / "elsewhere.db"
    out = cli("demo", "--store", str(store), "--data-dir", str(tmp_path)).stdout
    assert f"mlineage ui --store {store}" in out
    assert store.is_file()


def _mlineage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("mlineage")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mlineage.cli"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_the_installed_command(tmp_path: Path) -> None:
    """One real process of the `mlineage` entry point: a run listed as CSV, an error as
    one line with a non-zero exit and no traceback, a usage error as click shows it."""
    mlineage.init(experiment="exp")
    with mlineage.start_run("only"):
        mlineage.log_metrics({"accuracy": 0.5})
    env = {**os.environ, "COLUMNS": "120"}
    listed = _mlineage("runs", "list", "-e", "exp", "--format", "csv", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "run_name,run_type,state,metric.accuracy",
        "only,system.ExperimentRun,COMPLETE,0.5",
    ]
    bad = _mlineage("runs", "list", "-e", "exp", "--filter", "metric.accuracy >> 1", env=env)
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1
    assert "filter: at position 18" in bad.stderr
    assert "Traceback" not in bad.stderr
    debug = _mlineage("--debug", "runs", "list", "-e", "exp", "--filter", "x >", env=env)
    assert "Traceback" in debug.stderr
    usage = _mlineage("runs", "list", env=env)
    assert usage.returncode == 2
    assert "Missing option '--experiment'" in usage.stderr
