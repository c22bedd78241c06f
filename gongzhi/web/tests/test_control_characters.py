"""Control characters through the portals' forms: refused next to the field, by its label, before anything is
stored; newlines and tabs kept, a textarea's CRLF stored as LF (`web.forms.Form`, the rule of `core.text`)."""

import re
import uuid

import pytest
from django.urls import reverse

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.cases import services
from gongzhi.cases.factories import make_categories, report
from gongzhi.cases.models import Case, CaseLog, ReturnVisit

pytestmark = pytest.mark.django_db

BAD = ["\x00", "\x07", "\x1b"]


@pytest.fixture
def cats(db):
    return make_categories()


@pytest.fixture
def resident(tree):
    user = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    Membership.objects.create(user=user, unit=tree["grid"], role=Role.RESIDENT)
    return user


def field_error(response, field_id: str) -> str:
    """The errors shown right below the field (includes/field_errors.html)."""
    found = re.search(rf'<div class="field-errors" id="{field_id}_error"[^>]*><ul class="errorlist">(.*?)</ul>',
                      response.content.decode(), re.S)
    assert found, f"no error at {field_id}"
    return found.group(1)


def report_form(cats, **overrides):
    leaf = cats["env"].children.first()
    return {"client_id": str(uuid.uuid4()), "category": str(leaf.pk), "description": "村口垃圾堆了一周没人清运。",
            "where": "point", "lat": "35.585", "lng": "104.605", "address": "村口", "confirmed": "on", **overrides}


@pytest.mark.parametrize("char", BAD)
@pytest.mark.parametrize(("field", "label"), [("description", "要说的事"), ("address", "地点说明（可选）")])
def test_a_report_with_a_control_character_is_shown_again_with_the_error_at_the_field(client, resident, cats,
                                                                                      field, label, char):
    client.force_login(resident)
    data = report_form(cats)
    data[field] += char
    response = client.post(reverse("resident:case_new"), data)
    assert response.status_code in (200, 422)
    error = field_error(response, f"id_{field}")
    assert "控制字符" in error and f"“{label}”" in error
    assert not Case.objects.exists()


def test_a_report_keeps_newlines_and_tabs_and_stores_crlf_as_lf(client, resident, cats):
    client.force_login(resident)
    response = client.post(reverse("resident:case_new"),
                           report_form(cats, description="第一行\r\n第二行\t完\r\n", address="村口\t东"))
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.description == "第一行\n第二行\t完" and case.address == "村口\t东"


@pytest.fixture
def handled_case(tree, make_staff, resident, cats):
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    handler = make_staff("handler", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"])
    services.transition(actor=disp, case=case, action="accept")
    services.transition(actor=disp, case=case, action="dispatch", lead_unit=tree["justice"])
    services.transition(actor=handler, case=case, action="sign")
    services.transition(actor=handler, case=case, action="complete", note="已修好")
    return case


@pytest.mark.parametrize("char", BAD)
def test_a_staff_action_note_with_a_control_character_is_refused_at_the_note(client, tree, make_staff,
                                                                             handled_case, char):
    client.force_login(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    logs = CaseLog.objects.count()
    response = client.post(f"/worker/cases/{handled_case.pk}/visit/",
                           {"visit-method": "phone", "visit-settled": "yes", "visit-note": f"群众满意{char}"})
    assert response.status_code == 422
    assert "控制字符" in field_error(response, "id_visit-note")
    assert CaseLog.objects.count() == logs and not ReturnVisit.objects.exists()


def test_a_staff_action_note_keeps_its_lines(client, tree, make_staff, handled_case):
    client.force_login(make_staff("gw", tree["grid"], Role.GRID_WORKER))
    response = client.post(f"/worker/cases/{handled_case.pk}/visit/",
                           {"visit-method": "phone", "visit-settled": "yes", "visit-note": "群众满意\r\n\t路灯已亮"})
    assert response.status_code == 302
    assert CaseLog.objects.filter(case=handled_case).latest("seq").note == "群众满意\n\t路灯已亮"


@pytest.mark.parametrize("char", BAD)
def test_a_question_from_the_resident_with_a_control_character_is_refused(client, resident, handled_case, char):
    client.force_login(resident)
    logs = CaseLog.objects.count()
    response = client.post(reverse("resident:case_follow_up", args=[handled_case.pk]),
                           {"question": f"哪天修？{char}"})
    assert "控制字符" in field_error(response, "id_question")
    assert CaseLog.objects.count() == logs


@pytest.mark.parametrize("char", BAD)
def test_signup_with_a_control_character_in_the_name_is_refused_at_the_name(client, char):
    response = client.post(reverse("resident:signup"), {
        "action": "submit", "name": f"张{char}三", "id_number": "620102198001011234", "phone": "13912345678",
        "code": "123456", "consent": "on"})
    assert response.status_code == 200
    assert "“姓名”" in field_error(response, "id_name")
    assert not User.objects.exists()


def test_the_staff_login_refuses_a_control_character_at_the_user_name(client):
    response = client.post("/command/login/", {"username": "disp\x1b", "password": "secret-pass"})
    assert "“用户名”" in field_error(response, "id_username")
