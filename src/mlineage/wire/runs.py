"""Experiment runs as JSON: run records, typed parameter values, metrics, time series.

Parameters keep their Python type across the wire, so each value names it, as
`google.protobuf.Value` does (with int64 as a string, Google's rule for 64-bit integers):
`{"stringValue": "adam"}`, `{"intValue": "3"}`, `{"doubleValue": 0.1}`, `{"boolValue": true}`.
Metric values are JSON numbers, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from pydantic import Field, model_validator

from mlineage import types
from mlineage.store.base import ExperimentRow, RunInfo
from mlineage.validation import ParamValue
from mlineage.wire.fields import EnumOf, Int64, Message, Timestamp, format_timestamp
from mlineage.wire.resources import ContextJson

__all__ = [
    "ExperimentRowJson",
    "ParamValueJson",
    "RunJson",
    "TimeSeriesPointJson",
    "encode_points",
    "params_from_json",
    "params_to_json",
]

ExecutionStateJson = EnumOf(types.ExecutionState)


class ParamValueJson(Message):
    """One parameter value; exactly one field is set."""

    string_value: str | None = None
    int_value: Int64 | None = Field(default=None, description="int64, written as a string")
    double_value: float | None = None
    bool_value: bool | None = None

    @model_validator(mode="after")
    def _one_value(self) -> ParamValueJson:
        count = sum(
            v is not None
            for v in (self.string_value, self.int_value, self.double_value, self.bool_value)
        )
        if count != 1:
            raise ValueError(
                "exactly one of stringValue, intValue, doubleValue, boolValue must be set"
            )
        return self

    def value(self) -> ParamValue:
        for candidate in (self.string_value, self.int_value, self.double_value):
            if candidate is not None:
                return candidate
        assert self.bool_value is not None
        return self.bool_value

    @classmethod
    def of(cls, value: ParamValue) -> ParamValueJson:
        if isinstance(value, bool):
            return cls(bool_value=value)
        if isinstance(value, int):
            return cls(int_value=value)
        if isinstance(value, float):
            return cls(double_value=value)
        return cls(string_value=value)


def params_to_json(params: dict[str, ParamValue]) -> dict[str, ParamValueJson]:
    return {key: ParamValueJson.of(value) for key, value in params.items()}


def params_from_json(params: dict[str, ParamValueJson]) -> dict[str, ParamValue]:
    return {key: value.value() for key, value in params.items()}


class RunJson(Message):
    """An experiment or pipeline run: its context and run-level state (mlineage)."""

    context: ContextJson
    experiment: str | None = None
    run_type: str = ""
    state: ExecutionStateJson = types.ExecutionState.RUNNING  # type: ignore[valid-type]
    provenance: dict[str, Any] = Field(default_factory=dict)
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None

    def to_domain(self) -> RunInfo:
        if self.start_time is None:
            raise ValueError("a stored run has a startTime")
        return RunInfo(
            context=self.context.to_domain(),
            experiment=self.experiment,
            run_type=self.run_type,
            state=self.state,
            provenance=self.provenance,
            start_time=self.start_time,
            end_time=self.end_time,
        )

    @classmethod
    def from_domain(cls, run: RunInfo) -> RunJson:
        return cls(
            context=ContextJson.from_domain(run.context),
            experiment=run.experiment,
            run_type=run.run_type,
            state=run.state,
            provenance=run.provenance,
            start_time=run.start_time,
            end_time=run.end_time,
        )


class TimeSeriesPointJson(Message):
    key: str
    step: Int64 = Field(description="int64; a string or a number")
    value: float
    wall_time: Timestamp

    def to_domain(self) -> types.TimeSeriesPoint:
        return types.TimeSeriesPoint(self.key, self.step, self.value, self.wall_time)

    @classmethod
    def from_domain(cls, point: types.TimeSeriesPoint) -> TimeSeriesPointJson:
        return cls(key=point.key, step=point.step, value=point.value, wall_time=point.wall_time)


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def encode_points(points: Iterable[types.TimeSeriesPoint]) -> bytes:
    """`WriteTimeSeriesPointsRequest` JSON of `points`, built directly: a batch of
    thousands is encoded several times faster than through the models."""
    return json.dumps(
        {
            "points": [
                {
                    "key": p.key,
                    "step": str(p.step),
                    "value": _double(p.value),
                    "wallTime": format_timestamp(p.wall_time),
                }
                for p in points
            ]
        },
        separators=(",", ":"),
    ).encode()


class ExperimentRowJson(Message):
    """One run of an experiment as `get_experiment_df` shows it."""

    run_name: str
    run_type: str
    state: ExecutionStateJson  # type: ignore[valid-type]
    params: dict[str, ParamValueJson] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    time_series: dict[str, float] = Field(
        default_factory=dict, description="The last value of each time-series metric"
    )
    name: str = Field(default="", description="The run context's resource name")
    start_time: Timestamp | None = None

    def to_domain(self) -> ExperimentRow:
        return ExperimentRow(
            run_name=self.run_name,
            run_type=self.run_type,
            state=self.state,
            params=params_from_json(self.params),
            metrics=dict(self.metrics),
            time_series=dict(self.time_series),
            name=self.name,
            start_time=self.start_time,
        )

    @classmethod
    def from_domain(cls, row: ExperimentRow) -> ExperimentRowJson:
        return cls(
            run_name=row.run_name,
            run_type=row.run_type,
            state=row.state,
            params={k: ParamValueJson.of(v) for k, v in row.params.items()},
            metrics=row.metrics,
            time_series=row.time_series,
            name=row.name,
            start_time=row.start_time,
        )
