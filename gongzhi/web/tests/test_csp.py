"""The Content-Security-Policy header (web.csp): built once, the same text django-csp builds, and rebuilt
when the settings change."""

import pytest
from csp.utils import build_policy
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_every_answer_carries_the_policy_django_csp_would_build(client):
    expected = build_policy()
    assert "script-src 'self'" in expected
    for path in ("/", "/login/", "/api/openapi.json", "/healthz"):
        assert client.get(path)["Content-Security-Policy"] == expected, path


def test_a_changed_policy_is_sent_at_once(client):
    client.get("/")
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "https://tiles.example.cn"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        header = client.get("/")["Content-Security-Policy"]
    assert "img-src 'self' https://tiles.example.cn" in header
    assert "tiles.example.cn" not in client.get("/")["Content-Security-Policy"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error(rf):
    from csp.exceptions import CSPNonceError
    from django.http import HttpResponse

    from gongzhi.web.csp import CSPMiddleware

    request = rf.get("/")
    middleware = CSPMiddleware(lambda r: HttpResponse("ok"))
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse("ok"))
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
