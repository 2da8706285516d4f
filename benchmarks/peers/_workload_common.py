"""Plumbing shared by the peer workload scripts (stdlib only: it runs inside each peer's venv)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Result:
    peer: str
    workload: str
    size: int
    seconds: float
    ops_per_sec: float
    notes: str
    setup_seconds: float
    version: str
    sqlite: str


def parse_args(
    description: str,
    workloads: tuple[str, ...],
    syncs: tuple[str, ...],
    reusable: tuple[str, ...],
    argv: list[str] | None = None,
    in_parts: tuple[str, ...] = (),
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workload", required=True, choices=workloads)
    parser.add_argument("--size", required=True, type=int, help="number of operations (N)")
    parser.add_argument("--db", required=True, type=Path, help="SQLite file, recreated first")
    parser.add_argument(
        "--journal",
        choices=("default", "wal"),
        default="default",
        help="default: the peer's own journal mode; wal: the file is put in WAL mode first",
    )
    parser.add_argument(
        "--sync",
        choices=syncs,
        default="default",
        help="PRAGMA synchronous for the peer's connections (default: the peer's own)",
    )
    parser.add_argument(
        "--parts",
        type=int,
        default=1,
        help="run the timed operations in this many parts, each when a line arrives on stdin "
        "(how bench_foundation.py takes turns with this process; see timed_parts)",
    )
    parser.add_argument(
        "--setup-db",
        type=Path,
        help=f"persistent fixture for {', '.join(reusable) or 'no workload'}: built when "
        "missing or incomplete, reused otherwise (then --db is not used)",
    )
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
    if args.parts < 1:
        parser.error("--parts must be at least 1")
    if args.parts > 1 and args.workload not in in_parts:
        parser.error(f"--parts applies only to: {', '.join(in_parts) or 'none'}")
    if args.setup_db is not None and args.workload not in reusable:
        parser.error(f"--setup-db applies only to: {', '.join(reusable) or 'none'}")
    return args


def fresh_db(path: Path, journal: str) -> None:
    """Remove ``path`` and its side files; in WAL mode, create it with WAL set (persistent)."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if journal == "wal":
        con = sqlite3.connect(path)
        try:
            mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        finally:
            con.close()
        if mode != "wal":
            raise RuntimeError(f"could not put {path} in WAL mode (got {mode})")


def file_journal_kind(path: Path) -> str:
    """Journal kind recorded in the database header (bytes 18-19: 1 rollback, 2 WAL)."""
    with path.open("rb") as fh:
        header = fh.read(20)
    if len(header) < 20:
        return "unknown"
    return {1: "rollback", 2: "wal"}.get(header[18], f"unknown({header[18]})")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Keep library chatter off stdout, which carries only the JSON result."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def emit(result: Result) -> None:
    print(json.dumps(asdict(result)), flush=True)


def part_ranges(items: int, parts: int) -> list[range]:
    """Items 0..items-1 in `parts` consecutive ranges of (nearly) equal length."""
    return [range(k * items // parts, (k + 1) * items // parts) for k in range(parts)]


def timed_parts(run: Callable[[int], None], items: int, parts: int) -> float:
    """Call `run(i)` for each of items 0..items-1; return the seconds those calls took.

    With `parts` > 1 the items run in that many parts (`part_ranges`), taking turns with the
    process that started this one: this one prints `{"ready": true}` once set up, then runs
    a part each time a line arrives on stdin and prints `{"seconds": ...}` for it. Both
    sides of a comparison then run while the machine is alike (bench_foundation.py). The
    JSON lines go to the real stdout, which the workload's own chatter is kept off."""
    if parts == 1:
        start = time.perf_counter()
        for i in range(items):
            run(i)
        return time.perf_counter() - start
    out = sys.__stdout__
    assert out is not None
    print(json.dumps({"ready": True}), file=out, flush=True)
    total = 0.0
    for part in part_ranges(items, parts):
        if not sys.stdin.readline():
            raise SystemExit("stdin closed before every part ran")
        start = time.perf_counter()
        for i in part:
            run(i)
        seconds = time.perf_counter() - start
        total += seconds
        print(json.dumps({"seconds": seconds}), file=out, flush=True)
    return total
