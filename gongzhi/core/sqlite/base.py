"""Django's SQLite backend, with connections safe to keep across requests and writers that queue fairly.

Kept connections
    Opening a connection costs more than a whole small request (Django registers its SQL functions and our
    pragmas run), so settings keep connections (`CONN_MAX_AGE`) on SQLite as on PostgreSQL. A kept
    connection is health-checked before each request's first query (`CONN_HEALTH_CHECKS`): Django's own
    check always passes on SQLite, so this one asks whether the file the connection has open is still the
    file at NAME. A database swapped underneath (a restore, a test replacing the file) is reopened instead
    of being read and written as an unlinked ghost. Other processes' commits need nothing: in WAL mode each
    read starts from the latest commit.

The writers' queue
    Every atomic block starts with BEGIN IMMEDIATE, taking SQLite's write lock up front. SQLite lets a
    writer that finds the lock taken sleep and retry, 1, 2, 5, 10 … 100 ms apart: under load a waiter
    keeps missing the moments the lock is free, and measured waits reached 60 ms at p99 and 0.7 s at worst
    for transactions that hold the lock for about a millisecond. So write transactions first queue for
    locks of our own: a thread lock among the process's threads, which wakes the next one at once, then an
    advisory lock (`flock`) on the file `<NAME>-writer` among processes, tried again every 0.2–1 ms (the
    kernel drops it when a process dies). Waiting is bounded by the busy timeout; past it the transaction
    fails as SQLite's own "database is locked" would, and the request answers 503
    (`gongzhi.core.errors.is_database_busy`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from gongzhi.core.private_files import create_private_file

# How often a process waiting for another process's writer checks again; a transaction takes ~1 ms.
_POLL_SECONDS = 0.0002
_POLL_MAX_SECONDS = 0.001


class _WriterQueue:
    """One per database file and process: the thread lock, and the open lock file for the other processes."""

    _by_path: dict[str, _WriterQueue] = {}
    _by_path_lock = threading.Lock()

    def __init__(self, path: str | None):
        self.threads = threading.Lock()
        self.path = path
        self.fd: int | None = None
        self.fd_pid = 0  # the process that opened fd

    @classmethod
    def of(cls, path: str | None) -> _WriterQueue:
        key = path or ""
        with cls._by_path_lock:
            if key not in cls._by_path:
                cls._by_path[key] = cls(path)
            return cls._by_path[key]

    def _file(self) -> int:
        """This process's own open lock file: a descriptor inherited through fork (gunicorn's preloading
        master) would share its lock with the parent and every sibling, and exclude none of them."""
        assert self.path is not None
        if self.fd is None or self.fd_pid != os.getpid():
            if self.fd is not None:  # the parent's: closing our copy leaves the parent's lock alone
                os.close(self.fd)
            self.fd = os.open(f"{self.path}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.fd_pid = os.getpid()
        return self.fd

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        if self.path is None:
            return
        delay = _POLL_SECONDS
        try:
            while True:
                try:
                    fcntl.flock(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError("database is locked") from None
                time.sleep(delay)
                delay = min(delay * 2, _POLL_MAX_SECONDS)
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        try:
            if self.path is not None and self.fd is not None and self.fd_pid == os.getpid():
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


class DatabaseWrapper(base.DatabaseWrapper):
    _file_identity: tuple[int, int] | None = None
    _holds_writer: bool = False
    _busy_timeout: float = 5.0

    def get_new_connection(self, conn_params):
        if not self.is_in_memory_db():
            # A new database file is created 0600 before SQLite opens it; its -wal and -shm get the same mode.
            with contextlib.suppress(FileNotFoundError):  # no such folder: SQLite's own error says so
                create_private_file(self.settings_dict["NAME"])
        conn = super().get_new_connection(conn_params)
        self._file_identity = self._current_file_identity()
        # What the init command set, so the wait for our queue and SQLite's own wait agree.
        self._busy_timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
        return conn

    def _current_file_identity(self) -> tuple[int, int] | None:
        if self.is_in_memory_db():
            return None
        try:
            stat = os.stat(self.settings_dict["NAME"])
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def is_usable(self) -> bool:
        return self._current_file_identity() == self._file_identity

    # ------------------------------------------------------------------ the writers' queue

    def _writer_queue(self) -> _WriterQueue:
        return _WriterQueue.of(None if self.is_in_memory_db() else str(self.settings_dict["NAME"]))

    def _start_transaction_under_autocommit(self):
        queue = self._writer_queue()
        queue.acquire(self._busy_timeout)
        self._holds_writer = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer()
            raise

    def _release_writer(self) -> None:
        if self._holds_writer:
            self._holds_writer = False
            self._writer_queue().release()

    def _commit(self):
        result = super()._commit()  # a failed commit is rolled back (or the connection closed) next
        self._release_writer()
        return result

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer()
