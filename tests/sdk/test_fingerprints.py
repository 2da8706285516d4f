"""Content fingerprints: `mlineage.fingerprint` and `Artifact.create(fingerprint=...)`.

Real files in tmp_path. The persistent cache is pointed at tmp_path by `MLINEAGE_CACHE_DIR`
and the in-process cache is emptied around every test. Files meant to be cached get an mtime
in the past: a file written less than a few seconds ago is hashed but not cached, by design.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mlineage as aiplatform
from mlineage import fingerprint as fp
from mlineage.errors import InvalidArgumentError, InvalidTypeError
from mlineage.fingerprint import EMPTY_DIRECTORY, cache_path, check_fingerprint, fingerprint

HOUR_NS = 3600 * 10**9


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("MLINEAGE_CACHE_DIR", str(cache_dir))
    fp._MEMORY.clear()
    yield cache_dir
    fp._CACHE.close()
    fp._MEMORY.clear()


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files actually read, in order (each read is one call of the hashing function)."""
    reads: list[str] = []
    real = fp._hash_file

    def counting(path: bytes) -> str:
        reads.append(os.fsdecode(path))
        return real(path)

    monkeypatch.setattr(fp, "_hash_file", counting)
    return reads


def _write(path: Path, content: bytes | str, *, age_ns: int = HOUR_NS) -> Path:
    """Write a file whose mtime lies `age_ns` in the past (old enough to be cached)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    mtime = time.time_ns() - age_ns
    os.utime(path, ns=(mtime, mtime))
    return path


def _sha(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        _write(root / relative, content)
    root.mkdir(parents=True, exist_ok=True)
    return root


# -- files -------------------------------------------------------------------------------------


def test_a_file_fingerprint_is_the_sha256_of_its_content(tmp_path: Path) -> None:
    path = _write(tmp_path / "train.csv", "a,b\n1,2\n")
    assert fingerprint(str(path)) == _sha(b"a,b\n1,2\n")  # what `sha256sum` prints
    assert fingerprint(str(_write(tmp_path / "empty", b""))) == _sha(b"")


def test_same_content_at_two_paths_has_one_fingerprint(tmp_path: Path) -> None:
    a = _write(tmp_path / "a" / "train.csv", "x,y\n1,2\n")
    b = _write(tmp_path / "b" / "copy.csv", "x,y\n1,2\n")
    assert fingerprint(str(a)) == fingerprint(str(b))


def test_one_changed_byte_changes_the_fingerprint(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.bin", bytes(1000))
    b = _write(tmp_path / "b.bin", bytes(999) + b"\x01")
    assert fingerprint(str(a)) != fingerprint(str(b))


def test_file_uri_plain_relative_and_home_paths_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "data dir" / "train.csv", "content")
    expected = _sha(b"content")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    spellings = [
        str(path),
        path.as_uri(),  # file:///.../data%20dir/train.csv
        f"file://{path}",  # unescaped
        f"file://localhost{path}",
        "data dir/train.csv",
        "./data dir/../data dir/train.csv",
        "~/data dir/train.csv",
    ]
    assert {s: fingerprint(s) for s in spellings} == dict.fromkeys(spellings, expected)


@pytest.mark.parametrize(
    "uri",
    [
        "gs://bucket/train.csv",
        "s3://bucket/train.csv",
        "https://example.com/train.csv",
        "http://example.com/train.csv",
        "bigquery://project.dataset.table",
        "hf://datasets/x",
        "file://otherhost/etc/hostname",
        "",
    ],
)
def test_remote_uris_are_recorded_without_a_fingerprint(uri: str, hashed: list[str]) -> None:
    assert fingerprint(uri) == ""
    assert hashed == []


def test_a_remote_looking_uri_is_not_read_even_when_a_local_path_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "gs:" / "bucket" / "x", "local")
    assert fingerprint("gs://bucket/x") == ""


@pytest.mark.parametrize(
    "spelling", ["{p}", "file://{p}", "missing.csv", "~/never/written.csv", "{p}/under/it"]
)
def test_a_missing_local_path_gets_no_fingerprint_and_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    missing = tmp_path / "not-yet.csv"
    if spelling.endswith("/under/it"):
        _write(missing, "a file, not a directory")
    assert fingerprint(spelling.format(p=missing)) == ""


def test_an_unreadable_file_gets_no_fingerprint_and_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / "secret.csv", "x")

    def denied(path: bytes) -> str:
        raise PermissionError(13, "Permission denied", os.fsdecode(path))

    monkeypatch.setattr(fp, "_hash_file", denied)
    with caplog.at_level(logging.WARNING, logger="mlineage.fingerprint"):
        assert fingerprint(str(path)) == ""
    assert "Permission denied" in caplog.text


# -- directories -------------------------------------------------------------------------------


def test_a_directory_fingerprint_follows_the_documented_recipe(tmp_path: Path) -> None:
    root = _tree(tmp_path / "ds", {"b.csv": "2", "a.csv": "1", "sub/c.csv": "3"})
    outer = hashlib.sha256(b"mlineage-dir-v1\0")
    for relative, content in [("a.csv", b"1"), ("b.csv", b"2"), ("sub/c.csv", b"3")]:
        outer.update(relative.encode() + b"\0" + hashlib.sha256(content).hexdigest().encode())
        outer.update(b"\n")
    assert fingerprint(str(root)) == "sha256:" + outer.hexdigest()


def test_a_directory_fingerprint_ignores_listing_order_and_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"part-{i:03d}.csv": f"row {i}\n" for i in range(50)} | {"meta/schema.json": "{}"}
    forward = _tree(tmp_path / "one", files)
    backward = _tree(tmp_path / "elsewhere" / "two", dict(reversed(files.items())))
    expected = fingerprint(str(forward))
    assert fingerprint(str(backward)) == expected

    real_scandir = os.scandir

    @contextlib.contextmanager
    def reversed_scandir(path: bytes) -> Iterator[list[os.DirEntry[bytes]]]:
        with real_scandir(path) as listing:
            yield sorted(listing, key=lambda entry: entry.name, reverse=True)

    monkeypatch.setattr(os, "scandir", reversed_scandir)
    fp._MEMORY.clear()
    assert fingerprint(str(forward)) == expected


@pytest.mark.parametrize(
    "change",
    [
        "rename a file",
        "add a file",
        "remove a file",
        "change a nested file",
        "move a file into a subdirectory",
        "add a hidden file",
    ],
)
def test_any_change_below_a_directory_changes_its_fingerprint(tmp_path: Path, change: str) -> None:
    root = _tree(
        tmp_path / "ds",
        {"train.csv": "t", "test.csv": "s", "nested/deeper/labels.csv": "l"},
    )
    before = fingerprint(str(root))
    if change == "rename a file":
        (root / "train.csv").rename(root / "train2.csv")
    elif change == "add a file":
        _write(root / "nested" / "new.csv", "")
    elif change == "remove a file":
        (root / "test.csv").unlink()
    elif change == "change a nested file":
        _write(root / "nested" / "deeper" / "labels.csv", "L")
    elif change == "move a file into a subdirectory":
        (root / "test.csv").rename(root / "nested" / "test.csv")
    else:
        _write(root / ".DS_Store", "x")
    assert fingerprint(str(root)) != before


def test_a_directory_and_a_file_of_the_same_bytes_differ(tmp_path: Path) -> None:
    root = _tree(tmp_path / "ds", {"x": "same"})
    assert fingerprint(str(root)) != fingerprint(str(root / "x"))


def test_an_empty_directory_has_a_fixed_fingerprint(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    only_dirs = tmp_path / "only-dirs"
    (only_dirs / "a" / "b").mkdir(parents=True)
    assert "sha256:" + hashlib.sha256(b"mlineage-dir-v1\0").hexdigest() == EMPTY_DIRECTORY
    assert fingerprint(str(empty)) == EMPTY_DIRECTORY
    assert fingerprint(empty.as_uri()) == EMPTY_DIRECTORY
    assert fingerprint(str(only_dirs)) == EMPTY_DIRECTORY  # empty directories do not count


def test_symlinks_to_files_count_as_their_targets_content(tmp_path: Path) -> None:
    shared = _write(tmp_path / "shared" / "vocab.txt", "a b c")
    linked = _tree(tmp_path / "linked", {"data.csv": "d"})
    (linked / "vocab.txt").symlink_to(shared)
    copied = _tree(tmp_path / "copied", {"data.csv": "d", "vocab.txt": "a b c"})
    assert fingerprint(str(linked)) == fingerprint(str(copied))
    assert fingerprint(str(linked / "vocab.txt")) == fingerprint(str(shared))


def test_symlinked_directories_are_walked_and_cycles_skipped(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", {"o.csv": "o"})
    root = _tree(tmp_path / "ds", {"a.csv": "a", "sub/b.csv": "b"})
    (root / "ext").symlink_to(outside, target_is_directory=True)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)  # a cycle
    (root / "broken").symlink_to(tmp_path / "nowhere")
    expected = _tree(tmp_path / "expected", {"a.csv": "a", "sub/b.csv": "b", "ext/o.csv": "o"})
    assert fingerprint(str(root)) == fingerprint(str(expected))


def test_special_files_are_skipped_without_blocking(tmp_path: Path) -> None:
    root = _tree(tmp_path / "ds", {"a.csv": "a"})
    os.mkfifo(root / "pipe")
    assert fingerprint(str(root)) == fingerprint(str(_tree(tmp_path / "plain", {"a.csv": "a"})))
    assert fingerprint(str(root / "pipe")) == ""


# -- the cache ---------------------------------------------------------------------------------


def _big(path: Path, megabytes: int = 20) -> Path:
    block = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    with path.open("wb") as handle:
        for i in range(megabytes):
            handle.write(block[i:] + block[:i])
    old = time.time_ns() - HOUR_NS
    os.utime(path, ns=(old, old))
    return path


def test_an_unchanged_large_file_is_read_once(tmp_path: Path, hashed: list[str]) -> None:
    path = _big(tmp_path / "big.bin")
    first = fingerprint(str(path))
    assert hashed == [str(path)]
    assert fingerprint(str(path)) == first  # in-process cache
    fp._MEMORY.clear()  # as a new process would start
    assert fingerprint(path.as_uri()) == first  # the SQLite cache
    assert hashed == [str(path)]
    with sqlite3.connect(cache_path()) as db:
        rows = db.execute("SELECT path, size, sha256 FROM file_sha256").fetchall()
    assert rows == [(os.fsencode(path), 20 << 20, first.removeprefix("sha256:"))]


def test_the_cache_is_shared_between_processes(
    tmp_path: Path, isolated_cache: Path, hashed: list[str]
) -> None:
    path = _big(tmp_path / "big.bin", megabytes=2)
    code = (
        "import sys; from mlineage.fingerprint import fingerprint; print(fingerprint(sys.argv[1]))"
    )
    env = {**os.environ, "MLINEAGE_CACHE_DIR": str(isolated_cache)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True, check=True
    )
    assert fingerprint(str(path)) == done.stdout.strip() != ""
    assert hashed == []  # computed by the other process, read from the cache here


def test_a_directory_rehashes_only_its_changed_files(tmp_path: Path, hashed: list[str]) -> None:
    root = _tree(tmp_path / "ds", {f"shard-{i}.bin": f"shard {i}" for i in range(5)})
    before = fingerprint(str(root))
    assert len(hashed) == 5
    _write(root / "shard-3.bin", "shard three, rewritten")
    fp._MEMORY.clear()
    assert fingerprint(str(root)) != before
    assert hashed[5:] == [str(root / "shard-3.bin")]


def _rehashed_after(path: Path, hashed: list[str], edit: Callable[[], None]) -> tuple[str, str]:
    before = fingerprint(str(path))
    edit()
    fp._MEMORY.clear()
    count = len(hashed)
    after = fingerprint(str(path))
    assert len(hashed) == count + 1, "the changed file was served from the cache"
    return before, after


def test_a_file_grown_or_shrunk_is_rehashed(tmp_path: Path, hashed: list[str]) -> None:
    path = _big(tmp_path / "big.bin", megabytes=2)
    old_mtime = path.stat().st_mtime_ns

    def append_keeping_mtime() -> None:
        with path.open("ab") as handle:
            handle.write(b"one more row\n")
        os.utime(path, ns=(old_mtime, old_mtime))

    before, after = _rehashed_after(path, hashed, append_keeping_mtime)
    assert before != after == _sha(path.read_bytes())


def test_a_same_size_rewrite_with_a_new_mtime_is_rehashed(
    tmp_path: Path, hashed: list[str]
) -> None:
    path = _write(tmp_path / "model.bin", b"weights v1", age_ns=2 * HOUR_NS)
    before, after = _rehashed_after(path, hashed, lambda: _write(path, b"weights v2"))
    assert (before, after) == (_sha(b"weights v1"), _sha(b"weights v2"))


def test_a_rewrite_that_restores_the_mtime_is_rehashed(tmp_path: Path, hashed: list[str]) -> None:
    """`cp -p`, `rsync -t` and `touch -r` put the old mtime back; the ctime still moves."""
    path = _write(tmp_path / "model.bin", b"weights v1")
    stat = path.stat()

    def rewrite_in_place_keeping_mtime() -> None:
        with path.open("r+b") as handle:
            handle.write(b"WEIGHTS")
        # Repeat until the kernel's clock tick has moved on, so the ctime is a new value.
        while True:
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            if path.stat().st_ctime_ns != stat.st_ctime_ns:
                break

    before, after = _rehashed_after(path, hashed, rewrite_in_place_keeping_mtime)
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert (before, after) == (_sha(b"weights v1"), _sha(b"WEIGHTS v1"))


def test_a_file_replaced_by_another_is_rehashed(tmp_path: Path, hashed: list[str]) -> None:
    path = _write(tmp_path / "model.bin", b"weights v1")
    stat = path.stat()

    def replace_with_same_size_and_mtime() -> None:
        replacement = _write(tmp_path / "incoming.bin", b"weights v2")
        os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        replacement.replace(path)  # another inode at the same path

    before, after = _rehashed_after(path, hashed, replace_with_same_size_and_mtime)
    assert (before, after) == (_sha(b"weights v1"), _sha(b"weights v2"))


def test_a_file_written_just_now_is_not_cached(tmp_path: Path, hashed: list[str]) -> None:
    """Racily clean: a write within the same timestamp tick after hashing would go unseen."""
    path = _write(tmp_path / "fresh.csv", "x", age_ns=-HOUR_NS)  # mtime ahead of the clock
    assert fingerprint(str(path)) == fingerprint(str(path)) == _sha(b"x")
    assert len(hashed) == 2
    assert not cache_path().exists() or sqlite3.connect(cache_path()).execute(
        "SELECT count(*) FROM file_sha256"
    ).fetchone() == (0,)


def test_an_unwritable_cache_location_still_fingerprints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[str]
) -> None:
    blocker = _write(tmp_path / "not-a-directory", "x")
    monkeypatch.setenv("MLINEAGE_CACHE_DIR", str(blocker / "cache"))  # mkdir must fail
    path = _write(tmp_path / "data.csv", "rows")
    assert fingerprint(str(path)) == _sha(b"rows")
    fp._MEMORY.clear()
    assert fingerprint(str(path)) == _sha(b"rows")
    assert len(hashed) == 2  # no persistent cache, every process hashes


def test_a_corrupt_cache_file_still_fingerprints(
    tmp_path: Path, isolated_cache: Path, hashed: list[str]
) -> None:
    isolated_cache.mkdir()
    (isolated_cache / "fingerprints.db").write_bytes(b"this is not a database" * 100)
    path = _write(tmp_path / "data.csv", "rows")
    assert fingerprint(str(path)) == _sha(b"rows")
    fp._MEMORY.clear()
    assert fingerprint(str(path)) == _sha(b"rows")
    assert len(hashed) == 2


def test_the_cache_location_defaults_to_the_user_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLINEAGE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_path() == tmp_path / ".cache" / "mlineage" / "fingerprints.db"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_path() == tmp_path / "xdg" / "mlineage" / "fingerprints.db"
    monkeypatch.setenv("MLINEAGE_CACHE_DIR", "~/elsewhere")
    assert cache_path() == tmp_path / "elsewhere" / "fingerprints.db"


# -- Artifact.create ---------------------------------------------------------------------------


def test_two_artifacts_at_one_uri_with_different_content_are_told_apart(tmp_path: Path) -> None:
    path = _write(tmp_path / "processed.csv", "id,label\n1,0\n")
    uri = path.as_uri()
    first = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="v1", uri=uri)
    _write(path, "id,label\n1,1\n")  # same size, relabelled
    second = aiplatform.Artifact.create(schema_title="system.Dataset", resource_id="v2", uri=uri)

    assert first.uri == second.uri
    assert first.fingerprint == _sha(b"id,label\n1,0\n")
    assert second.fingerprint == _sha(b"id,label\n1,1\n")
    read = {a.name: a.fingerprint for a in aiplatform.Artifact.list(filter=f'uri = "{uri}"')}
    assert read == {"v1": first.fingerprint, "v2": second.fingerprint}


def test_create_fingerprints_a_directory_and_plain_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path / "model", {"saved_model.pb": "pb", "variables/v.data": "v"})
    monkeypatch.chdir(tmp_path)
    model = aiplatform.Artifact.create(schema_title="system.Model", uri="model")
    assert model.fingerprint == fingerprint(str(root)) != EMPTY_DIRECTORY
    assert aiplatform.Artifact(model.name).fingerprint == model.fingerprint


@pytest.mark.parametrize("uri", [None, "gs://bucket/train.csv", "file:///no/such/file.csv"])
def test_create_records_no_fingerprint_when_there_is_nothing_local(uri: str | None) -> None:
    assert aiplatform.Artifact.create(schema_title="system.Dataset", uri=uri).fingerprint == ""


def test_create_with_fingerprint_false_does_not_read_the_data(
    tmp_path: Path, hashed: list[str]
) -> None:
    path = _write(tmp_path / "huge.bin", "pretend this is 10 GB")
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset", uri=str(path), fingerprint=False
    )
    assert artifact.fingerprint == ""
    assert hashed == []


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("sha256:" + "AB" * 32, "sha256:" + "ab" * 32),
        ("md5:" + "0f" * 16, "md5:" + "0f" * 16),
        ("sha512-256:" + "12" * 32, "sha512-256:" + "12" * 32),
        ("", ""),
    ],
)
def test_create_takes_a_precomputed_fingerprint(
    given: str, stored: str, hashed: list[str], tmp_path: Path
) -> None:
    path = _write(tmp_path / "data.csv", "local data")
    artifact = aiplatform.Artifact.create(
        schema_title="system.Dataset", uri=str(path), fingerprint=given
    )
    assert artifact.fingerprint == stored
    assert aiplatform.Artifact(artifact.name).fingerprint == stored
    assert hashed == []


@pytest.mark.parametrize(
    "given",
    [
        "sha256:abc",  # too short for sha256
        "sha256:" + "a" * 66,
        "sha256:" + "g" * 64,  # not hex
        "a" * 64,  # no algorithm
        "md5:" + "0f" * 40,  # over 80 characters
        "md5:abc",  # half a byte
        "MD5 : 0f",
        "etag:9b2cf535f27731c974343645a3985328-2",
    ],
)
def test_create_refuses_a_malformed_fingerprint(given: str) -> None:
    with pytest.raises(InvalidArgumentError, match="fingerprint") as caught:
        aiplatform.Artifact.create(schema_title="system.Dataset", fingerprint=given)
    assert caught.value.field == "fingerprint"
    assert aiplatform.Artifact.list() == []


@pytest.mark.parametrize("given", [None, 1, b"sha256:00"])
def test_create_refuses_a_fingerprint_of_another_type(given: object) -> None:
    with pytest.raises(InvalidTypeError, match="fingerprint"):
        aiplatform.Artifact.create(schema_title="system.Dataset", fingerprint=given)  # type: ignore[arg-type]


def test_check_fingerprint_is_usable_on_its_own() -> None:
    assert check_fingerprint(" SHA256:" + "0" * 64 + " ") == "sha256:" + "0" * 64
    with pytest.raises(InvalidArgumentError) as caught:
        check_fingerprint("nope", "input_fingerprint")
    assert caught.value.field == "input_fingerprint"


def test_a_new_uri_on_update_gets_its_own_fingerprint(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("1\n")
    second.write_text("2\n")
    artifact = aiplatform.Artifact.create("system.Dataset", uri=str(first))
    before = artifact.fingerprint
    artifact.update(uri=str(second))
    assert artifact.fingerprint.startswith("sha256:")
    assert artifact.fingerprint != before
    assert aiplatform.Artifact(artifact.name).fingerprint == artifact.fingerprint
    artifact.update(uri="gs://bucket/elsewhere")
    assert artifact.fingerprint == ""
