"""The artifact classes and component signatures, as in KFP v2."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from mlineage import dsl
from mlineage.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Dataset,
    Input,
    Markdown,
    Metrics,
    Model,
    Output,
)


def test_schema_titles_are_kfps() -> None:
    titles = {
        cls.__name__: cls.schema_title
        for cls in (Artifact, Dataset, Model, Metrics, ClassificationMetrics, HTML, Markdown)
    }
    assert titles == {
        "Artifact": "system.Artifact",
        "Dataset": "system.Dataset",
        "Model": "system.Model",
        "Metrics": "system.Metrics",
        "ClassificationMetrics": "system.ClassificationMetrics",
        "HTML": "system.HTML",
        "Markdown": "system.Markdown",
    }


def test_path_follows_the_uri() -> None:
    assert Dataset(uri="gs://bucket/a.csv").path == "/gcs/bucket/a.csv"
    assert Dataset(uri="s3://bucket/a.csv").path == "/s3/bucket/a.csv"
    assert Dataset(uri="file:///tmp/a%20b.csv").path == "/tmp/a b.csv"
    assert Dataset(uri="/tmp/a.csv").path == "/tmp/a.csv"
    data = Dataset(name="d")
    data.path = "/gcs/bucket/b.csv"
    assert data.uri == "gs://bucket/b.csv"


def test_metrics_and_classification_metrics_fill_metadata_as_kfp_does() -> None:
    metrics = Metrics()
    metrics.log_metric("accuracy", 0.9)
    assert metrics.metadata == {"accuracy": 0.9}

    classification = ClassificationMetrics()
    classification.log_roc_curve(fpr=[0.0, 0.5], tpr=[0.0, 1.0], threshold=[1.0, 0.5])
    classification.log_confusion_matrix(["cat", "dog"], [[9, 1], [2, 8]])
    assert classification.metadata["confidenceMetrics"] == [
        {"confidenceThreshold": 1.0, "falsePositiveRate": 0.0, "recall": 0.0},
        {"confidenceThreshold": 0.5, "falsePositiveRate": 0.5, "recall": 1.0},
    ]
    assert classification.metadata["confusionMatrix"] == {
        "annotationSpecs": [{"displayName": "cat"}, {"displayName": "dog"}],
        "rows": [{"row": [9, 1]}, {"row": [2, 8]}],
    }
    with pytest.raises(ValueError, match="2x2"):
        classification.log_confusion_matrix(["cat", "dog"], [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match="same length"):
        classification.log_roc_curve(fpr=[0.0], tpr=[0.0, 1.0], threshold=[1.0])


class Pair(NamedTuple):
    first: int
    second: str


def test_signature_reads_inputs_outputs_parameters_and_returns() -> None:
    @dsl.component
    def everything(
        data: Input[Dataset],
        model: Output[Model],
        options: dict,  # type: ignore[type-arg]
        values: list[int],
        flag: bool = False,
        name: str | None = None,
    ) -> Pair:
        return Pair(1, "x")

    signature = everything.signature
    assert signature.inputs == {"data": Dataset}
    assert signature.outputs == {"model": Model}
    assert {n: p.type for n, p in signature.parameters.items()} == {
        "options": dict,
        "values": list,
        "flag": bool,
        "name": str,
    }
    assert signature.returns == {"first": int, "second": str}
    assert everything.name == "everything"


def test_unsupported_types_are_refused_when_declared() -> None:
    with pytest.raises(TypeError, match="parameter 'when'"):

        @dsl.component
        def bad(when: complex) -> None: ...

    with pytest.raises(TypeError, match="give a type annotation"):

        @dsl.component
        def untyped(x) -> None:  # type: ignore[no-untyped-def]
            ...


def test_kfp_arguments_are_accepted_and_kept() -> None:
    @dsl.component(
        base_image="python:3.10",
        packages_to_install=["pandas"],
        install_kfp_package=False,
        pip_index_urls=["https://example.invalid/simple"],
    )
    def configured() -> None: ...

    assert configured.local_settings() == {
        "base_image": "python:3.10",
        "packages_to_install": ["pandas"],
        "install_kfp_package": False,
        "pip_index_urls": ["https://example.invalid/simple"],
    }
