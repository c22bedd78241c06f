import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError, connection

from gongzhi.core.models import ServiceHeartbeat
from gongzhi.core.tasks import record_heartbeat, start_heartbeat

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Asia/Shanghai


def beat(seconds_ago: float) -> None:
    ServiceHeartbeat.objects.create(name="worker", last_seen=NOW - timedelta(seconds=seconds_ago))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_database_up_and_worker_fresh_is_ok(client, frozen):
    beat(10)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": {"status": "ok", "vendor": connection.vendor},
                              "worker": {"status": "ok", "last_seen": "2026-03-02T09:29:50+08:00"},
                              "writes": {"status": "ok"}, "sms": {"status": "ok"}}
    assert body["version"]
    assert set(body) == {"status", "checks", "version"}


@pytest.mark.django_db
def test_stale_worker_is_degraded_but_still_200(client, frozen):
    beat(61)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["worker"] == {"status": "degraded", "reason": "no worker heartbeat for 60 s",
                                                   "last_seen": "2026-03-02T09:28:59+08:00"}


@pytest.mark.django_db
def test_worker_turns_stale_as_the_clock_moves(client):
    with time_machine.travel(NOW, tick=False) as clock:
        beat(0)
        assert client.get("/healthz").json()["status"] == "ok"
        clock.shift(timedelta(seconds=60))
        assert client.get("/healthz").json()["status"] == "ok"
        clock.shift(timedelta(seconds=1))
        assert client.get("/healthz").json()["status"] == "degraded"


@pytest.mark.django_db
def test_worker_never_seen_is_degraded(client, frozen):
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"] == {"status": "degraded", "reason": "no task worker has been seen",
                                        "last_seen": None}


@pytest.mark.django_db
def test_other_services_heartbeat_does_not_count_as_worker(client, frozen):
    ServiceHeartbeat.objects.create(name="importer", last_seen=NOW)
    assert client.get("/healthz").json()["status"] == "degraded"


@pytest.mark.django_db
def test_database_down_is_503(client, frozen, monkeypatch):
    beat(0)

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"]["status"] == "error" and body["checks"]["database"]["reason"]
    assert body["checks"]["worker"]["status"] == "error"
    assert body["checks"]["writes"] == {"status": "ok"}  # asks no database


@pytest.mark.django_db
def test_healthz_is_get_only_and_not_cached(client, frozen):
    assert client.post("/healthz").status_code == 405
    assert "no-store" in client.get("/healthz")["Cache-Control"]


@pytest.mark.django_db
def test_record_heartbeat_keeps_one_row_per_service(frozen):
    record_heartbeat(name="worker")
    with time_machine.travel(NOW + timedelta(seconds=15), tick=False):
        record_heartbeat(name="worker")
    assert ServiceHeartbeat.objects.filter(name="worker").count() == 1
    assert ServiceHeartbeat.objects.get(name="worker").last_seen == NOW + timedelta(seconds=15)


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_writes_until_stopped():
    stop = start_heartbeat(name="worker", interval=3600)
    (thread,) = [t for t in threading.enumerate() if t.name == "heartbeat-worker"]
    try:
        # The first beat is written at once; wait for the thread, not for a clock.
        for _ in range(200):
            if ServiceHeartbeat.objects.filter(name="worker").exists():
                break
            threading.Event().wait(0.05)
        assert ServiceHeartbeat.objects.filter(name="worker").exists()
    finally:
        stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


# ------------------------------------------------------------------------------------------ refused writes


@pytest.fixture
def file_database(tmp_path, django_db_blocker, monkeypatch):
    """Turns every atomic block to a database file of its own, opened as a server process opens it, so that
    another process can hold its write lock. Returns a function that does so (after the test has signed in:
    a login's session write must still reach the test database) and gives the file's path."""
    from django.db import transaction
    from django.db.utils import ConnectionHandler

    from gongzhi.settings import sqlite_database

    path = str(tmp_path / "gongzhi.sqlite3")
    connections = ConnectionHandler({"default": sqlite_database(path, busy_timeout_ms=300)})
    with django_db_blocker.unblock():
        with connections["default"].cursor() as cursor:
            cursor.execute("CREATE TABLE report (id INTEGER PRIMARY KEY)")

    def writes_there() -> str:
        monkeypatch.setattr(transaction, "get_connection", lambda using=None: connections["default"])
        return path

    yield writes_there
    with django_db_blocker.unblock():
        connections.close_all()


