"""`mlineage.diff` between the models of two pipeline runs."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlineage
from mlineage import dsl
from tests.dsl.pipelines import small_pipeline


def _models(tmp_path: Path, before: dict[str, float], after: dict[str, float]) -> mlineage.Diff:
    one = dsl.run_pipeline(small_pipeline, before, pipeline_root=str(tmp_path))
    two = dsl.run_pipeline(small_pipeline, after, pipeline_root=str(tmp_path))
    return mlineage.diff(
        one.tasks["train"].outputs["model"].resource_name,
        two.tasks["train"].outputs["model"].resource_name,
    )


def test_diff_names_the_changed_parameter_of_the_task_that_made_the_model(
    tmp_path: Path,
) -> None:
    found = _models(tmp_path, {"learning_rate": 0.1}, {"learning_rate": 0.3})
    assert [(c.key, c.before, c.after) for c in found.params] == [("learning_rate", 0.1, 0.3)]
    assert not found.data  # the dataset was reused from the cache: same data
    assert "learning_rate: 0.1 -> 0.3" in str(found)


def test_diff_shows_upstream_data_that_a_changed_upstream_parameter_changed(
    tmp_path: Path,
) -> None:
    found = _models(tmp_path, {"rows": 5}, {"rows": 8})
    (data,) = found.data
    assert data.key == "data"
    changes = {c.key: (c.before, c.after) for c in data.changes}
    assert changes["metadata.rows"] == (5, 8)
    assert "content" in changes
    assert {step.label for step in found.steps} == {"generate"}


def test_diff_pairs_upstream_steps_across_pipeline_runs(tmp_path: Path) -> None:
    found = _models(tmp_path, {"rows": 5}, {"rows": 8})
    (step,) = found.steps
    assert step.status == "changed"
    assert [(c.key, c.before, c.after) for c in step.params] == [("rows", 5, 8)]


def test_diff_shows_the_pipeline_runs_metrics(tmp_path: Path) -> None:
    found = _models(tmp_path, {"learning_rate": 0.1}, {"learning_rate": 0.3})
    (accuracy,) = found.metrics  # evaluate logs accuracy = 0.5 + learning_rate
    assert accuracy.key == "accuracy"
    assert accuracy.delta == pytest.approx(0.2)
