"""Run one peer workload (ml-metadata or MLflow) in its own virtualenv and return its result.

Stdlib only, so the mlineage benchmark can import it without the peers' dependencies::

    from benchmarks.peers.run_peer import run_peer   # or: from run_peer import run_peer
    result = run_peer("mlmd", "artifacts", 2_000, Path("/tmp/bench"))
    result["ops_per_sec"]

Each workload script prints one JSON object: ``peer``, ``workload``, ``size``, ``seconds``
(timed part only), ``ops_per_sec``, ``notes``, plus ``setup_seconds``, ``version`` and
``sqlite`` (the journal mode and synchronous level the peer ran with).

Run as a script to measure every peer workload at the quick or full sizes::

    python benchmarks/peers/run_peer.py --mode quick
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "PEERS",
    "SIZES",
    "Peer",
    "PeerError",
    "PeerNotInstalledError",
    "PeerParts",
    "peer_python",
    "run_peer",
    "venv_root",
]

HERE = Path(__file__).resolve().parent
VENVS_ENV = "MLINEAGE_BENCH_VENVS"
DEFAULT_VENVS = Path("~/.cache/mlineage-bench/venvs")


@dataclass(frozen=True)
class Peer:
    name: str  # short name used by run_peer and in results
    dist: str  # distribution checked for the pinned version
    version: str  # the pinned version
    requirements: tuple[str, ...]  # what pip installs into the venv
    script: str  # workload script, beside this file
    workloads: tuple[str, ...]
    reusable: tuple[str, ...] = ()  # workloads whose untimed fixture can be kept (--setup-db)


PEERS: dict[str, Peer] = {
    "mlmd": Peer(
        name="mlmd",
        dist="ml-metadata",
        version="1.17.1",
        requirements=("ml-metadata==1.17.1",),
        script="mlmd_workloads.py",
        workloads=("artifacts", "executions", "filter", "lineage"),
    ),
    "mlflow": Peer(
        name="mlflow",
        dist="mlflow",
        version="3.17.2",
        requirements=("mlflow==3.17.2", "psycopg2-binary"),  # psycopg2: its PostgreSQL store
        script="mlflow_workloads.py",
        workloads=("log_metric", "search_runs_df"),
        reusable=("search_runs_df",),
    ),
}

# Sizes the mlineage benchmark uses, per (peer, workload).
SIZES: dict[str, dict[tuple[str, str], int]] = {
    "quick": {
        ("mlmd", "artifacts"): 2_000,
        ("mlmd", "executions"): 500,
        ("mlmd", "filter"): 20_000,  # artifacts in the store (bench_queries.py)
        ("mlmd", "lineage"): 2_000,  # executions in the DAG (bench_queries.py)
        ("mlflow", "log_metric"): 500,
        ("mlflow", "search_runs_df"): 1_000,
    },
    "full": {
        ("mlmd", "artifacts"): 20_000,
        ("mlmd", "executions"): 5_000,
        ("mlmd", "filter"): 100_000,
        ("mlmd", "lineage"): 10_000,
        ("mlflow", "log_metric"): 5_000,
        ("mlflow", "search_runs_df"): 10_000,
    },
}


class PeerError(RuntimeError):
    """A peer workload failed or printed no JSON result."""


class PeerNotInstalledError(PeerError):
    """The peer's virtualenv is missing or lacks the pinned package."""


def venv_root() -> Path:
    """Folder holding the peer virtualenvs: ``$MLINEAGE_BENCH_VENVS`` or the user cache."""
    return Path(os.environ.get(VENVS_ENV) or DEFAULT_VENVS).expanduser()


def peer_python(peer: str) -> Path:
    """The interpreter of ``peer``'s virtualenv (which may not exist yet)."""
    return venv_root() / PEERS[peer].dist / "bin" / "python"


