"""Generated resource ids: time-ordered UUIDs (version 7, RFC 9562) as text.

An id is the Unix time in milliseconds (48 bits), a 12-bit counter and 62 random bits, in
`str(uuid.UUID(...))`'s spelling: 36 lowercase characters, a valid Vertex resource id. Ids
made one after another sort together, so inserting them appends to the (store, resource id)
index instead of dirtying a random page of it. The counter makes the ids of one process sort
in the order they were made, even within a millisecond, a batch included (RFC 9562 6.2,
method 1: a counter that runs out carries into the time, and a clock that steps back is
ignored until it passes the last id).
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["new_id", "new_ids"]

_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_COUNTER = [f"{c:03x}" for c in range(4096)]
_lock = threading.Lock()
_last = 0
"""The time and counter (milliseconds << 12 | counter) of the last id made."""


def new_ids(count: int) -> list[str]:
    """`count` new ids, in ascending order. A batch shares one clock reading and one draw
    of random bytes."""
    global _last
    h = os.urandom(8 * count + 2).hex()
    now = time.time_ns() // 1_000_000 << 12
    with _lock:
        # A new millisecond starts its counter at a random value below 2048, so at least
        # 2048 ids fit in it before the counter carries into the time.
        first = _last + 1 if _last >= now else now | int(h[-3:], 16) >> 1
        _last = last = first + count - 1
    if first >> 12 == last >> 12:
        return _spell(first, count, h, 0)
    ids: list[str] = []
    while first <= last:
        n = min(last - first + 1, 4096 - (first & 0xFFF))
        ids += _spell(first, n, h, 16 * len(ids))
        first += n
    return ids


def _spell(first: int, count: int, h: str, at: int) -> list[str]:
    """The text of ids `first`... of one millisecond, their random bits from `h[at:]`."""
    t = f"{first >> 12:012x}"
    prefix = f"{t[:8]}-{t[8:]}-7"
    c = first & 0xFFF
    return [
        f"{prefix}{_COUNTER[c + i]}-{_VARIANT[h[j]]}{h[j + 1 : j + 4]}-{h[j + 4 : j + 16]}"
        for i, j in enumerate(range(at, at + 16 * count, 16))
    ]


def new_id() -> str:
    """One new id."""
    return new_ids(1)[0]
