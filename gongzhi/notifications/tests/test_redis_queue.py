"""The task queue on a real Redis server: scripts/test's pytest-redis step starts one and sets REDIS_URL, and
settings then make Huey a RedisHuey. Skipped without REDIS_URL (the SQLite and PostgreSQL runs)."""

import os
import signal
import time
from urllib.parse import urlparse

import pytest
import redis
from huey import RedisHuey
from huey.consumer import Consumer
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from gongzhi.accounts.models import DevSmsMessage
from gongzhi.notifications import services
from gongzhi.notifications.models import Delivery
from gongzhi.notifications.tests.helpers import make_user

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (scripts/test starts a Redis server)")


@pytest.fixture
def server():
    """A client of its own on the Redis server, to look at the queue from outside Huey."""
    client = redis.Redis.from_url(REDIS_URL)
    HUEY.flush()
    yield client
    HUEY.flush()
    client.close()


def test_the_queue_is_a_redis_huey_on_the_server_redis_url_names(server):
    assert isinstance(HUEY, RedisHuey)
    assert isinstance(HUEY.storage, RedisStorage)  # the real server even in the tests' inline mode
    pool = HUEY.storage.conn.connection_pool.connection_kwargs
    assert (pool["host"], pool["port"]) == (urlparse(REDIS_URL).hostname, urlparse(REDIS_URL).port)
    server.set("gongzhi-test-probe", "1")
    assert HUEY.storage.conn.get("gongzhi-test-probe") == b"1"
    server.delete("gongzhi-test-probe")


@pytest.mark.django_db(transaction=True)  # the consumer's thread must see the committed delivery
def test_an_enqueued_task_waits_in_redis_until_a_real_consumer_runs_it(server, monkeypatch):
    alice = make_user("alice", phone="13812345678")
    monkeypatch.setattr(HUEY, "immediate", False)  # queue it, as the web process does
    notification = services.notify(recipients=[alice], kind="case.accepted", title="您的诉求已受理",
                                   body="您反映的路灯问题已由八里镇受理。", channels=["sms"])[0]
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.status == "queued"
    assert server.llen(HUEY.storage.queue_key) == 1  # on the server, waiting
    assert not DevSmsMessage.objects.exists()

    consumer = Consumer(HUEY, workers=1, worker_type="thread", periodic=False, check_worker_health=False)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            delivery.refresh_from_db()
            if delivery.status != "queued":
                break
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():  # the consumer installs its own; pytest wants its back
            signal.signal(sig, handler)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert DevSmsMessage.objects.count() == 1
    assert server.llen(HUEY.storage.queue_key) == 0
