"""Checkpointing a SQLite store's write-ahead log on a thread of its own.

In WAL mode a commit appends the transaction's pages to the `-wal` file; a checkpoint copies
them back into the database file, syncing the log first and the database after (with
`synchronous=NORMAL` these are the only syncs). Left to SQLite, the commit that pushes the
log past `wal_autocheckpoint` pages runs the checkpoint itself, so one commit in ~50 pays for
the disk writes of all of them: on a two-core machine about 50 us per `record_execution`, a
quarter of its time.

Here a write transaction's commit only pokes a `Checkpointer`; its thread, on a connection of
its own, runs `PRAGMA wal_checkpoint(PASSIVE)` a few milliseconds later, while the writer goes
on (SQLite releases the GIL, and a passive checkpoint never blocks readers or writers). What
stays the same:

- durability: a commit is in the log before it returns (and synced with FULL) whatever the
  checkpoints do; a checkpoint interrupted by a kill is redone from the log;
- a bounded log: every connection keeps SQLite's own checkpoint, at `WAL_AUTOCHECKPOINT_PAGES`
  instead of 1,000. A log only starts over from its beginning when it is wholly checkpointed
  as a write begins, which a checkpoint running beside a busy writer rarely leaves behind; the
  writer's own checkpoint at that size does, after copying only what the thread has not yet.
  If the thread is not running (another process, another version of mlineage, a thread that
  died) the log is checkpointed as before, only less often. `journal_size_limit` truncates
  the file back when one large transaction has grown it;
- several processes: each runs its own thread; two checkpoints at once make one of them
  return busy, which is harmless.

The thread ends after `IDLE_SECONDS` without a commit (a store that is not closed leaves no
thread behind for long) and starts again on the next one, in a forked child too.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref

WAL_AUTOCHECKPOINT_PAGES = 4000
"""SQLite's own checkpoint on each connection: past this many log pages (~8 MB of a new
store's 2 KB pages, ~16 MB of 4 KB pages) the committing connection checkpoints, and the log
then starts over."""
JOURNAL_SIZE_LIMIT_BYTES = WAL_AUTOCHECKPOINT_PAGES * 4096
"""A log file larger than this is truncated back to it when the log starts over."""
DELAY_SECONDS = 0.01
"""How long the thread lets commits gather after a poke before it checkpoints them."""
SYNCED_DELAY_SECONDS = 0.03
"""The same with `synchronous=FULL` or `EXTRA`, where every commit syncs the log already and
a checkpoint's two syncs queue with them: fewer, larger checkpoints measured faster."""
IDLE_SECONDS = 2.0


class Checkpointer:
    """Runs passive checkpoints of the SQLite database at `path` after commits."""

    def __init__(self, path: str, synchronous: str) -> None:
        self.path = path
        self.synchronous = synchronous
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        """The running thread, or None: set when it starts, cleared when it ends."""
        self._closed = False
        self.checkpoints = 0
        """How many checkpoints the thread has run (for tests)."""
        _CHECKPOINTERS.add(self)

    def committed(self) -> None:
        """Note a commit: a checkpoint follows shortly. Cheap: called after every write."""
        if self._thread is None:
            self._start()
        if not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._closed or self._thread is not None:
                return
            self._wake = threading.Event()
            thread = threading.Thread(
                target=self._run, args=(self._wake,), name="mlineage-checkpoint", daemon=True
            )
            self._thread = thread  # before it runs: its end clears it
            try:
                thread.start()
            except RuntimeError:  # no thread to be had: SQLite's own checkpoints go on
                self._thread = None

    def _forget_thread(self) -> None:
        """In a forked child: the parent's thread and locks are not this process's."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None

    def _run(self, wake: threading.Event) -> None:
        try:
            self._checkpoint_on_pokes(wake)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None  # the next commit starts another

    def _checkpoint_on_pokes(self, wake: threading.Event) -> None:
        try:
            connection = sqlite3.connect(
                self.path, timeout=1.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error:
            return  # the writers' own checkpoints go on
        try:
            connection.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            while not self._closed and wake.wait(IDLE_SECONDS):
                if self._closed or wake is not self._wake:
                    break
                synced = self.synchronous.lower() in ("full", "extra")
                time.sleep(SYNCED_DELAY_SECONDS if synced else DELAY_SECONDS)  # let commits gather
                wake.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error:
                    pass  # busy or gone: the next poke tries again
        except sqlite3.Error:
            pass
        finally:
            connection.close()

    def close(self) -> None:
        """Stop the thread (waiting for a checkpoint it is running)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)


_CHECKPOINTERS: weakref.WeakSet[Checkpointer] = weakref.WeakSet()


def _forget_threads_in_child() -> None:
    for checkpointer in list(_CHECKPOINTERS):
        checkpointer._forget_thread()


os.register_at_fork(after_in_child=_forget_threads_in_child)
