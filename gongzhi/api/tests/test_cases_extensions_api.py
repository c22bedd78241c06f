"""延期 and 归档 over the cases API: the new actions through POST /api/cases/{id}/actions, the 待审批 queue,
the requests on a case's detail (staff only), and the archive filter of the list."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.models import Role, User
from gongzhi.api.tests.fuzzing import CSRF
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.models import Case, CaseLog, ExtensionRequest
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action
from gongzhi.core import workcalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", kind=User.Kind.RESIDENT, real_name="王秀兰")
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    justice = make_staff("sifa", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"])
    act(disp, case, Action.ACCEPT)
    act(disp, case, Action.DISPATCH, lead_unit=tree["justice"])
    act(justice, case, Action.SIGN)
    case.refresh_from_db()
    return {"case": case, "resident": resident, "disp": disp, "justice": justice,
            "other": make_staff("odisp", tree["other_town"], Role.DISPATCHER)}


def client_for(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF
    return client


def post(client, case, body):
    return client.post(f"/api/cases/{case.pk}/actions", body, content_type="application/json",
                       HTTP_X_CSRFTOKEN=CSRF)


def later(case, days=3):
    return timezone.localtime(workcalendar.add_working_days(case.handle_due, days)).date()


def test_request_and_approve_over_the_api(world):
    case = world["case"]
    handler, disp = client_for(world["justice"]), client_for(world["disp"])
    day = later(case)
    body = {"action": "request_extension", "extend_to": day.isoformat(), "note": "需等待检测报告",
            "client_key": str(uuid.uuid4())}
    answer = post(handler, case, body)
    assert answer.status_code == 200, answer.content
    [request] = answer.json()["extensions"]
    assert request["decision"] == "pending" and request["reason"] == "需等待检测报告"
    assert request["proposed_due"].startswith(f"{day.isoformat()}T17:30:00+08:00")
    assert request["requesting_unit"] == "八里镇司法所" and request["decided_by"] is None
    logs = CaseLog.objects.count()
    assert post(handler, case, body).status_code == 200 and CaseLog.objects.count() == logs  # a replay

    queue = disp.get("/api/cases?queue=extensions").json()
    assert [item["id"] for item in queue["items"]] == [case.pk]
    assert handler.get("/api/cases?queue=extensions").json()["count"] == 0

    approved = post(disp, case, {"action": "approve_extension", "note": "同意"})
    assert approved.status_code == 200
    detail = approved.json()
    assert detail["handle_due"].startswith(f"{day.isoformat()}T17:30:00+08:00")
    assert detail["extensions"][0]["decision"] == "approved" and detail["extensions"][0]["decided_by"] == "disp"
    assert detail["timeline"][-1]["action"] == "approve_extension"
    # The resident sees the new limit on the timeline, not the requests.
    mine = client_for(world["resident"]).get(f"/api/cases/{case.pk}").json()
    assert mine["extensions"] == []
    assert mine["timeline"][-1]["note"] == f"办理期限延长至{day:%Y-%m-%d} 17:30。"
    assert "request_extension" not in [e["action"] for e in mine["timeline"]]


@pytest.mark.parametrize("body,status,field", [
    ({"action": "request_extension", "note": "理由"}, 422, "extend_to"),
    ({"action": "request_extension", "extend_to": "2001-01-01", "note": "理由"}, 422, "extend_to"),
    ({"action": "request_extension", "extend_to": "not a date", "note": "理由"}, 422, None),
    ({"action": "request_extension", "extend_to": "LATER", "note": ""}, 422, "note"),
    ({"action": "approve_extension"}, 422, None),  # none waiting
])
def test_refused_requests_change_nothing(world, body, status, field):
    case = world["case"]
    if body.get("extend_to") == "LATER":
        body = {**body, "extend_to": later(case).isoformat()}
    client = client_for(world["disp"] if body["action"] == "approve_extension" else world["justice"])
    logs = CaseLog.objects.count()
    answer = post(client, case, body)
    assert answer.status_code == status, answer.content
    if field:
        assert answer.json()["field"] == field
    assert CaseLog.objects.count() == logs and not ExtensionRequest.objects.exists()
    assert Case.objects.get(pk=case.pk).handle_due == case.handle_due


def test_who_may_over_the_api(world):
    case = world["case"]
    act(world["justice"], case, Action.REQUEST_EXTENSION, extend_to=later(case), note="理由")
    assert post(client_for(world["justice"]), case, {"action": "approve_extension"}).status_code == 403
    assert post(client_for(world["other"]), case, {"action": "approve_extension"}).status_code == 404
    taken = post(client_for(world["justice"]), case, {"action": "request_extension",
                                                      "extend_to": later(case).isoformat(), "note": "再申请"})
    assert taken.status_code == 409 and taken.json()["code"] == "extension_pending"
    assert ExtensionRequest.objects.get().decision == "pending"


def test_the_list_leaves_archived_cases_out_unless_asked(world):
    case = world["case"]
    act(world["justice"], case, Action.COMPLETE)
    act(world["disp"], case, Action.CONFIRM)
    act(world["disp"], case, Action.CLOSE)
    act(world["resident"], case, Action.RATE)
    disp = client_for(world["disp"])
    assert disp.get("/api/cases").json()["count"] == 1
    run_sweep()
    assert disp.get("/api/cases").json()["count"] == 0
    assert disp.get("/api/cases?archived=exclude").json()["count"] == 0
    archived = disp.get("/api/cases?archived=only").json()
    assert [item["id"] for item in archived["items"]] == [case.pk] and archived["items"][0]["archived_at"]
    assert disp.get("/api/cases?archived=include").json()["count"] == 1
    assert disp.get("/api/cases?archived=only&queue=tasks").json()["count"] == 0
    assert disp.get("/api/cases?archived=yes").status_code == 422
    assert disp.get(f"/api/cases/{case.pk}").json()["archived_at"] is not None
