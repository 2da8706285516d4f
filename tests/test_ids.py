"""Generated ids (`mlineage.ids`): version 7 UUIDs that sort in the order they were made."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from mlineage import ids
from mlineage.types import validate_resource_id


def _millis(text: str) -> int:
    return uuid.UUID(text).int >> 80


def test_ids_are_version_7_uuids_and_valid_vertex_ids() -> None:
    before = time.time_ns() // 1_000_000
    made = [*ids.new_ids(50), ids.new_id()]
    after = time.time_ns() // 1_000_000
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text  # 36 lowercase characters, the usual spelling
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert validate_resource_id(text) == text
        # The Unix time in milliseconds (ahead of it only after more ids than a
        # millisecond's counter holds were made at once, as another test may have).
        assert before <= _millis(text) <= after + 100
    assert len(set(made)) == len(made)


def test_ids_sort_in_the_order_they_were_made_within_a_millisecond() -> None:
    made = [ids.new_id() for _ in range(1000)] + ids.new_ids(300) + [ids.new_id()]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert any(_millis(a) == _millis(b) for a, b in itertools.pairwise(made))


def test_a_batch_larger_than_a_millisecond_counter_carries_into_the_time() -> None:
    made = ids.new_ids(10_000)  # more than the 12-bit counter holds in one millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(text).version == 7 for text in made)


def test_ids_keep_their_order_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    first = ids.new_ids(3)
    earlier = time.time_ns() - 5_000_000_000  # NTP moved the clock 5 s back
    monkeypatch.setattr(ids, "time", SimpleNamespace(time_ns=lambda: earlier))
    later = ids.new_ids(3)
    assert first + later == sorted(first + later)
    assert len(set(first + later)) == 6


def test_threads_get_distinct_ids_each_in_order() -> None:
    results: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        for _ in range(500):
            out.append(ids.new_id())

    threads = [threading.Thread(target=make, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [text for out in results for text in out]
    assert len(set(every)) == len(every)
    assert all(out == sorted(out) for out in results)
