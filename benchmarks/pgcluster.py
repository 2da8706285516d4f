"""A throwaway PostgreSQL cluster for benchmarks, with PostgreSQL's default durability."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def postgres_cluster(directory: Path) -> Iterator[str]:
    """Start a cluster in `directory` on a free loopback port; yield its maintenance URL."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    bin_dir = binaries[-1]
    directory.mkdir(parents=True, exist_ok=True)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(directory, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = str(directory / "data")
    subprocess.run(
        [*run_as, f"{bin_dir}/initdb", "-D", data, "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c max_connections=300"
    log = str(directory / "server.log")
    subprocess.run(
        [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-l", log, "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
