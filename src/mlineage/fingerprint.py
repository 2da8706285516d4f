"""Content fingerprints of local artifact URIs: two records at one URI, different data, told apart.

    >>> fingerprint("data/train.csv")          # doctest: +SKIP
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
    >>> fingerprint("gs://bucket/train.csv")   # remote: recorded as given
    ''

What gets a fingerprint
    A plain filesystem path (absolute, relative to the current directory, or starting with
    `~`) or a `file:` URI (`file:///abs/path`, `file://localhost/abs/path`, percent-escapes
    decoded). Anything else with a scheme (`gs://`, `s3://`, `https://`, `bigquery://`, ...) and
    a `file://` URI naming another host get "": mlineage does not reach out to remote storage.
    A scheme is at least two characters, so `C:\\data` on Windows is a path.

    A local path that does not exist also gets "" and is not an error: many people log an
    artifact before writing it. The same holds for a path that cannot be read (permissions, a
    file vanishing mid-walk): a partial fingerprint would claim more than is known, so none is
    recorded and a warning is logged.

The value
    A regular file: `"sha256:" + sha256(content)`, the same hex that `sha256sum` prints. It is
    read in chunks, never whole into memory.

    A directory: `"sha256:" + sha256(b"mlineage-dir-v1\\0" + entries)` where `entries` is, for
    every regular file below it sorted by relative path (bytes), `relpath + b"\\0" + file_hex +
    b"\\n"`, `relpath` being POSIX-style (`sub/x.csv`). The order in which the filesystem lists
    files does not matter; changing, adding, removing or renaming any file changes it; where the
    directory lives does not. Empty directories inside it do not count (as in git), so an empty
    directory has the fixed value `EMPTY_DIRECTORY`.

    Symbolic links are followed: a link to a file counts as a file at the link's path, with the
    target's content; a link to a directory is walked, except when it points back to one of its
    own ancestors (a cycle), which is skipped. Broken links, sockets, FIFOs and devices are
    skipped (they hold no content to hash; opening a FIFO would block).

The cache
    Hashing a 10 GB dataset takes a while, and the same dataset is logged as the input of every
    training run, each run a new process. So the sha256 of every regular file is remembered,
    keyed by (absolute path, size, mtime_ns, ctime_ns, inode, device): an in-process dict in front
    of a small SQLite file, `$MLINEAGE_CACHE_DIR/fingerprints.db` (default
    `~/.cache/mlineage/fingerprints.db`; `$XDG_CACHE_HOME` is honoured), in WAL mode with a busy
    timeout, safe for many processes at once. Any cache failure (a read-only disk, a corrupt or
    locked file) falls back to hashing; it is never an error. Deleting the file is always safe.
    SQLite's WAL mode wants every process on one machine: when the home directory is shared
    over NFS between machines, point `MLINEAGE_CACHE_DIR` at a local disk.

    Known limit of every size+mtime cache: a file rewritten in place with the same size within
    the filesystem's timestamp granularity, after it was hashed, looks unchanged. The ctime in
    the key catches tools that restore the mtime (`cp -p`, `rsync -t`, `touch -r`), since no
    user call can set ctime, and a file modified less than a few seconds before it is hashed is
    not cached at all (git's "racily clean" rule), which leaves only clock skew on network
    filesystems and mtimes set in the future. Pass a precomputed fingerprint when that matters.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from mlineage.errors import InvalidArgumentError, InvalidTypeError

__all__ = [
    "EMPTY_DIRECTORY",
    "MAX_FINGERPRINT_LENGTH",
    "cache_path",
    "check_fingerprint",
    "fingerprint",
    "local_path",
]

log = logging.getLogger(__name__)

MAX_FINGERPRINT_LENGTH = 80
_DIR_HEADER = b"mlineage-dir-v1\0"
EMPTY_DIRECTORY = "sha256:" + hashlib.sha256(_DIR_HEADER).hexdigest()
"""The fingerprint of a directory holding no regular file."""

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")
_FINGERPRINT_RE = re.compile(r"^(?P<algo>[a-z][a-z0-9-]{0,15}):(?P<hex>(?:[0-9a-f]{2})+)$")
# Files modified this recently are hashed but not cached (see "The cache" above). Three seconds
# is above the coarsest common timestamp granularity (FAT: two seconds).
_SETTLE_NS = 3_000_000_000
_BUSY_TIMEOUT_S = 5.0
_MEMORY_LIMIT = 100_000

_Key = tuple[bytes, int, int, int, int, int]
"""What a cached digest is valid for: (path, size, mtime_ns, ctime_ns, inode, device)."""


def check_fingerprint(value: object, field_name: str = "fingerprint") -> str:
    """Validate a precomputed fingerprint and return it in canonical (lower-case) form.

    Accepted: "" (no fingerprint), `sha256:` followed by exactly 64 hex digits, or any other
    `<algorithm>:<hex digest>` (algorithm: a lower-case letter then up to 15 of `a-z 0-9 -`;
    digest: whole bytes in hex) of at most 80 characters in all, e.g. `md5:...`. Hex is
    compared case-insensitively, so it is stored lower-case. Base64 checksums (GCS `md5Hash`,
    `crc32c`) must be converted: `"md5:" + base64.b64decode(value).hex()`.
    """
    if not isinstance(value, str):
        raise InvalidTypeError(field_name, f"must be a string, got {type(value).__name__}")
    if value == "":
        return ""
    canonical = value.strip().lower()
    match = _FINGERPRINT_RE.match(canonical)
    rule = (
        "must be '<algorithm>:<hex digest>' such as 'sha256:' followed by 64 hex digits, "
        f"at most {MAX_FINGERPRINT_LENGTH} characters"
    )
    if match is None or len(canonical) > MAX_FINGERPRINT_LENGTH:
        raise InvalidArgumentError(field_name, f"{rule}; got {value!r}")
    if match["algo"] == "sha256" and len(match["hex"]) != 64:
        raise InvalidArgumentError(
            field_name, f"a sha256 digest has 64 hex digits, got {len(match['hex'])} in {value!r}"
        )
    return canonical


def local_path(uri: str) -> Path | None:
    """The local filesystem path `uri` names, or None for a remote URI.

    Relative paths are made absolute against the current directory; `~` is expanded.
    The path is not required to exist.
    """
    if not isinstance(uri, str):
        raise InvalidTypeError("uri", f"must be a string, got {type(uri).__name__}")
    if not uri:
        return None
    scheme = _SCHEME_RE.match(uri)
    if scheme is None:
        return Path(os.path.abspath(os.path.expanduser(uri)))
    if scheme[1].lower() != "file":
        return None
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        return None
    path = unquote(parts.path, errors="surrogateescape")
    if not path:
        return None
    return Path(os.path.abspath(path))


def fingerprint(uri: str) -> str:
    """The content fingerprint of the file or directory `uri` names, "" when there is none.

    "" for remote URIs and for local paths that do not exist or cannot be read (see the module
    documentation for the exact value and the cache).
    """
    path = local_path(uri)
    if path is None:
        return ""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the path
        return ""
    except OSError as exc:
        log.warning("no fingerprint for %s: %s", uri, exc)
        return ""
    try:
        if stat.S_ISREG(st.st_mode):
            return "sha256:" + _digests([_File(os.fsencode(path), st)])[0]
        if stat.S_ISDIR(st.st_mode):
            return _directory(path, st)
    except OSError as exc:
        log.warning("no fingerprint for %s: %s", uri, exc)
        return ""
    return ""  # a FIFO, socket or device: no content to fingerprint


def cache_path() -> Path:
    """Where the persistent cache lives (the file may not exist yet)."""
    configured = os.environ.get("MLINEAGE_CACHE_DIR")
    if configured:
        base = Path(os.path.expanduser(configured))
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "mlineage"
    return base / "fingerprints.db"


# -- hashing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    path: bytes  # absolute, as the OS spells it
    st: os.stat_result

    @property
    def key(self) -> _Key:
        st = self.st
        return (self.path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _hash_file(path: bytes) -> str:
    """The sha256 hex of a file's content, read in chunks."""
    with open(path, "rb", buffering=0) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _directory(root: Path, root_st: os.stat_result) -> str:
    entries = sorted(_walk(os.fsencode(root), root_st))
    digests = _digests([file for _, file in entries])
    outer = hashlib.sha256(_DIR_HEADER)
    for (relative, _), digest in zip(entries, digests, strict=True):
        outer.update(relative + b"\0" + digest.encode("ascii") + b"\n")
    return "sha256:" + outer.hexdigest()


