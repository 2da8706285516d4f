"""Behaviour code written for the Vertex SDK relies on: exception types, run switching,
store names, and provenance in git worktrees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import mlineage as aiplatform
from mlineage.errors import InvalidArgumentError
from mlineage.sdk import provenance


def test_run_calls_without_a_run_raise_value_error() -> None:
    aiplatform.init(experiment="exp")
    with pytest.raises(ValueError, match="start_run"):
        aiplatform.log_params({"a": 1})
    with pytest.raises(ValueError, match="start_run"):
        aiplatform.end_run()


def test_wrong_value_types_raise_type_error_naming_the_field() -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("r")
    with pytest.raises(TypeError, match=r"params\.layers"):
        aiplatform.log_params({"layers": [1, 2]})
    with pytest.raises(TypeError, match=r"metrics\.acc"):
        aiplatform.log_metrics({"acc": "high"})
    assert aiplatform.ExperimentRun("r").get_params() == {}


def test_a_duplicate_run_raises_runtime_error() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("r"):
        pass
    with pytest.raises(RuntimeError, match="resume=True"):
        aiplatform.start_run("r")


def test_starting_a_run_ends_the_active_one() -> None:
    aiplatform.init(experiment="exp")
    aiplatform.start_run("first")
    aiplatform.start_run("second")
    assert aiplatform.ExperimentRun("first").get_state() == "COMPLETE"
    assert aiplatform.ExperimentRun("second").get_state() == "RUNNING"


def test_numpy_steps_are_accepted() -> None:
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("r"):
        assert aiplatform.log_time_series_metrics({"loss": 0.5}, step=np.int64(3)) == 3


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("project", {"project": "My Project"}),
        ("location", {"location": "us central"}),
    ],
)
def test_bad_project_or_location_is_refused_by_init(field: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        aiplatform.init(**kwargs)
    assert error.value.field == field


def test_metadata_store_by_full_name_uses_its_project() -> None:
    aiplatform.init(project="mine")
    store = aiplatform.MetadataStore(
        "projects/theirs/locations/europe-west4/metadataStores/default"
    )
    assert store.resource_name == "projects/theirs/locations/europe-west4/metadataStores/default"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_provenance_in_a_git_worktree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = tmp_path / "main"
    main.mkdir()
    _git(main, "init", "-q", "-b", "main")
    (main / "train.py").write_text("print(1)\n")
    _git(main, "add", "train.py")
    _git(main, "commit", "-q", "-m", "one")
    worktree = tmp_path / "feature"
    _git(main, "worktree", "add", "-q", str(worktree), "-b", "feature")
    (worktree / "train.py").write_text("print(2)\n")
    monkeypatch.chdir(worktree)
    aiplatform.init(experiment="exp")
    with aiplatform.start_run("r"):
        pass
    provenance.wait_for_pending()
    git = aiplatform.ExperimentRun("r").provenance["git"]
    assert git == {
        "root": str(worktree),
        "branch": "feature",
        "commit": _git(main, "rev-parse", "HEAD"),
        "dirty": True,
    }