def held(path: str, how: str):
    """Another process holding the writes: our writers' queue (another server process mid-write) or SQLite's
    own lock (a tool outside the server)."""
    from gongzhi.core.tests.test_sqlite_backend import other_process, queue_held_elsewhere

    if how == "queue":
        return queue_held_elsewhere(path, 30)
    holder = other_process(path, """
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("held", flush=True)
        time.sleep(30)
    """)
    assert holder.stdout.readline().strip() == "held"
    return holder


def submit(client, portal: str, cats):
    import uuid

    from django.urls import reverse

    if portal == "api":
        return client.post("/api/cases", {"client_id": str(uuid.uuid4()), "category": "talk-environment",
                                          "description": "路灯坏了", "lat": 35.585, "lng": 104.605},
                           content_type="application/json")
    leaf = cats["env"].children.first()
    return client.post(reverse("resident:case_new"), {"client_id": str(uuid.uuid4()), "category": str(leaf.pk),
                                    "description": "路灯坏了", "where": "point", "lat": "35.585", "lng": "104.605",
                                    "confirmed": "on"})


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["queue", "sqlite"])
@pytest.mark.parametrize("portal", ["api", "web"])
def test_while_another_process_holds_the_writes_a_report_is_503_and_healthz_says_degraded(
        client, resident, cats, file_database, how, portal, settings):
    from gongzhi.cases.models import Case

    settings.WRITES_REFUSED_WINDOW_SECONDS = 60
    client.force_login(resident)
    ServiceHeartbeat.objects.create(name="worker", last_seen=datetime.now(UTC))
    assert client.get("/healthz").json()["status"] == "ok"

    holder = held(file_database(), how)
    try:
        response = submit(client, portal, cats)
        assert response.status_code == 503 and response["Retry-After"] == "2"
        assert not Case.objects.exists()
        body = client.get("/healthz").json()
        assert body["status"] == "degraded"
        assert body["checks"]["writes"]["status"] == "degraded"
        assert body["checks"]["writes"]["reason"].startswith("writes refused as busy")
        assert body["checks"]["writes"]["last_refused"]
    finally:
        holder.kill()
        holder.wait()

    # Released: still degraded within the window, then ok.
    assert client.get("/healthz").json()["checks"]["writes"]["status"] == "degraded"
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=61), tick=False):
        ServiceHeartbeat.objects.update(last_seen=datetime.now(UTC))
        body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"]["writes"] == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_writes_nothing(client, frozen):
    from django.db import connection as default
    from django.test.utils import CaptureQueriesContext

    beat(0)
    with CaptureQueriesContext(default) as queries:
        assert client.get("/healthz").status_code == 200
    assert queries.captured_queries
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)


def test_a_refused_write_is_noted_once_a_second_in_a_private_file(settings, tmp_path):
    from gongzhi.core import writes

    settings.WRITES_REFUSED_FILE = tmp_path / "writes-refused"
    with time_machine.travel(NOW, tick=False) as clock:
        writes.note_write_refused()
        assert (settings.WRITES_REFUSED_FILE.stat().st_mode & 0o777) == 0o600
        assert writes.seconds_since_write_refused() == 0
        clock.shift(0.5)
        writes.note_write_refused()  # not touched again within the second
        assert writes.seconds_since_write_refused() == 0.5
        clock.shift(1)
        writes.note_write_refused()
        assert writes.seconds_since_write_refused() == 0


def test_a_refused_write_that_cannot_be_noted_still_answers(settings, tmp_path):
    from gongzhi.core import writes

    settings.WRITES_REFUSED_FILE = tmp_path / "missing-directory" / "writes-refused"
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        writes.note_write_refused()
    assert writes.last_write_refused() is None


@pytest.mark.django_db
def test_sms_pumping_shows_as_degraded_for_the_rest_of_the_hour(client, frozen, settings):
    from gongzhi.accounts.services import send_login_code
    from gongzhi.core.errors import RateLimited

    settings.SMS_HOURLY_BUDGET = 2
    beat(10)
    for i in range(3):
        try:
            send_login_code(phone=f"1391234{i:04d}", purpose="signup", client=f"198.51.100.{i}")
        except RateLimited:
            pass
    sms = client.get("/healthz").json()["checks"]["sms"]
    assert sms["status"] == "degraded" and "budget" in sms["reason"]
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        ServiceHeartbeat.objects.update(last_seen=NOW + timedelta(hours=1))
        body = client.get("/healthz").json()
        assert body["checks"]["sms"] == {"status": "ok"} and body["status"] == "ok"
