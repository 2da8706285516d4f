"""Plumbing shared by the peer workload scripts (stdlib only: it runs inside each peer's venv)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from collections.abc import Iterator
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
        "--setup-db",
        type=Path,
        help=f"persistent fixture for {', '.join(reusable) or 'no workload'}: built when "
        "missing or incomplete, reused otherwise (then --db is not used)",
    )
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error("--size must be at least 1")
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
