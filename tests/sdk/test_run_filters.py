"""Finding runs by their params and metrics with the filter language."""

from __future__ import annotations

import math

import pytest

import mlineage as aiplatform
from mlineage.errors import InvalidArgumentError

SWEEP = [
    ("lr-small", {"lr": 0.001, "optimizer": "adam", "layers": 2, "dropout": True}, 0.81),
    ("lr-mid", {"lr": 0.01, "optimizer": "adam", "layers": 4, "dropout": False}, 0.93),
    ("lr-big", {"lr": 0.1, "optimizer": "sgd", "layers": 4, "dropout": True}, 0.72),
    ("diverged", {"lr": 1.0, "optimizer": "sgd", "layers": 8, "dropout": False}, math.nan),
]


@pytest.fixture(autouse=True)
def sweep() -> None:
    aiplatform.init(experiment="sweep")
    for name, params, accuracy in SWEEP:
        with aiplatform.start_run(name):
            aiplatform.log_params(params)
            aiplatform.log_metrics({"accuracy": accuracy})
    aiplatform.init(experiment="other")
    with aiplatform.start_run("elsewhere"):
        aiplatform.log_metrics({"accuracy": 0.99})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metric.accuracy > 0.9", ["lr-mid"]),
        ("metric.accuracy >= 0.72 AND metric.accuracy < 0.9", ["lr-small", "lr-big"]),
        ('param.optimizer = "sgd"', ["lr-big", "diverged"]),
        ("param.lr <= 0.01", ["lr-small", "lr-mid"]),
        ("param.layers = 4", ["lr-mid", "lr-big"]),
        ("param.dropout = true", ["lr-small", "lr-big"]),
        ('param.optimizer = "adam" AND NOT metric.accuracy < 0.9', ["lr-mid"]),
        ('display_name = "diverged" OR metric.accuracy > 0.92', ["lr-mid", "diverged"]),
        ("metric.missing > 0", []),
    ],
)
def test_runs_filtered_by_params_and_metrics(text: str, expected: list[str]) -> None:
    runs = aiplatform.ExperimentRun.list(experiment="sweep", filter=text)
    assert [r.name for r in runs] == expected


def test_a_bad_run_filter_names_the_problem() -> None:
    with pytest.raises(InvalidArgumentError) as error:
        aiplatform.ExperimentRun.list(experiment="sweep", filter="metric.accuracy > ")
    assert error.value.field == "filter"
    with pytest.raises(InvalidArgumentError, match=r"metric\.accuracy"):
        aiplatform.ExperimentRun.list(experiment="sweep", filter='metric.accuracy = "high"')
