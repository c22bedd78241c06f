"""Control characters through the JSON API: every text field refuses all but newline and tab with a 422 naming
the field, before anything is stored (NUL was stored on SQLite and a server error on PostgreSQL); CRLF is
stored as LF."""

import datetime
import uuid

import pytest
import time_machine

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.accounts.tests.helpers import last_code, valid_id
from gongzhi.api.tests.test_cases_api import client_for, new_case, post
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Case, CaseLog, FollowUp
from gongzhi.cases.workflow import Action

pytestmark = pytest.mark.django_db

BAD = ["\x00", "\x07", "\x1b", "\x7f", "\x85"]  # NUL, bell, escape, DEL, a C1 control


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def resident(tree):
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


@pytest.fixture
def dispatcher(tree, make_staff):
    return make_staff("disp", tree["town"], Role.DISPATCHER)


def refused(response, field):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "control_characters" and body["field"] == field
    assert f"“{field}”" in body["detail"] and "控制字符" in body["detail"]


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["description", "address", "category"])
def test_a_case_report_with_a_control_character_is_422_naming_the_field(resident, cats, field, char):
    body = new_case(address="村口")
    body[field] = f"{body[field]}{char}尾"
    refused(post(client_for(resident), "", body), field)
    assert not Case.objects.exists()


@pytest.mark.parametrize("field", ["name", "id_number", "phone", "description"])
def test_a_report_on_behalf_with_a_control_character_is_422_naming_the_field(dispatcher, cats, field):
    body = new_case(name="赵桂兰", id_number=valid_id(birth="19550301", seq="123"), phone="13912345678")
    body[field] = f"{body[field]}\x00"
    refused(post(client_for(dispatcher), "/on-behalf", body), field)
    assert not Case.objects.exists() and not User.objects.filter(kind=User.Kind.RESIDENT).exists()


@pytest.mark.parametrize("char", BAD)
def test_an_action_note_with_a_control_character_is_422_and_writes_nothing(resident, dispatcher, cats, char):
    case = report(resident, cats["env"])
    for body in ({"action": "reject", "note": f"不属于受理范围{char}"},
                 {"action": "accept", "note": "", "client_key": f"k{char}"}):
        refused(post(client_for(dispatcher), f"/{case.pk}/actions", body), "note" if "不" in body["note"] else
                "client_key")
    refused(post(client_for(resident), f"/{case.pk}/follow-ups", {"question": f"哪天修？{char}"}), "question")
    case.refresh_from_db()
    assert case.status == "reported" and CaseLog.objects.filter(case=case).count() == 1
    assert not FollowUp.objects.exists()


def test_newlines_and_tabs_are_kept_and_crlf_is_stored_as_lf(resident, dispatcher, cats):
    response = post(client_for(resident), "", new_case(description="第一行\r\n第二行\n\t第三行", address="村口\t东"))
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.description == "第一行\n第二行\n\t第三行" and case.address == "村口\t东"
    response = post(client_for(dispatcher), f"/{case.pk}/actions", {"action": "reject", "note": "一\r\n二\t三"})
    assert response.status_code == 200, response.content
    assert CaseLog.objects.get(case=case, action=Action.REJECT).note == "一\n二\t三"


def test_a_query_with_a_control_character_is_422_naming_it(resident, cats):
    response = client_for(resident).get("/api/cases/duplicates", {"category": "talk-environment\x1b", "lat": 35.585,
                                                                  "lng": 104.605})
    refused(response, "category")


PHONE = "13812345678"
ID = valid_id(birth="19700506", seq="222")


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize("field", ["name", "id_number", "phone", "code"])
def test_signup_with_a_control_character_is_422_naming_the_field(client, field, char):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC), tick=False):
        assert client.post("/api/accounts/sms-code", {"phone": PHONE, "purpose": "signup"},
                           content_type="application/json").status_code == 204
        body = {"name": "王秀英", "id_number": ID, "phone": PHONE, "code": last_code(PHONE)}
        body[field] = body[field][:2] + char + body[field][2:]
        response = client.post("/api/accounts/resident-signup", body, content_type="application/json")
    refused(response, field)
    assert not User.objects.exists()


def test_sms_code_with_a_control_character_is_422_naming_the_phone(client):
    refused(client.post("/api/accounts/sms-code", {"phone": f"138{chr(0)}12345678", "purpose": "signup"},
                        content_type="application/json"), "phone")


def test_a_lone_surrogate_is_refused_like_a_control_character(resident, cats):
    raw = (f'{{"client_id": "{uuid.uuid4()}", "category": "talk-environment", "description": "路灯\\ud800",'
           f' "lat": 35.585, "lng": 104.605}}')
    # Written by hand: json.dumps would not send a lone surrogate.
    refused(post(client_for(resident), "", raw), "description")
    assert not Case.objects.exists()
