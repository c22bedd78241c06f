import datetime

import pytest
import schemathesis
import time_machine
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from gongzhi.api.tests.fuzzing import CSRF, IDENTITY, breaks_the_cookie, session_cookies
from gongzhi.notifications import services
from gongzhi.notifications.models import Notification
from gongzhi.notifications.tests.helpers import make_user
from gongzhi.wsgi import application

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def client(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.cookies["csrftoken"] = CSRF
    return client


def note(user, title="通知", moment=T0):
    with time_machine.travel(moment, tick=False):
        return services.notify(recipients=[user], kind="case.accepted", title=title, body="正文",
                               target_id=1)[0]


def post(client, path, data=None, **extra):
    extra.setdefault("HTTP_X_CSRFTOKEN", CSRF)
    return client.post(f"/api/notifications/{path}", data, content_type="application/json", **extra)


@pytest.mark.parametrize(("method", "path"), [
    ("get", ""), ("get", "/unread-count"), ("post", "/read"), ("post", "/read-all"),
])
def test_not_signed_in_401(method, path):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(f"/api/notifications{path}", content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "请先登录。", "code": "not_authenticated", "field": None}


def test_a_deactivated_accounts_session_401(client, alice):
    alice.is_active = False
    alice.save()
    assert client.get("/api/notifications").status_code == 401


def test_inbox_lists_own_notifications_newest_first_with_pages(client, alice):
    older = note(alice, "旧", T0)
    newer = note(alice, "新", T0 + datetime.timedelta(hours=1))
    note(make_user("bob"), "别人的")
    response = client.get("/api/notifications")
    assert response.status_code == 200
    data = response.json()
    assert (data["count"], data["unread_count"], data["limit"], data["offset"]) == (2, 2, 20, 0)
    assert [item["id"] for item in data["items"]] == [newer.pk, older.pk]
    assert data["items"][0] == {
        "id": newer.pk, "kind": "case.accepted", "title": "新", "body": "正文", "target_type": "case",
        "target_id": 1, "link": "/cases/1/",
        "created_at": "2026-03-02T18:00:00+08:00", "read_at": None, "is_read": False,
    }
    page = client.get("/api/notifications?limit=1&offset=1").json()
    assert page["count"] == 2 and [item["id"] for item in page["items"]] == [older.pk]


def test_unread_only_and_unread_count(client, alice):
    first, second = note(alice), note(alice)
    services.mark_read(user=alice, notification_ids=[first.pk])
    data = client.get("/api/notifications?unread_only=true").json()
    assert [item["id"] for item in data["items"]] == [second.pk] and data["count"] == 1
    response = client.get("/api/notifications/unread-count")
    assert response.status_code == 200 and response.json() == {"count": 1}


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "offset=99999999999999999999",
                                   "unread_only=maybe"])
def test_bad_query_422(client, query):
    response = client.get(f"/api/notifications?{query}")
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_read_marks_own_notifications(client, alice):
    first, second = note(alice), note(alice)
    response = post(client, "read", {"ids": [first.pk]})
    assert response.status_code == 200 and response.json() == {"marked": 1}
    assert post(client, "read", {"ids": [first.pk, second.pk]}).json() == {"marked": 1}
    assert client.get("/api/notifications/unread-count").json() == {"count": 0}


def test_read_of_someone_elses_notification_404_and_marks_nothing(client, alice):
    mine, theirs = note(alice), note(make_user("bob"))
    response = post(client, "read", {"ids": [mine.pk, theirs.pk]})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Notification.objects.filter(read_at__isnull=False).exists()


@pytest.mark.parametrize("body", [
    {"ids": []},
    {"ids": ["1"]},  # strict: no text-to-number coercion
    {"ids": [0]},
    {"ids": [2**63]},
    {"ids": list(range(1, services.MAX_READ_IDS + 2))},
    {"ids": [1], "extra": 1},
    {},
])
def test_read_schema_violations_422(client, body):
    response = post(client, "read", body)
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_read_needs_json(client, alice):
    first = note(alice)
    response = client.post("/api/notifications/read", f'{{"ids": [{first.pk}]}}', content_type="text/plain",
                           HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code == 415
    response = client.post("/api/notifications/read", b"\x00", content_type="application/json",
                           HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code == 400


def test_posts_without_the_csrf_token_403(client, alice):
    first = note(alice)
    for path, data in (("read", {"ids": [first.pk]}), ("read-all", None)):
        response = post(client, path, data, HTTP_X_CSRFTOKEN="")
        assert response.status_code == 403 and response.json()["code"] == "csrf_failed"
    first.refresh_from_db()
    assert first.read_at is None


def test_read_all(client, alice):
    note(alice)
    note(alice)
    theirs = note(make_user("bob"))
    response = post(client, "read-all")
    assert response.status_code == 200 and response.json() == {"marked": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_endpoints_are_in_the_openapi_schema():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert {"/api/notifications", "/api/notifications/unread-count", "/api/notifications/read",
            "/api/notifications/read-all"} <= set(paths)
    assert set(paths["/api/notifications/read"]["post"]["responses"]) == {
        "200", "400", "401", "403", "404", "415", "422"}


inbox_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application).include(
    path_regex="^/api/notifications")


@pytest.fixture
def alice_cookies(alice):
    """A signed-in session (with a few notifications to find) for the fuzzer, plus the CSRF cookie."""
    for n in range(3):
        note(alice, f"通知{n}")
    return session_cookies(alice)


@inbox_schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_in_endpoints_conform_to_their_schema(case, alice_cookies, keep_test_connection):
    """The general fuzz test only ever sees 401 here; this one fuzzes the same operations signed in. The
    session cookie is always sent, so cases that break only the cookie (the 401s) are left to that test."""
    if breaks_the_cookie(case):
        return
    case.call_and_validate(cookies=alice_cookies, headers={"X-CSRFToken": CSRF, **IDENTITY},
                           excluded_checks=[positive_data_acceptance, ignored_auth])


def test_a_multipart_body_gets_a_clean_refusal_not_a_server_error(db, alice):
    """The CSRF check parses a form body; the endpoint must still answer cleanly rather than with a 500."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.cookies["csrftoken"] = CSRF
    response = client.post("/api/notifications/read", {"ids": "1"}, HTTP_X_CSRFTOKEN=CSRF)
    assert response.status_code in {400, 415, 422}
