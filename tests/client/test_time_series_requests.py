"""A time-series write without a step is idempotent by request id, on every backend."""

from __future__ import annotations

import pytest

from mlineage.errors import InvalidArgumentError
from mlineage.store.base import MetadataStore
from mlineage.types import Context, StoreName

PARENT = StoreName("p1", "us-central1")


def _run(store: MetadataStore) -> str:
    run = store.create_run(
        PARENT, Context(schema_title="system.ExperimentRun"), "r", experiment=None
    )
    return run.context.name


def test_a_repeated_request_id_returns_its_step_and_writes_nothing(
    contract_store: MetadataStore,
) -> None:
    run = _run(contract_store)
    assert contract_store.write_time_series(run, {"loss": 1.0}, request_id="a") == 0
    assert contract_store.write_time_series(run, {"loss": 7.0}, request_id="a") == 0
    assert contract_store.write_time_series(run, {"loss": 0.5}, request_id="b") == 1
    assert contract_store.write_time_series(run, {"loss": 0.4}) == 2
    points = contract_store.read_time_series(run)
    assert [(p.step, p.value) for p in points] == [(0, 1.0), (1, 0.5), (2, 0.4)]


def test_request_ids_are_per_run(contract_store: MetadataStore) -> None:
    first = _run(contract_store)
    other = contract_store.create_run(
        PARENT, Context(schema_title="system.ExperimentRun"), "other", experiment=None
    ).context.name
    contract_store.write_time_series(first, {"loss": 1.0})
    assert contract_store.write_time_series(first, {"loss": 1.0}, request_id="same") == 1
    assert contract_store.write_time_series(other, {"loss": 1.0}, request_id="same") == 0


def test_a_request_id_longer_than_64_characters_is_refused(contract_store: MetadataStore) -> None:
    run = _run(contract_store)
    with pytest.raises(InvalidArgumentError) as error:
        contract_store.write_time_series(run, {"loss": 1.0}, request_id="x" * 65)
    assert error.value.field == "request_id"
