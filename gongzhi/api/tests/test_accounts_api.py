import datetime

import pytest
import time_machine
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.accounts.tests.helpers import last_code, make_resident_account, valid_id
from gongzhi.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
ID = valid_id(birth="19700506", seq="222")


@pytest.fixture(autouse=True)
def clock():
    moment = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client():
    # CSRF enforced as in production: these endpoints must work without a token.
    return Client(enforce_csrf_checks=True)


def post(client, path, data, **extra):
    return client.post(f"/api/accounts/{path}", data, content_type="application/json", **extra)


@pytest.fixture
def head(tree):
    home = Household.objects.create(village=tree["village"], grid=tree["grid"], number="H1",
                                    address="小山村1号")
    return Resident.objects.create(household=home, name="王秀英", id_number=ID, phone=PHONE, gender="F",
                                   birth_date=datetime.date(1970, 5, 6), relation=Resident.Relation.HEAD)


def test_sms_code_204_then_429(client, clock):
    assert post(client, "sms-code", {"phone": PHONE, "purpose": "signup"}).status_code == 204
    response = post(client, "sms-code", {"phone": PHONE, "purpose": "signup"})
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and "60秒" in response.json()["detail"]


def test_check_digit_error_422_names_the_field(client):
    bad = ID[:17] + ("0" if ID[17] != "0" else "1")
    response = post(client, "resident-signup", {"name": "王秀英", "id_number": bad, "phone": PHONE,
                                                "code": "123456"})
    assert response.status_code == 422
    assert response.json()["field"] == "id_number" and "校验位" in response.json()["detail"]


@pytest.mark.parametrize("body", [
    {"phone": "12345", "purpose": "signup"},
    {"phone": PHONE, "purpose": "reset"},
    {"phone": PHONE},
    {"phone": 13812345678, "purpose": "signup"},  # strict: no number-to-text coercion
    {"phone": PHONE, "purpose": "signup", "extra": 1},
])
def test_sms_code_schema_violations_422(client, body):
    response = post(client, "sms-code", body)
    assert response.status_code == 422 and response.json()["code"] == "invalid"


def test_unparsable_body_400(client):
    response = client.post("/api/accounts/resident-login", b"\x00", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]


def test_form_encoded_posts_are_refused_415(client):
    response = client.post("/api/accounts/sms-code", '{"phone": "13812345678", "purpose": "signup"}',
                           content_type="text/plain")
    assert response.status_code == 415


def test_signup_201_starts_a_session_and_me_shows_masked_numbers(client, head):
    post(client, "sms-code", {"phone": PHONE, "purpose": "signup"})
    response = post(client, "resident-signup",
                    {"name": "王秀英", "id_number": ID, "phone": PHONE, "code": last_code(PHONE)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["csrf_token"] and body["user"]["household_head"] is True
    me = client.get("/api/accounts/me").json()
    assert me["id_number_masked"] == ID[:6] + "********" + ID[-4:] and me["phone_masked"] == "138****5678"
    assert me["portal"] == "resident" and me["verified_resident"] is True
    assert me["posts"] == [{"unit_id": head.household.grid_id, "unit_name": "小山村第1网格",
                            "role": "resident", "role_label": "居民"}]
    for text in (response.content.decode(), client.get("/api/accounts/me").content.decode()):
        assert ID not in text and PHONE not in text


def test_signup_409_for_a_registered_id_and_422_with_field(client, head, clock):
    make_resident_account(id_number=ID, phone=PHONE)
    post(client, "sms-code", {"phone": PHONE, "purpose": "signup"})
    form = {"name": "王秀英", "id_number": ID, "phone": PHONE, "code": last_code(PHONE)}
    response = post(client, "resident-signup", {**form, "name": "Wang"})
    assert response.status_code == 422 and response.json()["field"] == "name"
    response = post(client, "resident-signup", form)
    assert response.status_code == 409 and response.json()["field"] == "id_number"


def test_login_200_and_uniform_422(client, tree, clock):
    make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"])
    post(client, "sms-code", {"phone": PHONE, "purpose": "login"})
    code = last_code(PHONE)
    bad = post(client, "resident-login", {"id_number": valid_id(seq="999"), "phone": PHONE, "code": code})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_credentials"
    clock.shift(61)
    post(client, "sms-code", {"phone": PHONE, "purpose": "login"})
    good = post(client, "resident-login", {"id_number": ID, "phone": PHONE, "code": last_code(PHONE)})
    assert good.status_code == 200 and good.json()["user"]["kind"] == "resident"
    assert "sessionid" in good.cookies
    assert client.get("/api/accounts/me").status_code == 200


def test_me_401_when_signed_out(client):
    response = client.get("/api/accounts/me")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_me_for_staff_lists_posts_and_portal(client, tree, make_staff):
    user = make_staff("disp", tree["town"], Role.DISPATCHER)
    client.force_login(user)
    me = client.get("/api/accounts/me").json()
    assert me["portal"] == "command" and me["id_number_masked"] is None
    assert [p["role"] for p in me["posts"]] == ["dispatcher"]


def test_every_answer_is_documented():
    schema = Client().get("/api/openapi.json").json()
    def documented(path, method):
        return set(schema["paths"][f"/api/accounts/{path}"][method]["responses"])

    assert documented("sms-code", "post") == {"204", "400", "415", "422", "429", "503"}
    assert documented("resident-signup", "post") == {"201", "400", "409", "415", "422", "429"}
    assert documented("resident-login", "post") == {"200", "400", "415", "422", "429"}
    assert documented("me", "get") == {"200", "401"}


def test_repeated_login_failures_answer_429_with_retry_after_for_that_address_only(tree, clock):
    make_resident_account(id_number=ID, phone=PHONE, grid=tree["grid"])
    attacker, owner = Client(REMOTE_ADDR="198.51.100.66"), Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(4):
        assert post(attacker, "resident-login", {"id_number": ID, "phone": PHONE, "code": "000000"}).status_code == 422
    blocked = post(attacker, "resident-login", {"id_number": ID, "phone": PHONE, "code": "000000"})
    assert blocked.status_code == 429 and blocked["Retry-After"] == "30" and blocked.json()["code"] == "rate_limited"
    post(owner, "sms-code", {"phone": PHONE, "purpose": "login"})
    assert post(owner, "resident-login", {"id_number": ID, "phone": PHONE, "code": last_code(PHONE)}).status_code == 200


def test_sms_codes_from_one_address_are_limited_with_retry_after(tree, clock, settings):
    settings.SMS_CLIENT_LIMIT = (3, 3600)
    client = Client(REMOTE_ADDR="198.51.100.66")
    answers = [post(client, "sms-code", {"phone": f"1391234{i:04d}", "purpose": "signup"}) for i in range(5)]
    assert [a.status_code for a in answers] == [204, 204, 204, 429, 429]
    assert answers[-1]["Retry-After"] == "3600"


def test_behind_a_trusted_proxy_the_forwarded_address_counts(tree, clock, settings):
    settings.SMS_CLIENT_LIMIT = (1, 3600)
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    first = post(proxy, "sms-code", {"phone": "13912340001", "purpose": "signup"},
                 HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    other = post(proxy, "sms-code", {"phone": "13912340002", "purpose": "signup"},
                 HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.2")
    spoofed = post(proxy, "sms-code", {"phone": "13912340003", "purpose": "signup"},
                   HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.1")
    assert (first.status_code, other.status_code, spoofed.status_code) == (204, 204, 429)
