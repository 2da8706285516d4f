"""TensorboardService messages as JSON: tensorboards, their experiments, runs, time series,
and the data points written and read (Vertex AI's v1 field names)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from pydantic import Field

from mlineage.errors import InvalidArgumentError
from mlineage.store.base import (
    ScalarPoint,
    Tensorboard,
    TensorboardExperiment,
    TensorboardRun,
    TensorboardTimeSeries,
    TimeSeriesData,
)
from mlineage.wire.fields import EnumOf, Int64, Message, Timestamp

__all__ = [
    "BatchReadTensorboardTimeSeriesDataResponse",
    "ListTensorboardTimeSeriesResponse",
    "ListTensorboardsResponse",
    "ReadTensorboardTimeSeriesDataResponse",
    "TensorboardExperimentJson",
    "TensorboardJson",
    "TensorboardRunJson",
    "TensorboardTimeSeriesJson",
    "TimeSeriesDataJson",
    "ValueType",
    "WriteTensorboardRunDataRequest",
    "WriteTensorboardRunDataResponse",
]


class ValueType(enum.Enum):
    """`TensorboardTimeSeries.ValueType`; mlineage stores SCALAR series."""

    VALUE_TYPE_UNSPECIFIED = 0
    SCALAR = 1
    TENSOR = 2
    BLOB_SEQUENCE = 3


if TYPE_CHECKING:
    ValueTypeJson = ValueType
else:
    ValueTypeJson = EnumOf(ValueType)


class TensorboardJson(Message):
    name: str = ""
    display_name: str = ""
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    is_default: bool = False
    etag: str = ""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None

    @classmethod
    def from_domain(cls, tensorboard: Tensorboard) -> TensorboardJson:
        return cls(
            name=tensorboard.name,
            display_name=tensorboard.display_name,
            description=tensorboard.description,
            labels=tensorboard.labels,
            is_default=tensorboard.is_default,
            etag=tensorboard.etag,
            create_time=tensorboard.create_time,
            update_time=tensorboard.update_time,
        )

    def to_domain(self) -> Tensorboard:
        return Tensorboard(
            display_name=self.display_name,
            description=self.description,
            labels=dict(self.labels),
            is_default=self.is_default,
        )


class _ContextViewJson(Message):
    """The fields of a TensorboardExperiment or TensorboardRun (both views of a context)."""

    name: str = ""
    display_name: str = ""
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    etag: str = ""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None

    @classmethod
    def _of(cls, view: TensorboardExperiment | TensorboardRun) -> Self:
        return cls(
            name=view.name,
            display_name=view.display_name,
            description=view.description,
            labels=view.labels,
            etag=view.etag,
            create_time=view.create_time,
            update_time=view.update_time,
        )


class TensorboardExperimentJson(_ContextViewJson):
    @classmethod
    def from_domain(cls, experiment: TensorboardExperiment) -> TensorboardExperimentJson:
        return cls._of(experiment)

    def to_domain(self) -> TensorboardExperiment:
        return TensorboardExperiment(
            display_name=self.display_name, description=self.description, labels=dict(self.labels)
        )


class TensorboardRunJson(_ContextViewJson):
    @classmethod
    def from_domain(cls, run: TensorboardRun) -> TensorboardRunJson:
        return cls._of(run)

    def to_domain(self) -> TensorboardRun:
        return TensorboardRun(
            display_name=self.display_name, description=self.description, labels=dict(self.labels)
        )


class TimeSeriesMetadataJson(Message):
    max_step: Int64 | None = None
    max_wall_time: Timestamp | None = None


class TensorboardTimeSeriesJson(Message):
    name: str = ""
    display_name: str = ""
    description: str = ""
    value_type: ValueTypeJson = ValueType.SCALAR
    plugin_name: str = ""
    create_time: Timestamp | None = None
    update_time: Timestamp | None = None
    metadata: TimeSeriesMetadataJson | None = None

    @classmethod
    def from_domain(cls, series: TensorboardTimeSeries) -> TensorboardTimeSeriesJson:
        return cls(
            name=series.name,
            display_name=series.display_name,
            description=series.description,
            value_type=ValueType[series.value_type],
            plugin_name=series.plugin_name,
            create_time=series.create_time,
            update_time=series.update_time,
            metadata=TimeSeriesMetadataJson(
                max_step=series.max_step, max_wall_time=series.max_wall_time
            ),
        )

    def to_domain(self) -> TensorboardTimeSeries:
        return TensorboardTimeSeries(
            display_name=self.display_name,
            description=self.description,
            value_type=self.value_type.name,
            plugin_name=self.plugin_name or "scalars",
        )


class ScalarJson(Message):
    value: float = 0.0


class TimeSeriesDataPointJson(Message):
    scalar: ScalarJson | None = None
    wall_time: Timestamp | None = None
    step: Int64 = 0


class TimeSeriesDataJson(Message):
    tensorboard_time_series_id: str = ""
    value_type: ValueTypeJson = ValueType.SCALAR
    values: list[TimeSeriesDataPointJson] = Field(default_factory=list)

    @classmethod
    def from_domain(cls, data: TimeSeriesData) -> TimeSeriesDataJson:
        return cls(
            tensorboard_time_series_id=data.time_series_id,
            value_type=ValueType.SCALAR,
            values=[
                TimeSeriesDataPointJson(
                    scalar=ScalarJson(value=p.value), wall_time=p.wall_time, step=p.step
                )
                for p in data.values
            ],
        )

    def to_domain(self, field: str) -> TimeSeriesData:
        """The points; only scalars are stored (`field` names this entry in errors). A point
        without a wall time is stamped now."""
        if self.value_type is not ValueType.SCALAR:
            raise InvalidArgumentError(
                f"{field}.value_type",
                f"only SCALAR time series are stored, got {self.value_type.name}",
            )
        now = datetime.now(UTC)
        points = []
        for i, point in enumerate(self.values):
            if point.scalar is None:
                raise InvalidArgumentError(f"{field}.values[{i}].scalar", "is required")
            points.append(ScalarPoint(point.step, point.scalar.value, point.wall_time or now))
        return TimeSeriesData(self.tensorboard_time_series_id, points)


class ListTensorboardsResponse(Message):
    tensorboards: list[TensorboardJson] = Field(default_factory=list)
    next_page_token: str = ""


class ListTensorboardTimeSeriesResponse(Message):
    tensorboard_time_series: list[TensorboardTimeSeriesJson] = Field(default_factory=list)
    next_page_token: str = ""


class WriteTensorboardRunDataRequest(Message):
    time_series_data: list[TimeSeriesDataJson] = Field(default_factory=list)


class WriteTensorboardRunDataResponse(Message):
    pass


class BatchReadTensorboardTimeSeriesDataResponse(Message):
    time_series_data: list[TimeSeriesDataJson] = Field(default_factory=list)


class ReadTensorboardTimeSeriesDataResponse(Message):
    time_series_data: TimeSeriesDataJson