def _walk(root: bytes, root_st: os.stat_result) -> Iterator[tuple[bytes, _File]]:
    """(relative POSIX path, file) for every regular file below `root`, links followed."""
    stack: list[tuple[bytes, bytes, frozenset[tuple[int, int]]]] = [
        (root, b"", frozenset({(root_st.st_dev, root_st.st_ino)}))
    ]
    while stack:
        directory, prefix, ancestors = stack.pop()
        with os.scandir(directory) as listing:
            for entry in listing:
                try:
                    st = entry.stat()  # follows symlinks
                except FileNotFoundError:
                    continue  # a broken link, or removed while we walk
                relative = prefix + entry.name
                if stat.S_ISREG(st.st_mode):
                    yield relative, _File(entry.path, st)
                elif stat.S_ISDIR(st.st_mode):
                    identity = (st.st_dev, st.st_ino)
                    if identity not in ancestors:  # else a link back up: a cycle
                        stack.append((entry.path, relative + b"/", ancestors | {identity}))


def _digests(files: list[_File]) -> list[str]:
    """The sha256 hex of each file, from the caches where they are still valid."""
    found: dict[int, str] = {}
    missing: list[int] = []
    for index, file in enumerate(files):
        digest = _MEMORY.get(file.key)
        if digest is None:
            missing.append(index)
        else:
            found[index] = digest
    if missing:
        stored = _CACHE.lookup([files[i].key for i in missing])
        hashed: list[tuple[_Key, str]] = []
        now = time.time_ns()
        for index in missing:
            file = files[index]
            digest = stored.get(file.key)
            cacheable = _settled(file, now)
            if digest is None:
                digest = _hash_file(file.path)
                cacheable = cacheable and _File(file.path, os.stat(file.path)).key == file.key
                if cacheable:  # not written to while we read it
                    hashed.append((file.key, digest))
            if cacheable:
                _remember(file.key, digest)
            found[index] = digest
        if hashed:
            _CACHE.store(hashed)
    return [found[i] for i in range(len(files))]


