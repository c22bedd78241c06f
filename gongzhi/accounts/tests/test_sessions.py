"""Sessions (accounts.sessions) as a signed-in request meets them: read with one statement each for the
session and the user, never cached per process, rotated on login and ended on logout everywhere."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.accounts.models import Role

pytestmark = pytest.mark.django_db

PASSWORD = "Gongzhi#2026"


@pytest.fixture
def staff(tree, make_staff):
    return make_staff("disp", tree["town"], Role.DISPATCHER)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_request_reads_the_session_and_the_user_once_each(staff):
    client = signed_in(staff)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/accounts/me").status_code == 200
    sql = [q["sql"] for q in queries]
    assert sum("django_session" in s for s in sql) == 1
    assert sum('FROM "accounts_user" WHERE' in s for s in sql) == 1


def test_a_session_ended_by_another_server_process_is_signed_out_at_once(staff):
    client = signed_in(staff)
    assert client.get("/api/accounts/me").status_code == 200
    Session.objects.all().delete()  # the logout, handled by another process
    assert client.get("/api/accounts/me").status_code == 401


def test_an_expired_session_is_signed_out(staff):
    client = signed_in(staff)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get("/api/accounts/me").status_code == 401


def test_a_deactivated_account_is_signed_out_on_its_next_request(staff):
    client = signed_in(staff)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    assert client.get("/api/accounts/me").status_code == 401


def test_a_changed_password_ends_the_other_sessions(staff):
    client = signed_in(staff)
    staff.set_password("Another#2027")
    staff.save(update_fields=["password"])
    assert client.get("/api/accounts/me").status_code == 401


def test_logging_in_rotates_the_session_key_and_logging_out_ends_it(staff):
    client = Client()
    anonymous = client.session  # a session from before the login, e.g. a planted one
    anonymous["seen"] = True
    anonymous.save()
    client.cookies["sessionid"] = before = anonymous.session_key
    response = client.post("/command/login/", {"username": "disp", "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert key != before and Session.objects.filter(session_key=key).exists()
    assert not Session.objects.filter(session_key=before).exists()
    client.post("/command/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie, replayed, is signed out.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get("/api/accounts/me").status_code == 401
