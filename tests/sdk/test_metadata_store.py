"""`MetadataStore`, the package surface (`__all__`, `from mlineage import metadata`) and the
error types users catch."""

from __future__ import annotations

import pytest

import mlineage
import mlineage as aiplatform
from mlineage.errors import (
    AbortedError,
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    MlineageError,
    NotFoundError,
)

DEFAULT = "projects/default/locations/us-central1/metadataStores/default"


# -- MetadataStore -------------------------------------------------------------------------------


def test_default_store_resource_name() -> None:
    store = aiplatform.MetadataStore("default")
    assert store.resource_name == DEFAULT
    assert store.name == "default"
    assert store.create_time is not None


def test_default_store_is_made_once() -> None:
    first = aiplatform.MetadataStore("default")
    second = aiplatform.MetadataStore()
    assert second.resource_name == first.resource_name
    assert second.create_time == first.create_time


def test_store_by_full_resource_name() -> None:
    assert aiplatform.MetadataStore(DEFAULT).resource_name == DEFAULT


def test_store_follows_init_project_and_location() -> None:
    aiplatform.init(project="my-project", location="europe-west4")
    assert aiplatform.MetadataStore("default").resource_name == (
        "projects/my-project/locations/europe-west4/metadataStores/default"
    )
    assert aiplatform.MetadataStore(
        "default", project="p2", location="asia-east1"
    ).resource_name == ("projects/p2/locations/asia-east1/metadataStores/default")


def test_store_follows_the_project_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLINEAGE_PROJECT", "env-project")
    monkeypatch.setenv("MLINEAGE_LOCATION", "us-east1")
    assert aiplatform.MetadataStore("default").resource_name == (
        "projects/env-project/locations/us-east1/metadataStores/default"
    )
    aiplatform.init(project="explicit")
    assert aiplatform.MetadataStore("default").resource_name.startswith(
        "projects/explicit/locations/us-east1/"
    )


def test_stores_are_separate_namespaces() -> None:
    team = aiplatform.MetadataStore("team-store")
    assert team.resource_name == "projects/default/locations/us-central1/metadataStores/team-store"
    in_team = aiplatform.Artifact.create(
        schema_title="system.Dataset", resource_id="ds", metadata_store_id="team-store"
    )
    in_default = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="ds")
    assert in_team.resource_name == f"{team.resource_name}/artifacts/ds"
    assert in_default.resource_name == f"{DEFAULT}/artifacts/ds"
    assert [a.resource_name for a in aiplatform.Artifact.list()] == [in_default.resource_name]
    assert [a.resource_name for a in aiplatform.Artifact.list(metadata_store_id="team-store")] == [
        in_team.resource_name
    ]
    assert aiplatform.Artifact.get("ds", metadata_store_id="team-store") == in_team


def test_list_gives_the_stores_of_the_project_and_location_oldest_first() -> None:
    assert aiplatform.MetadataStore.list() == []  # listing makes no store
    made = [aiplatform.MetadataStore(), aiplatform.MetadataStore("team-store")]
    aiplatform.MetadataStore("elsewhere", project="other-project")
    listed = aiplatform.MetadataStore.list()
    assert [s.resource_name for s in listed] == [s.resource_name for s in made]
    assert [s.name for s in listed] == ["default", "team-store"]
    assert [s.create_time for s in listed] == [s.create_time for s in made]
    assert [s.name for s in aiplatform.MetadataStore.list(project="other-project")] == ["elsewhere"]
    assert aiplatform.MetadataStore.list(location="europe-west4") == []


def test_list_follows_init_project_and_location() -> None:
    aiplatform.init(project="my-project", location="europe-west4")
    made = aiplatform.MetadataStore("default")
    assert [s.resource_name for s in aiplatform.MetadataStore.list()] == [made.resource_name]
    with pytest.raises(InvalidArgumentError) as error:
        aiplatform.MetadataStore.list(project="Not/A/Project")
    assert error.value.field == "project"


