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
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["worker"] == {"ok": True, "last_seen": "2026-03-02T09:29:50+08:00"}
    assert body["version"]
    assert set(body) == {"status", "database", "worker", "version"}


@pytest.mark.django_db
def test_stale_worker_is_degraded_but_still_200(client, frozen):
    beat(61)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"] == {"ok": False, "last_seen": "2026-03-02T09:28:59+08:00"}


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
    assert body["worker"] == {"ok": False, "last_seen": None}


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
    assert body["database"]["ok"] is False
    assert body["worker"]["ok"] is False


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
