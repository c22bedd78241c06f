"""The SQLite backend as the server uses it: a file database, connections kept across requests, writers
queued across threads and processes, and a write that waits too long failing as "busy" (answered 503).

These tests open their own connections to a database file in tmp_path, with the settings production uses
(`settings.sqlite_database`), whatever database the rest of the suite runs on."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import OperationalError, transaction
from django.db.utils import ConnectionHandler

from gongzhi.core.errors import is_database_busy
from gongzhi.settings import sqlite_database


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "gongzhi.sqlite3")


@pytest.fixture
def handler(db_path, django_db_blocker, monkeypatch):
    """Connections of their own, as in a server process (`handler["default"]`); `transaction.atomic()`
    uses them."""
    connections = ConnectionHandler({"default": sqlite_database(db_path, busy_timeout_ms=800)})
    monkeypatch.setattr(transaction, "get_connection", lambda using=None: connections["default"])
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        yield connections
        connections.close_all()


def end_of_request(connection) -> None:
    """What Django does when a request finishes (`close_old_connections`)."""
    connection.close_if_unusable_or_obsolete()


def count(connection) -> int:
    connection.close_if_health_check_failed()  # what the first query of a request does
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM report")
        return cursor.fetchone()[0]


def other_process(db_path: str, code: str) -> subprocess.Popen:
    """Python in a separate process, given `path`, `sqlite3`, `fcntl`, `os` and `time`."""
    prelude = f"import fcntl, os, sqlite3, sys, time\npath = {db_path!r}\n"
    return subprocess.Popen([sys.executable, "-c", prelude + textwrap.dedent(code)],
                            stdout=subprocess.PIPE, text=True)


def queue_held_elsewhere(db_path: str, seconds: float) -> subprocess.Popen:
    """Another server process holding the writers' queue for `seconds`; returns once it holds it."""
    holder = other_process(db_path, f"""
        fd = os.open(path + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep({seconds})
    """)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_kept_connection_sees_what_another_process_committed(handler, db_path):
    connection = handler["default"]
    assert count(connection) == 0
    end_of_request(connection)
    raw = connection.connection
    assert raw is not None, "the connection is kept after the request"

    writer = other_process(db_path, """
        db = sqlite3.connect(path)
        db.execute("INSERT INTO report (body) VALUES ('路灯坏了')")
        db.commit()
    """)
    assert writer.wait(timeout=30) == 0

    assert count(connection) == 1
    assert connection.connection is raw, "the same connection, not a new one"


def test_pragmas_are_set_once_per_connection(handler):
    connection = handler["default"]
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 800
        assert cursor.execute("PRAGMA cache_size").fetchone()[0] == -8000


def test_a_database_file_swapped_underneath_is_reopened(handler, db_path, tmp_path):
    import sqlite3

    connection = handler["default"]
    with transaction.atomic():
        pass
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO report (body) VALUES ('旧库')")
    end_of_request(connection)
    old = connection.connection

    # A restore: another file with other rows takes the name, and the old write-ahead log goes.
    replacement = str(tmp_path / "restored.sqlite3")
    db = sqlite3.connect(replacement)
    db.execute("CREATE TABLE report (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    db.executemany("INSERT INTO report (body) VALUES (?)", [("新库",), ("新库",)])
    db.commit()
    db.close()
    for stale in (f"{db_path}-wal", f"{db_path}-shm"):
        os.remove(stale)
    os.replace(replacement, db_path)

    assert count(connection) == 2
    assert connection.connection is not old


def test_a_writer_waits_for_another_process_and_then_succeeds(handler, db_path):
    holder = queue_held_elsewhere(db_path, 0.4)
    connection = handler["default"]
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO report (body) VALUES ('等到了')")
    waited = time.monotonic() - started
    holder.wait(timeout=30)
    assert 0.2 < waited < 0.8  # released when the other process let go, not after a backoff
    assert count(connection) == 1


def test_a_writer_that_waits_past_the_busy_timeout_fails_as_busy_and_writes_nothing(handler, db_path):
    holder = other_process(db_path, """
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # SQLite's own lock, as a tool outside the server would take it
        print("held", flush=True)
        time.sleep(3)
        db.execute("ROLLBACK")
    """)
    assert holder.stdout.readline().strip() == "held"
    connection = handler["default"]
    with pytest.raises(OperationalError) as failure, transaction.atomic():
        connection.cursor().execute("INSERT INTO report (body) VALUES ('不该写入')")
    assert is_database_busy(failure.value)
    holder.kill()
    holder.wait()
    assert count(connection) == 0
    # The queue was released: the next write does not wait.
    started = time.monotonic()
    with transaction.atomic():
        connection.cursor().execute("INSERT INTO report (body) VALUES ('写入')")
    assert time.monotonic() - started < 0.5


def test_our_own_queue_also_gives_up_at_the_busy_timeout(handler, db_path):
    holder = queue_held_elsewhere(db_path, 3)
    started = time.monotonic()
    with pytest.raises(OperationalError) as failure, transaction.atomic():
        pass
    assert is_database_busy(failure.value)
    assert 0.7 < time.monotonic() - started < 2.0
    holder.kill()
    holder.wait()


def test_a_failed_transaction_releases_the_queue_for_the_next_thread(handler):
    connection = handler["default"]
    with pytest.raises(ValueError), transaction.atomic():
        connection.cursor().execute("INSERT INTO report (body) VALUES ('回滚')")
        raise ValueError("refused")

    done = []

    def other_thread():
        # Each thread has its own connection, as gunicorn's threads do.
        with transaction.atomic():
            handler["default"].cursor().execute("INSERT INTO report (body) VALUES ('另一个线程')")
        handler["default"].close()
        done.append(True)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=5)
    assert done == [True]
    assert count(connection) == 1


def test_threads_writing_at_once_all_succeed_in_turn(handler):
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                with transaction.atomic():
                    cursor = handler["default"].cursor()
                    cursor.execute("SELECT count(*) FROM report")
                    cursor.execute("INSERT INTO report (body) VALUES (%s)", [f"{n}-{i}"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            handler["default"].close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failures == []
    assert count(handler["default"]) == 120


def test_busy_is_told_apart_from_other_database_errors():
    assert is_database_busy(OperationalError("database is locked"))
    assert not is_database_busy(OperationalError("no such table: report"))
    assert not is_database_busy(ValueError("database is locked"))


def test_processes_forked_after_the_lock_file_was_opened_still_exclude_each_other(handler, db_path):
    import multiprocessing

    from gongzhi.core.sqlite.base import _WriterQueue

    queue = _WriterQueue.of(db_path)
    queue.acquire(1.0)  # the parent opens the lock file before forking, as a preloading master might
    queue.release()
    holding, done = multiprocessing.get_context("fork").Event(), multiprocessing.get_context("fork").Event()

    def child():
        queue.acquire(1.0)
        holding.set()
        done.wait(10)
        queue.release()

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    try:
        assert holding.wait(10)
        with pytest.raises(OperationalError):
            queue.acquire(0.3)  # the child holds it: the parent must wait, not share the child's lock
    finally:
        done.set()
        process.join(10)
    queue.acquire(1.0)
    queue.release()


def test_every_commit_reaches_the_disk_when_asked(db_path, django_db_blocker):
    connections = ConnectionHandler({"default": sqlite_database(db_path, synchronous="FULL")})
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        connections.close_all()
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        sqlite_database(db_path, synchronous="OFF")
