"""`mlineage.diff`: what changed between two models or two runs."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

import mlineage as aiplatform
from mlineage.errors import InvalidArgumentError
from mlineage.sdk import provenance


def _preprocess(run: str, raw: str, out: str, scaling: str = "standard") -> None:
    with aiplatform.start_run(run) as current:
        current.log_input(
            aiplatform.Artifact.create("system.Dataset", display_name="raw-data", uri=raw)
        )
        aiplatform.log_params({"scaling": scaling, "null_handling": "drop"})
        current.log_output(
            aiplatform.Artifact.create("system.Dataset", display_name="processed-data", uri=out)
        )


def _train(
    run: str, data: str, *, lr: float = 0.1, depth: int = 6, accuracy: float = 0.9, **meta: Any
) -> aiplatform.Artifact:
    with aiplatform.start_run(run) as current:
        current.log_input(
            aiplatform.Artifact.create(
                "system.Dataset", display_name="training-dataset", uri=data, metadata=meta
            )
        )
        aiplatform.log_params({"learning_rate": lr, "max_depth": depth})
        aiplatform.log_metrics({"accuracy": accuracy})
        model = aiplatform.Artifact.create(
            "system.Model", display_name="model", uri=f"gs://b/models/{run}"
        )
        current.log_output(model)
    return model


@pytest.fixture(autouse=True)
def experiment() -> None:
    aiplatform.init(project="p", experiment="churn")


def test_a_parameter_change(capsys: pytest.CaptureFixture[str]) -> None:
    a = _train("a", "gs://b/train.csv", depth=6, accuracy=0.9)
    b = _train("b", "gs://b/train.csv", depth=8, accuracy=0.93)
    result = aiplatform.diff(a, b)
    assert [(c.key, c.before, c.after) for c in result.params] == [("max_depth", 6, 8)]
    (accuracy,) = result.metrics
    assert accuracy.key == "accuracy"
    assert accuracy.delta == pytest.approx(0.03)
    assert result.data == []
    assert result.shared_upstream
    text = str(result)
    assert "max_depth: 6 -> 8" in text
    assert "accuracy: 0.9 -> 0.93 (+0.03)" in text
    assert "Input data" not in text


def test_the_same_run_twice_is_nothing() -> None:
    a = _train("a", "gs://b/train.csv")
    result = aiplatform.diff(a, a)
    assert not result
    assert "Nothing" in str(result)


def test_a_data_change_at_the_same_uri(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,0\n")
    a = _train("a", str(data), rows=1)
    data.write_text("x,y\n1,0\n2,1\n")
    b = _train("b", str(data), rows=2)
    result = aiplatform.diff(a, b)
    assert result.params == []
    (change,) = result.data
    assert change.key == "training-dataset"
    what = {c.key: (c.before, c.after) for c in change.changes}
    assert set(what) == {"content", "metadata.rows"}
    assert what["content"][0].startswith("sha256:")
    assert what["content"][0] != what["content"][1]
    assert what["metadata.rows"] == (1, 2)
    assert "training-dataset: content:" in str(result)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_a_code_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "train.py").write_text("v1\n")
    _git(tmp_path, "add", "train.py")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    first = _git(tmp_path, "rev-parse", "HEAD")
    monkeypatch.chdir(tmp_path)
    a = _train("a", "gs://b/train.csv")
    (tmp_path / "train.py").write_text("v2\n")
    _git(tmp_path, "commit", "-q", "-am", "v2")
    second = _git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "train.py").write_text("v3, not committed\n")
    b = _train("b", "gs://b/train.csv")
    provenance.wait_for_pending()
    result = aiplatform.diff(a, b)
    assert {c.key: (c.before, c.after) for c in result.code} == {
        "commit": (first, second),
        "dirty": (False, True),
    }
    assert f"commit: '{first}' -> '{second}'" in str(result)
    assert result.environment == []  # same interpreter, same packages


def test_an_upstream_preprocessing_change() -> None:
    _preprocess("clean-1", "gs://b/raw.parquet", "gs://b/clean.csv", scaling="standard")
    a = _train("a", "gs://b/clean.csv")
    _preprocess("clean-2", "gs://b/raw.parquet", "gs://b/clean.csv", scaling="minmax")
    b = _train("b", "gs://b/clean.csv")
    result = aiplatform.diff(a, b)
    assert result.params == []
    (step,) = result.steps  # the models' own steps are not upstream of them
    assert step.key == "gs://b/clean.csv"
    assert [(c.key, c.before, c.after) for c in step.params] == [("scaling", "standard", "minmax")]
    assert result.shared_upstream
    assert "scaling: 'standard' -> 'minmax'" in str(result)


def test_two_models_with_nothing_in_common() -> None:
    a = _train("a", "gs://one/data.csv")
    b = _train("b", "gs://two/data.csv")
    result = aiplatform.diff(a, b)
    assert not result.shared_upstream
    assert "share nothing upstream" in str(result)
    (change,) = result.data
    assert [(c.key, c.before, c.after) for c in change.changes] == [
        ("uri", "gs://one/data.csv", "gs://two/data.csv")
    ]


def test_two_runs_and_resource_names() -> None:
    _train("a", "gs://b/train.csv", lr=0.1)
    b = _train("b", "gs://b/train.csv", lr=0.05)
    by_run = aiplatform.diff(aiplatform.ExperimentRun("a"), aiplatform.ExperimentRun("b"))
    assert [(c.key, c.before, c.after) for c in by_run.params] == [("learning_rate", 0.1, 0.05)]
    by_name = aiplatform.diff(aiplatform.ExperimentRun("a").resource_name, b.resource_name)
    assert [c.key for c in by_name.params] == ["learning_rate"]
    with pytest.raises(InvalidArgumentError, match="subject"):
        aiplatform.diff("not a resource", b)


def test_an_int_and_an_equal_float_are_the_same_value() -> None:
    a = _train("a", "gs://b/train.csv", depth=6)
    b = _train("b", "gs://b/train.csv", depth=6.0)  # type: ignore[arg-type]
    assert aiplatform.diff(a, b).params == []


def test_a_lineage_too_large_to_read_whole_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlineage.store import lineage

    _preprocess("clean", "gs://b/raw.parquet", "gs://b/clean.csv")
    a = _train("a", "gs://b/clean.csv")
    b = _train("b", "gs://b/clean.csv", depth=7)
    assert not aiplatform.diff(a, b).truncated
    monkeypatch.setattr(lineage, "DEFAULT_NODE_LIMIT", 2)
    result = aiplatform.diff(a, b)
    assert result.truncated
    assert "upstream is partial" in str(result)


def _write_table(run: str, uri: str, rows: int) -> None:
    with aiplatform.start_run(run) as current:
        current.log_output(
            aiplatform.Artifact.create(
                "system.Dataset", display_name="table", uri=uri, metadata={"rows": rows}
            )
        )


def _join(run: str) -> aiplatform.Artifact:
    with aiplatform.start_run(run) as current:
        for uri in ("gs://b/left", "gs://b/right"):
            current.log_input(
                aiplatform.Artifact.create("system.Dataset", display_name="table", uri=uri)
            )
        model = aiplatform.Artifact.create("system.Model", uri=f"gs://b/models/{run}")
        current.log_output(model)
    return model


def test_upstream_data_sharing_a_name_is_told_apart_by_its_step() -> None:
    _write_table("left-1", "gs://b/left", 10)
    _write_table("right-1", "gs://b/right", 20)
    a = _join("join-1")
    _write_table("right-2", "gs://b/right", 25)
    b = _join("join-2")
    result = aiplatform.diff(a, b)
    (change,) = result.data  # the left table did not change
    assert change.key == "table (gs://b/right)"
    assert [(c.key, c.before, c.after) for c in change.changes] == [("metadata.rows", 20, 25)]