# -- package surface -------------------------------------------------------------------------------


def test_package_all_is_pinned() -> None:
    assert sorted(mlineage.__all__) == sorted(
        [
            "AbortedError",
            "AlreadyExistsError",
            "Artifact",
            "ArtifactState",
            "Context",
            "Diff",
            "EventType",
            "Execution",
            "ExecutionState",
            "Experiment",
            "ExperimentRun",
            "FailedPreconditionError",
            "InvalidArgumentError",
            "LineageGraph",
            "MetadataStore",
            "MlineageError",
            "NotFoundError",
            "__version__",
            "diff",
            "end_run",
            "get_experiment",
            "get_experiment_df",
            "init",
            "log_classification_metrics",
            "log_metrics",
            "log_params",
            "log_time_series_metrics",
            "start_execution",
            "start_run",
        ]
    )
    assert len(set(mlineage.__all__)) == len(mlineage.__all__)
    for name in mlineage.__all__:
        assert hasattr(mlineage, name), name


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from mlineage import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(mlineage.__all__)


def test_from_mlineage_import_metadata() -> None:
    from mlineage import metadata

    assert metadata.Artifact is aiplatform.Artifact
    assert metadata.Execution is aiplatform.Execution
    assert metadata.Context is aiplatform.Context
    assert metadata.Experiment is aiplatform.Experiment
    assert metadata.ExperimentRun is aiplatform.ExperimentRun
    assert metadata.MetadataStore is aiplatform.MetadataStore
    assert metadata.start_run is aiplatform.start_run
    assert metadata.get_experiment_df is aiplatform.get_experiment_df
    for name in metadata.__all__:
        assert hasattr(metadata, name), name


def test_metadata_module_works_end_to_end() -> None:
    from mlineage import metadata

    aiplatform.init(experiment="exp")
    with metadata.start_run("run-1"):
        metadata.log_metrics({"acc": 1.0})
    assert list(metadata.get_experiment_df("exp")["metric.acc"]) == [1.0]


def test_version_is_a_string() -> None:
    assert isinstance(aiplatform.__version__, str)
    assert aiplatform.__version__.count(".") >= 1


def test_state_enums_on_the_classes_match_vertex() -> None:
    assert aiplatform.Artifact.State is aiplatform.ArtifactState
    assert aiplatform.Execution.State is aiplatform.ExecutionState
    assert [s.name for s in aiplatform.Artifact.State] == ["STATE_UNSPECIFIED", "PENDING", "LIVE"]
    assert [s.name for s in aiplatform.Execution.State] == [
        "STATE_UNSPECIFIED",
        "NEW",
        "RUNNING",
        "COMPLETE",
        "FAILED",
        "CACHED",
        "CANCELLED",
    ]
    assert [t.name for t in aiplatform.EventType] == ["TYPE_UNSPECIFIED", "INPUT", "OUTPUT"]


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidArgumentError, "INVALID_ARGUMENT"),
        (NotFoundError, "NOT_FOUND"),
        (AlreadyExistsError, "ALREADY_EXISTS"),
        (FailedPreconditionError, "FAILED_PRECONDITION"),
        (AbortedError, "ABORTED"),
    ],
)
def test_errors_share_one_root_with_stable_codes(error: type[MlineageError], code: str) -> None:
    assert issubclass(error, MlineageError)
    assert error.code == code
    assert getattr(aiplatform, error.__name__) is error


def test_invalid_argument_is_a_value_error_that_names_the_field() -> None:
    with pytest.raises(ValueError, match="metadata") as caught:
        aiplatform.Artifact.create(schema_title="system.Dataset", metadata={"x": {1}})
    assert isinstance(caught.value, InvalidArgumentError)
    assert caught.value.field == "metadata"
    assert str(caught.value).startswith("INVALID_ARGUMENT: metadata: ")


def test_not_found_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        aiplatform.Execution("nope")
