"""Create the peer virtualenvs (ml-metadata, MLflow) the benchmark compares mlineage with.

    python benchmarks/peers/setup_venvs.py            # both peers
    python benchmarks/peers/setup_venvs.py --peer mlmd

Each peer gets its own Python 3.11 venv (ml-metadata pins protobuf<5, MLflow wants newer), in
``$MLINEAGE_BENCH_VENVS`` or ``~/.cache/mlineage-bench/venvs``, outside the repository. A venv
that already has the pinned version is left alone. Needs only PyPI.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from run_peer import PEERS, VENVS_ENV, Peer, peer_python, venv_root


def installed_version(python: Path, dist: str) -> str | None:
    if not python.exists():
        return None
    proc = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def find_python311(explicit: str | None) -> str:
    if explicit:
        found: str | None = explicit
    elif sys.version_info[:2] == (3, 11):
        found = sys.executable
    else:
        found = shutil.which("python3.11")
    check = "import sys; sys.exit(sys.version_info[:2] != (3, 11))"
    if found is None or subprocess.run([found, "-c", check], check=False).returncode != 0:
        sys.exit(f"Python 3.11 not found (got {found}): pass --python /path/to/python3.11")
    return found


def ensure(peer: Peer, base_python: str) -> Path:
    python = peer_python(peer.name)
    have = installed_version(python, peer.dist)
    if have == peer.version:
        print(f"{peer.dist}=={have}: already set up", flush=True)
        return python
    venv = python.parent.parent
    if not python.exists():
        print(f"{peer.dist}: creating {venv}", flush=True)
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    print(f"{peer.dist}: installing {' '.join(peer.requirements)} (had {have})", flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         *peer.requirements],
        check=True,
    )  # fmt: skip
    have = installed_version(python, peer.dist)
    if have != peer.version:
        sys.exit(f"{peer.dist}: expected {peer.version} after install, found {have}")
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=sorted(PEERS), action="append", help="default: all")
    parser.add_argument("--python", help="Python 3.11 interpreter for the venvs")
    args = parser.parse_args(argv)
    base_python = find_python311(args.python)
    print(f"peer venvs in {venv_root()} (set {VENVS_ENV} to move them)", flush=True)
    for name in args.peer or sorted(PEERS):
        python = ensure(PEERS[name], base_python)
        print(f"  {name}: {python}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
