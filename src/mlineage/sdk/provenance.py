"""Run provenance: where, with what code and in which environment a run ran.

Capture has two parts so a run never waits for it: `capture_quick()` reads only cheap
facts (Python, platform, host, user, command line, and the git commit and branch straight
from the `.git` folder, no subprocess); `SlowProvenance` works out in a background thread
what costs tens of milliseconds (whether the work tree is dirty, the versions of the
imported packages) and the run records it when it ends, or as soon as it is ready after.
"""

from __future__ import annotations

import atexit
import getpass
import importlib.metadata
import logging
import os
import platform
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def _git_dir(start: Path) -> tuple[Path, Path] | None:
    """The work tree root and the git folder of the repository around `start`."""
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return folder, candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = candidate.read_text().strip()
            if text.startswith("gitdir:"):
                return folder, (folder / text.split(":", 1)[1].strip()).resolve()
    return None


def _read_ref(git_dir: Path, ref: str) -> str | None:
    """The commit `ref` points at: a loose ref file, else a line of packed-refs, looked
    up in the git folder and (for worktrees) in the common folder."""
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
    found = _git_dir(start)
    if found is None:
        return {}
    root, git_dir = found
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return {}
    info: dict[str, Any] = {"root": str(root)}
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


def _start_git_status(root: str) -> subprocess.Popen[str] | None:
    """`git status` for the dirty flag, started now and read when the run ends."""
    try:
        return subprocess.Popen(
            # --no-optional-locks: never take index.lock from under the user's own git
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        return None


def _git_dirty(process: subprocess.Popen[str], timeout: float | None) -> bool | None:
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return bool(out.strip()) if process.returncode == 0 else None


_scan_done = threading.Event()
_scan_started = threading.Lock()
_module_versions: dict[str, dict[str, str]] = {}
"""Top-level module -> {distribution: version}, filled once per process by the scan."""


def _scan_distributions() -> None:
    try:
        for module, distributions in importlib.metadata.packages_distributions().items():
            versions = {}
            for distribution in distributions:
                try:
                    versions[distribution] = importlib.metadata.version(distribution)
                except importlib.metadata.PackageNotFoundError:
                    continue
            _module_versions[module] = versions
    finally:
        _scan_done.set()


def _start_scan() -> None:
    """Scan the installed distributions once per process, in the background (it takes a
    hundred milliseconds or more)."""
    if _scan_started.acquire(blocking=False):
        threading.Thread(target=_scan_distributions, name="mlineage-packages", daemon=True).start()


def imported_packages() -> dict[str, str]:
    """Versions of the installed distributions whose modules this process has imported
    (waits for the once-per-process scan; a dictionary lookup once it is done)."""
    _start_scan()
    _scan_done.wait()
    versions: dict[str, str] = {}
    for module in {name.partition(".")[0] for name in list(sys.modules)}:
        versions.update(_module_versions.get(module, {}))
    return dict(sorted(versions.items()))


Callback = Callable[[dict[str, Any]], None]
_unfinished: set[threading.Thread] = set()
_unfinished_lock = threading.Lock()


class SlowProvenance:
    """The facts that take tens of milliseconds: the dirty flag (a `git status` started
    with the run) and the imported packages' versions (a scan done once per process).

    When the run ends, `ready()` gives them without waiting if they are done, which is
    the usual case; otherwise `deliver_later(callback)` records them from a thread as soon
    as they are, and the interpreter waits for that at exit. A run never waits for them.
    """

    def __init__(self, git_root: str | None) -> None:
        self._git = _start_git_status(git_root) if git_root else None
        _start_scan()

    def ready(self) -> dict[str, Any] | None:
        if not _scan_done.is_set() or (self._git is not None and self._git.poll() is None):
            return None
        return self._collect(timeout=None)

    def _collect(self, timeout: float | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self._git is not None:
            dirty = _git_dirty(self._git, timeout)
            if dirty is not None:
                result["git_dirty"] = dirty
        result["packages"] = imported_packages()
        return result

    def deliver_later(self, callback: Callback) -> None:
        def work() -> None:
            try:
                callback(self._collect(timeout=60))
            except Exception:  # a background write must never crash the interpreter
                logger.warning("mlineage could not record run provenance", exc_info=True)
            finally:
                with _unfinished_lock:
                    _unfinished.discard(thread)

        thread = threading.Thread(target=work, name="mlineage-provenance", daemon=True)
        with _unfinished_lock:
            _unfinished.add(thread)
        thread.start()


@atexit.register
def wait_for_pending(timeout: float = 10.0) -> None:
    """Wait until provenance still being worked out in the background has been recorded
    (the interpreter does this at exit)."""
    with _unfinished_lock:
        pending = list(_unfinished)
    for thread in pending:
        thread.join(timeout)
