"""Security headers: with secure cookies on, HTTPS only (redirect, HSTS, nginx's X-Forwarded-Proto) except
/healthz over plain http; `Cache-Control: no-store` on every answer that may carry personal data
(web.caching), never on static files."""

import json
import os
import subprocess
import sys

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.web.caching import NoStoreMiddleware

pytestmark = pytest.mark.django_db

SECURITY = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT",
            "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS"]


def settings_with(tmp_path, **env) -> dict:
    """The security settings gongzhi.settings makes of this environment, read in a fresh process."""
    code = ("import json\nfrom gongzhi import settings\n"
            f"print(json.dumps({{name: getattr(settings, name, None) for name in {SECURITY!r}}}))")
    environ = {**os.environ, "GONGZHI_VAR_DIR": str(tmp_path), **env}
    environ.pop("DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    return json.loads(out.stdout)


def test_secure_cookies_turn_on_https_only(tmp_path):
    on = settings_with(tmp_path, GONGZHI_SECURE_COOKIES="1")
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_SSL_REDIRECT"]
    assert on["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert settings_with(tmp_path, GONGZHI_SECURE_COOKIES="1", GONGZHI_HSTS_SECONDS="300")["SECURE_HSTS_SECONDS"] == 300
    off = settings_with(tmp_path, GONGZHI_SECURE_COOKIES="0")
    assert not off["SESSION_COOKIE_SECURE"] and not off["SECURE_SSL_REDIRECT"] and not off["SECURE_HSTS_SECONDS"]
    assert off["SECURE_PROXY_SSL_HEADER"] is None


def test_behind_nginx_plain_http_is_redirected_https_gets_hsts_and_healthz_answers_over_http(tmp_path):
    secure = settings_with(tmp_path, GONGZHI_SECURE_COOKIES="1")
    secure["SECURE_PROXY_SSL_HEADER"] = tuple(secure["SECURE_PROXY_SSL_HEADER"])
    with override_settings(**secure):
        client = Client()  # built after the override: SecurityMiddleware reads its settings once
        plain = client.get("/login/")
        assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
        over_https = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
        assert over_https.status_code == 200
        assert over_https["Strict-Transport-Security"] == "max-age=31536000"
        # A load balancer probing the web process directly.
        health = client.get("/healthz", HTTP_HOST="127.0.0.1")
        assert health.status_code == 200 and health.json()["checks"]["database"]["status"] == "ok"


@pytest.fixture
def resident(tree):
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def test_every_api_answer_is_no_store(client, resident):
    assert client.get("/api/openapi.json")["Cache-Control"] == "no-store"
    assert client.get("/api/accounts/me")["Cache-Control"] == "no-store"  # a 401
    client.force_login(resident)
    response = client.get("/api/accounts/me")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"


def test_every_page_to_a_signed_in_person_is_no_store(client, resident, tree, make_staff):
    client.force_login(resident)
    for path in ("/", "/cases/", "/messages/", "/no-such-page/"):
        assert client.get(path)["Cache-Control"] == "no-store", path
    staff = Client()
    staff.force_login(make_staff("wgy", tree["grid"], Role.GRID_WORKER))
    for path in ("/worker/", "/worker/cases/", "/worker/me/"):
        assert staff.get(path)["Cache-Control"] == "no-store", path


def test_a_form_shown_again_with_what_was_typed_is_no_store(client):
    response = client.post("/login/", {"id_number": "620102198001011234", "phone": "13912345678", "code": "1"})
    assert response.status_code == 200 and "620102198001011234" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_a_public_page_to_a_visitor_is_left_alone(client):
    response = client.get("/login/")
    assert response.status_code == 200 and not response.has_header("Cache-Control")


def test_a_view_that_marks_itself_cacheable_keeps_its_header(resident):
    request = RequestFactory().get("/api/org/report-area", HTTP_COOKIE="sessionid=abc")

    def public(request):
        response = HttpResponse("{}")
        response["Cache-Control"] = "public, max-age=300"
        return response

    assert NoStoreMiddleware(public)(request)["Cache-Control"] == "public, max-age=300"
    assert NoStoreMiddleware(lambda r: HttpResponse("{}"))(request)["Cache-Control"] == "no-store"


def test_static_files_keep_whitenoises_headers(client, resident):
    client.force_login(resident)
    response = client.get("/static/css/gongzhi.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