def run_peer(
    peer: str,
    workload: str,
    size: int,
    db_dir: Path,
    *,
    journal: str = "default",
    sync: str = "default",
    reuse_setup: bool = False,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run ``workload`` of ``peer`` on a fresh SQLite file in ``db_dir``; return its JSON.

    ``journal``/``sync`` select the SQLite mode (``default`` keeps the peer's own choice).
    ``reuse_setup`` keeps the untimed fixture of ``search_runs_df`` in ``db_dir`` and reuses
    it on the next call with the same size, so a full run can be repeated without rebuilding.
    """
    cmd = _command(peer, workload, size, db_dir, journal, sync)
    if reuse_setup and workload in PEERS[peer].reusable:
        cmd += ["--setup-db", str(db_dir / f"{peer}-{workload}-{size}-{journal}-fixture.db")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise PeerError(
            f"{peer} {workload} (size {size}) exited {proc.returncode}:\n{proc.stderr[-4000:]}"
        )
    return _result(peer, workload, proc.stdout)


class PeerParts:
    """A peer workload run in ``parts`` parts, one per ``next_part()``: its process sets up
    (untimed), then waits between parts, so that the caller can run its own side's parts in
    between (see ``_workload_common.timed_parts``). ``result()`` is ``run_peer``'s JSON, its
    ``seconds`` the sum of the parts'. Use it as a context manager: leaving it stops the
    process if it is still running."""

    def __init__(
        self,
        peer: str,
        workload: str,
        size: int,
        db_dir: Path,
        parts: int,
        *,
        sync: str = "default",
    ) -> None:
        self.label = f"{peer} {workload} (size {size})"
        self._peer, self._workload = peer, workload
        cmd = [*_command(peer, workload, size, db_dir, "default", sync), "--parts", str(parts)]
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by __exit__)
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self._read()  # {"ready": true}: set up

    def next_part(self) -> float:
        """Run the next part; its seconds."""
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write("next\n")
            stdin.flush()
        except BrokenPipeError:
            self._fail()
        return float(self._read()["seconds"])

    def result(self) -> dict[str, Any]:
        """The whole run's JSON, once every part has run."""
        out, _ = self._proc.communicate()
        if self._proc.returncode != 0:
            self._fail()
        return _result(self._peer, self._workload, out)

    def _read(self) -> dict[str, Any]:
        stdout = self._proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            self._fail()
        message: dict[str, Any] = json.loads(line)
        return message

    def _fail(self) -> NoReturn:
        self._proc.kill()
        self._proc.wait()
        self._stderr.seek(0)
        raise PeerError(
            f"{self.label} exited {self._proc.returncode}:\n{self._stderr.read()[-4000:]}"
        )

    def __enter__(self) -> PeerParts:
        return self

    def __exit__(self, *_: object) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._stderr.close()


def _command(
    peer: str, workload: str, size: int, db_dir: Path, journal: str, sync: str
) -> list[str]:
    """The command line running ``workload`` of ``peer`` on a fresh file in ``db_dir``."""
    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; choose one of {sorted(PEERS)}")
    spec = PEERS[peer]
    if workload not in spec.workloads:
        raise ValueError(f"unknown {peer} workload {workload!r}; choose one of {spec.workloads}")
    python = peer_python(peer)
    if not python.exists():
        raise PeerNotInstalledError(
            f"no virtualenv for {spec.dist} at {python.parent.parent}; "
            f"run `python benchmarks/peers/setup_venvs.py` first "
            f"(set {VENVS_ENV} to use another folder)"
        )
    db_dir.mkdir(parents=True, exist_ok=True)
    db = db_dir / f"{peer}-{workload}-{size}.db"
    return [
        str(python),
        str(HERE / spec.script),
        "--workload",
        workload,
        "--size",
        str(size),
        "--db",
        str(db),
        "--journal",
        journal,
        "--sync",
        sync,
    ]


def _result(peer: str, workload: str, stdout: str) -> dict[str, Any]:
    """The JSON result a workload script printed last."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as exc:
        raise PeerError(f"{peer} {workload} printed no JSON result:\n{stdout[-4000:]}") from exc
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every peer workload at one size mode.")
    parser.add_argument("--mode", choices=sorted(SIZES), default="quick")
    parser.add_argument(
        "--db-dir", type=Path, help="where the SQLite files go (default: a temp dir)"
    )
    parser.add_argument("--journal", choices=("default", "wal"), default="default")
    parser.add_argument("--sync", choices=("default", "normal", "full"), default="default")
    parser.add_argument(
        "--reuse-setup", action="store_true", help="keep/reuse fixtures in --db-dir"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="mlineage-peers-") as tmp:
        db_dir = args.db_dir or Path(tmp)
        for (peer, workload), size in SIZES[args.mode].items():
            sync = args.sync if peer == "mlflow" else "default"  # MLMD cannot set it
            res = run_peer(
                peer,
                workload,
                size,
                db_dir,
                journal=args.journal,
                sync=sync,
                reuse_setup=args.reuse_setup,
            )
            if args.json:
                print(json.dumps(res), flush=True)
            else:
                print(
                    f"{peer:7} {workload:15} n={size:>6}  {res['seconds']:9.3f} s  "
                    f"{res['ops_per_sec']:10.1f} /s  setup {res.get('setup_seconds', 0):7.1f} s  "
                    f"{res.get('sqlite', '')}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
