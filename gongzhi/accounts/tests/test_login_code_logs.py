"""Login codes never reach a log, nor an error report, unless the console development backend is the one
sending them: a whole sign-up and login, a provider that fails quoting what it was given, and a server error
while a code is being checked, with an SMS backend like a real provider's adaptor."""

import datetime
import logging
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from gongzhi.accounts import services as account_services
from gongzhi.accounts.sms import SmsBackend
from gongzhi.accounts.tests.helpers import valid_id

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
ID = valid_id(birth="19700506", seq="222")


class Gateway(SmsBackend):
    """A provider's adaptor as one would be written: it hands the text over and logs nothing itself; when the
    provider refuses, its error quotes the request, as HTTP clients' errors often do."""

    attempted: list[str] = []
    failing = False

    def send(self, phone: str, message: str) -> None:
        Gateway.attempted.append(message)
        if Gateway.failing:
            raise ConnectionError(f"gateway answered 502 to {{'mobile': '{phone}', 'content': '{message}'}}")


def codes() -> list[str]:
    return [re.search(r"\d{6}", m).group() for m in Gateway.attempted]


def api(client, path, body):
    return client.post(f"/api/accounts/{path}", body, content_type="application/json")


@pytest.fixture
def gateway(settings):
    settings.SMS_BACKEND = f"{__name__}.Gateway"
    settings.ADMINS = [("运维", "ops@example.org")]  # Django's error mails, as an operator might turn them on
    Gateway.attempted, Gateway.failing = [], False
    yield Gateway
    Gateway.attempted, Gateway.failing = [], False


def test_a_login_flow_logs_no_code(gateway, caplog, monkeypatch):
    client = Client(raise_request_exception=False)
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False) as clock:
        # Sign up over the API.
        assert api(client, "sms-code", {"phone": PHONE, "purpose": "signup"}).status_code == 204
        signup = {"name": "王秀英", "id_number": ID, "phone": PHONE, "code": codes()[-1]}
        assert api(client, "resident-signup", signup).status_code == 201
        client.post("/logout/")

        # Log in on the page: a wrong code, then the right one.
        clock.shift(61)
        client.post("/login/", {"action": "send_code", "phone": PHONE})
        wrong = "000000" if codes()[-1] != "000000" else "111111"
        form = {"action": "submit", "id_number": ID, "phone": PHONE}
        assert client.post("/login/", {**form, "code": wrong}).status_code == 200
        assert client.post("/login/", {**form, "code": codes()[-1]}).status_code == 302
        client.post("/logout/")

        # The provider fails, quoting the text it was given.
        clock.shift(61)
        gateway.failing = True
        assert api(client, "sms-code", {"phone": PHONE, "purpose": "login"}).status_code == 503
        gateway.failing = False

        # A server error while the code is checked: Django logs it and mails the admins a report.
        clock.shift(61)
        assert api(client, "sms-code", {"phone": PHONE, "purpose": "login"}).status_code == 204

        def broken(**kwargs):
            raise RuntimeError("the database went away")

        monkeypatch.setattr(account_services, "resident_login", broken)
        assert client.post("/login/", {**form, "code": codes()[-1]}).status_code == 500

    assert len(codes()) == 4
    assert "SMS provider failed for a login code (ConnectionError)" in caplog.text
    assert "Internal Server Error: /login/" in caplog.text
    (report,) = [m for m in mail.outbox if "Internal Server Error: /login/" in m.subject]
    assert "RuntimeError" in report.body and "login_view" in report.body
    for code in codes():
        assert code not in caplog.text
        assert all(code not in message.body for message in mail.outbox)
    assert ID not in report.body and PHONE not in report.body


def test_the_console_backend_still_logs_the_code_for_development(caplog):
    from gongzhi.accounts.services import send_login_code
    from gongzhi.accounts.tests.helpers import last_code

    with caplog.at_level(logging.INFO):
        send_login_code(phone=PHONE, purpose="signup", client="192.0.2.1")
    assert last_code(PHONE) in caplog.text
