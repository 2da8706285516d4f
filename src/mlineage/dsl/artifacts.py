"""KFP v2's artifact classes and the `Input[...]` / `Output[...]` annotations.

    Artifact               system.Artifact
    ├── Dataset            system.Dataset
    ├── Model              system.Model
    ├── Metrics            system.Metrics                  log_metric(name, value)
    ├── ClassificationMetrics  system.ClassificationMetrics  log_confusion_matrix, log_roc_curve
    ├── HTML               system.HTML
    └── Markdown           system.Markdown

An artifact has a `name`, a `uri`, a `path` (the local file behind the URI: a plain path is
its own path; `gs://`, `s3://` and `minio://` map to `/gcs/`, `/s3/` and `/minio/` as in KFP)
and `metadata`. Once recorded, `resource_name` is its name in the metadata store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import unquote, urlsplit

__all__ = [
    "HTML",
    "Artifact",
    "ClassificationMetrics",
    "Dataset",
    "Input",
    "Markdown",
    "Metrics",
    "Model",
    "Output",
    "artifact_class_for",
]

_REMOTE_PREFIXES = {"gs://": "/gcs/", "s3://": "/s3/", "minio://": "/minio/"}


class Artifact:
    """A generic artifact (`system.Artifact`)."""

    schema_title: ClassVar[str] = "system.Artifact"
    schema_version: ClassVar[str] = "0.0.1"

    def __init__(
        self, name: str = "", uri: str = "", metadata: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.uri = uri
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.resource_name = ""
        """The artifact's resource name in the metadata store, once recorded."""
        self.fingerprint = ""
        """Content fingerprint of the local file or directory, once recorded."""

    @property
    def path(self) -> str:
        """The local path of the artifact's content."""
        for prefix, local in _REMOTE_PREFIXES.items():
            if self.uri.startswith(prefix):
                return local + self.uri[len(prefix) :]
        if self.uri.startswith("file://"):
            return unquote(urlsplit(self.uri).path)
        return self.uri

    @path.setter
    def path(self, path: str) -> None:
        for prefix, local in _REMOTE_PREFIXES.items():
            if path.startswith(local):
                self.uri = prefix + path[len(local) :]
                return
        self.uri = path

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, "
            f"metadata={self.metadata!r})"
        )


class Dataset(Artifact):
    schema_title: ClassVar[str] = "system.Dataset"


class Model(Artifact):
    schema_title: ClassVar[str] = "system.Model"


class Metrics(Artifact):
    """Scalar metrics; `log_metric` writes them into `metadata`."""

    schema_title: ClassVar[str] = "system.Metrics"

    def log_metric(self, metric: str, value: float) -> None:
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """A confusion matrix and/or an ROC curve, in `metadata` as KFP lays them out."""

    schema_title: ClassVar[str] = "system.ClassificationMetrics"

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        point = {"confidenceThreshold": threshold, "falsePositiveRate": fpr, "recall": tpr}
        self.metadata.setdefault("confidenceMetrics", []).append(point)

    def log_roc_curve(
        self, fpr: Sequence[float], tpr: Sequence[float], threshold: Sequence[float]
    ) -> None:
        if not len(fpr) == len(tpr) == len(threshold):
            raise ValueError(
                f"fpr, tpr and threshold must have the same length, "
                f"got {len(fpr)}, {len(tpr)} and {len(threshold)}"
            )
        for f, t, c in zip(fpr, tpr, threshold, strict=True):
            self.log_roc_data_point(fpr=f, tpr=t, threshold=c)

    def set_confusion_matrix_categories(self, categories: list[str]) -> None:
        size = len(categories)
        self._matrix: dict[str, Any] = {
            "annotationSpecs": [{"displayName": category} for category in categories],
            "rows": [{"row": [0] * size} for _ in range(size)],
        }
        self._categories = {category: i for i, category in enumerate(categories)}
        self.metadata["confusionMatrix"] = self._matrix

    def log_confusion_matrix_row(self, row_category: str, row: Sequence[float]) -> None:
        if row_category not in getattr(self, "_categories", {}):
            raise ValueError(f"unknown category {row_category!r}: set the categories first")
        if len(row) != len(self._categories):
            raise ValueError(f"row must have {len(self._categories)} entries, got {len(row)}")
        self._matrix["rows"][self._categories[row_category]] = {"row": list(row)}
        self.metadata["confusionMatrix"] = self._matrix

    def log_confusion_matrix_cell(self, row_category: str, col_category: str, value: int) -> None:
        categories = getattr(self, "_categories", {})
        for category in (row_category, col_category):
            if category not in categories:
                raise ValueError(f"unknown category {category!r}: set the categories first")
        self._matrix["rows"][categories[row_category]]["row"][categories[col_category]] = value
        self.metadata["confusionMatrix"] = self._matrix

    def log_confusion_matrix(
        self, categories: list[str], matrix: Sequence[Sequence[float]]
    ) -> None:
        """A square matrix, one row per actual category (KFP's layout)."""
        if len(matrix) != len(categories) or any(len(row) != len(categories) for row in matrix):
            raise ValueError(
                f"matrix must be {len(categories)}x{len(categories)}, one row and one column "
                "per category"
            )
        self.set_confusion_matrix_categories(categories)
        for index, row in enumerate(matrix):
            self.log_confusion_matrix_row(categories[index], row)


class HTML(Artifact):
    schema_title: ClassVar[str] = "system.HTML"


class Markdown(Artifact):
    schema_title: ClassVar[str] = "system.Markdown"


class InputAnnotation:
    """Marks a parameter as an input artifact."""


class OutputAnnotation:
    """Marks a parameter as an output artifact the component writes."""


T = TypeVar("T")
Input = Annotated[T, InputAnnotation]
"""`Input[Dataset]`: an artifact the component reads."""
Output = Annotated[T, OutputAnnotation]
"""`Output[Model]`: an artifact the component writes (to `.path`, `.metadata`)."""

_BY_TITLE: dict[str, type[Artifact]] = {
    cls.schema_title: cls
    for cls in (Artifact, Dataset, Model, Metrics, ClassificationMetrics, HTML, Markdown)
}


def artifact_class_for(schema_title: str) -> type[Artifact]:
    """The artifact class of a schema title (`Artifact` for titles it does not know)."""
    return _BY_TITLE.get(schema_title, Artifact)