def _settled(file: _File, now_ns: int) -> bool:
    """Whether the file was last written long enough ago that a later write will show.

    A write after this moment gets a later mtime, hence another key. (ctime needs no check:
    resetting the mtime of a file hashed while racy would also have to land in the same
    ctime tick.)
    """
    return file.st.st_mtime_ns < now_ns - _SETTLE_NS


_MEMORY: dict[_Key, str] = {}


def _remember(key: _Key, digest: str) -> None:
    if len(_MEMORY) >= _MEMORY_LIMIT:
        _MEMORY.clear()
    _MEMORY[key] = digest


# -- the persistent cache ------------------------------------------------------------------------


class _SqliteCache:
    """sha256 of files by (path, size, mtime_ns, ctime_ns, inode, device); one row per path.

    Every failure is logged at debug level and treated as a miss (lookup) or a no-op (store).
    """

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS file_sha256 (
            path BLOB PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            ctime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            device INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            hashed_at REAL NOT NULL
        )
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._opened_for: tuple[Path, int] | None = None  # (file, pid)
        self._broken: tuple[Path, int] | None = None

    def lookup(self, keys: list[_Key]) -> dict[_Key, str]:
        found: dict[_Key, str] = {}
        with self._lock:
            connection = self._connect()
            if connection is None:
                return found
            try:
                for key in keys:
                    row = connection.execute(
                        "SELECT sha256 FROM file_sha256 WHERE path = ? AND size = ? "
                        "AND mtime_ns = ? AND ctime_ns = ? AND inode = ? AND device = ?",
                        _row_key(key),
                    ).fetchone()
                    if row is not None:
                        found[key] = row[0]
            except sqlite3.Error as exc:
                self._fail(exc)
        return found

    def store(self, rows: list[tuple[_Key, str]]) -> None:
        with self._lock:
            connection = self._connect()
            if connection is None:
                return
            now = time.time()
            try:
                with connection:
                    connection.executemany(
                        "INSERT OR REPLACE INTO file_sha256 (path, size, mtime_ns, ctime_ns, "
                        "inode, device, sha256, hashed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(*_row_key(key), digest, now) for key, digest in rows],
                    )
            except sqlite3.Error as exc:
                self._fail(exc)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _connect(self) -> sqlite3.Connection | None:
        try:
            target = (cache_path(), os.getpid())
        except (RuntimeError, KeyError):  # no home directory to put it in
            return None
        if self._opened_for == target:
            return self._connection
        if self._broken == target:
            return None
        self._close()
        try:
            target[0].parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                target[0], timeout=_BUSY_TIMEOUT_S, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            self._broken = target
            log.debug("fingerprint cache %s unavailable: %s", target[0], exc)
            return None
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            with connection:
                connection.execute(self._SCHEMA)
        except sqlite3.Error as exc:
            connection.close()
            self._broken = target
            log.debug("fingerprint cache %s unavailable: %s", target[0], exc)
            return None
        self._connection, self._opened_for, self._broken = connection, target, None
        return connection

    def _fail(self, exc: sqlite3.Error) -> None:
        log.debug("fingerprint cache %s failed: %s", self._opened_for, exc)
        if not isinstance(exc, sqlite3.OperationalError):  # corrupt: stop using it
            self._broken = self._opened_for
            self._close()

    def _close(self) -> None:
        if self._connection is not None and self._opened_for is not None:
            if self._opened_for[1] == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._connection.close()
            else:  # inherited through fork: SQLite forbids touching it, even to close it
                _INHERITED.append(self._connection)
        self._connection = self._opened_for = None


def _row_key(key: _Key) -> _Key:
    path, size, mtime_ns, ctime_ns, inode, device = key
    # SQLite integers are signed 64-bit; some filesystems report inode or device numbers above.
    return (path, size, mtime_ns, ctime_ns, _signed64(inode), _signed64(device))


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


_INHERITED: list[sqlite3.Connection] = []
_CACHE = _SqliteCache()
