"""Run provenance: where, with what code and in which environment a run ran.

Capture has two parts so a run never waits for it: `capture_quick()` reads only cheap
facts (Python, platform, host, user, command line, and the git commit and branch straight
from the `.git` folder, no subprocess); `SlowProvenance` works out in a background thread
what costs tens of milliseconds (whether the work tree is dirty, the versions of the
imported packages) and the run records it when it ends.
"""

from __future__ import annotations

import functools
import getpass
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = candidate.read_text().strip()
            if text.startswith("gitdir:"):
                return (folder / text.split(":", 1)[1].strip()).resolve()
    return None


def _read_ref(git_dir: Path, ref: str) -> str | None:
    loose = git_dir / ref
    if loose.is_file():
        return loose.read_text().strip()
    common = git_dir / "commondir"
    roots = [git_dir] + (
        [(git_dir / common.read_text().strip()).resolve()] if common.is_file() else []
    )
    for root in roots:
        if (root / ref).is_file():
            return (root / ref).read_text().strip()
        packed = root / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0]
    return None


def git_head(start: Path) -> dict[str, Any]:
    """Commit, branch and repository root of the work tree around `start`, read from files."""
    git_dir = _git_dir(start)
    if git_dir is None:
        return {}
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return {}
    info: dict[str, Any] = {"root": str(git_dir.parent)}
    if head.startswith("ref:"):
        ref = head.split(":", 1)[1].strip()
        info["branch"] = ref.removeprefix("refs/heads/")
        commit = _read_ref(git_dir, ref)
        if commit:
            info["commit"] = commit
    else:
        info["commit"] = head
    return info


def capture_quick() -> dict[str, Any]:
    """The facts that cost well under a millisecond to read."""
    cwd = Path.cwd()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    provenance: dict[str, Any] = {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "hostname": socket.gethostname(),
        "user": user,
        "pid": os.getpid(),
        "command": list(sys.argv),
        "cwd": str(cwd),
    }
    git = git_head(cwd)
    if git:
        provenance["git"] = git
    return provenance


def _git_dirty(root: str) -> bool | None:
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(result.stdout.strip()) if result.returncode == 0 else None


@functools.cache
def _distributions_of_modules() -> Mapping[str, list[str]]:
    """Top-level module -> distributions providing it. Scanning every installed
    distribution takes a few hundred milliseconds, so it is done once per process."""
    return importlib.metadata.packages_distributions()


@functools.cache
def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def imported_packages() -> dict[str, str]:
    """Versions of the installed distributions whose modules this process has imported."""
    top_level = {name.partition(".")[0] for name in list(sys.modules)}
    mapping = _distributions_of_modules()
    versions: dict[str, str] = {}
    for module in sorted(top_level & mapping.keys()):
        for distribution in mapping[module]:
            version = _version(distribution)
            if version is not None:
                versions[distribution] = version
    return dict(sorted(versions.items()))


class SlowProvenance:
    """Computes the expensive facts in a daemon thread; `result()` waits a bounded time."""

    def __init__(self, git_root: str | None) -> None:
        self._git_root = git_root
        self._result: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name="mlineage-provenance", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        result: dict[str, Any] = {}
        if self._git_root:
            dirty = _git_dirty(self._git_root)
            if dirty is not None:
                result["git_dirty"] = dirty
        result["packages"] = imported_packages()
        self._result = result

    def result(self, timeout: float = 5.0) -> dict[str, Any]:
        self._thread.join(timeout)
        return dict(self._result)
