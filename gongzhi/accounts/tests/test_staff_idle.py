"""Staff sessions end after STAFF_IDLE_MINUTES without a request; each request moves the end, writing the
session at most once a minute; residents keep the long session; a view may opt out (accounts.sessions)."""

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.sessions import no_idle_timeout
from gongzhi.urls import urlpatterns as site_urls

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)


@no_idle_timeout
def big_screen(request):
    return HttpResponse("大屏")


urlpatterns = [path("test-big-screen/", big_screen), *site_urls]


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def worker(tree, make_staff):
    return make_staff("wgy", tree["grid"], Role.GRID_WORKER)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def at_work(client) -> bool:
    response = client.get("/worker/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def minutes(n: float) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


def test_a_staff_session_ends_after_thirty_idle_minutes(clock, worker, settings):
    assert settings.STAFF_IDLE_MINUTES == 30
    client = signed_in(worker)
    clock.shift(minutes(29))
    assert at_work(client)
    clock.shift(minutes(29))  # 58 minutes after login, 29 after the last request
    assert at_work(client)
    clock.shift(minutes(30) + datetime.timedelta(seconds=1))
    assert not at_work(client)
    assert not Session.objects.filter(expire_date__gt=START + minutes(90)).exists()


def test_the_cookie_and_the_row_end_with_the_idle_time(clock, worker):
    client = signed_in(worker)
    response = client.get("/worker/")
    session = Session.objects.get()
    assert session.expire_date == START + minutes(30)
    clock.shift(minutes(5))
    response = client.get("/worker/")
    assert response.cookies["sessionid"]["max-age"] == 30 * 60
    assert Session.objects.get().expire_date == START + minutes(35)


def test_requests_within_a_minute_do_not_write_the_session(clock, worker):
    client = signed_in(worker)
    for _ in range(3):
        clock.shift(datetime.timedelta(seconds=15))
        with CaptureQueriesContext(connection) as queries:
            assert at_work(client)
        assert not [q for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]
    clock.shift(datetime.timedelta(seconds=20))  # 65 s after login
    with CaptureQueriesContext(connection) as queries:
        assert at_work(client)
    assert [q for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"]]


def test_the_idle_time_is_configurable(clock, worker, settings):
    settings.STAFF_IDLE_MINUTES = 5
    client = signed_in(worker)
    clock.shift(minutes(5) + datetime.timedelta(seconds=1))
    assert not at_work(client)


def test_a_resident_keeps_the_long_session(clock, tree):
    resident = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=resident, unit=tree["grid"], role=Role.RESIDENT)
    client = signed_in(resident)
    clock.shift(minutes(24 * 60))
    assert client.get("/api/accounts/me").status_code == 200
    assert Session.objects.get().expire_date == START + datetime.timedelta(weeks=2)


@pytest.mark.urls(__name__)
def test_a_view_may_keep_a_staff_session_long(clock, worker, settings):
    client = signed_in(worker)
    assert client.get("/test-big-screen/").status_code == 200
    assert Session.objects.get().expire_date == START + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    clock.shift(minutes(120))
    assert at_work(client)  # still signed in; an ordinary page brings the idle timeout back
    assert Session.objects.get().expire_date == START + minutes(120 + 30)
