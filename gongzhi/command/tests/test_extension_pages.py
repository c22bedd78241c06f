"""延期 and 归档 on the command centre's pages: the handler's request form, the dispatcher's decision, the
待审批延期 list, and archived cases leaving the lists but found by number and under 已归档."""

import datetime

import pytest
from django.utils import timezone

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.models import Case, CaseLog, ExtensionRequest
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action
from gongzhi.core import workcalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", password="x", real_name="王小明", kind=User.Kind.RESIDENT)
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    handler = make_staff("handler", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"])
    act(disp, case, Action.ACCEPT)
    act(disp, case, Action.DISPATCH, lead_unit=tree["justice"])
    act(handler, case, Action.SIGN)
    case.refresh_from_db()
    return {
        "tree": tree, "cats": cats, "resident": resident, "disp": disp, "handler": handler, "case": case,
        "county_disp": make_staff("cdisp", tree["county"], Role.DISPATCHER),
        "other_disp": make_staff("odisp", tree["other_town"], Role.DISPATCHER),
        "police": make_staff("police", tree["police"], Role.DEPT_HANDLER),
    }


def post(client, case, name, **data):
    return client.post(f"/command/cases/{case.pk}/{name}/", {f"{name}-{k}": v for k, v in data.items()})


def a_later_workday(case, n=3):
    return timezone.localtime(workcalendar.add_working_days(case.handle_due, n)).date()


def forms_on(client, case):
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    return {name for name in ("request_extension", "approve_extension", "refuse_extension")
            if f'action="/command/cases/{case.pk}/{name}/"' in page}


def test_the_handler_asks_and_the_dispatcher_approves_on_the_pages(client, world):
    case = world["case"]
    client.force_login(world["handler"])
    assert forms_on(client, case) == {"request_extension"}
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "申请延期至" in page and "延期理由" in page and 'type="date"' in page
    day = a_later_workday(case)
    response = post(client, case, "request_extension", extend_to=day.isoformat(), note="需等待检测报告。")
    assert response.status_code == 302
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "延期申请已提交，等待审批。" in page and 'id="extensions"' in page and "待审批" in page
    assert forms_on(client, case) == set()  # one request at a time

    client.force_login(world["disp"])
    listed = client.get("/command/cases/extensions/").content.decode()
    assert case.number in listed and "待审批延期" in listed and f"{day:%Y-%m-%d} 17:30" in listed
    assert forms_on(client, case) == {"approve_extension", "refuse_extension"}
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "需等待检测报告。" in page and "审批意见" in page
    assert post(client, case, "approve_extension", note="同意").status_code == 302
    case.refresh_from_db()
    assert timezone.localtime(case.handle_due).date() == day
    page = client.get(f"/command/cases/{case.pk}/").content.decode()
    assert "已批准延期，办理期限已更新。" in page and "已批准" in page and "批准延期" in page
    assert case.number not in client.get("/command/cases/extensions/").content.decode()


def test_refusing_needs_a_reason_shown_at_its_field(client, world):
    case = world["case"]
    act(world["handler"], case, Action.REQUEST_EXTENSION, extend_to=a_later_workday(case), note="理由")
    client.force_login(world["disp"])
    response = post(client, case, "refuse_extension", note="")
    assert response.status_code == 422 and "请填写驳回的理由。" in response.content.decode()
    assert ExtensionRequest.objects.get().decision == "pending"
    assert post(client, case, "refuse_extension", note="应按期办结").status_code == 302
    assert ExtensionRequest.objects.get().decision == "refused"


def test_a_bad_date_is_shown_at_its_field_and_changes_nothing(client, world):
    case = world["case"]
    client.force_login(world["handler"])
    logs = CaseLog.objects.count()
    for day, message in [(timezone.localdate() - datetime.timedelta(days=1), "请选择今天以后的日期。"),
                         (a_later_workday(case, 40), "最多可延期30个工作日"), ("", "请选择申请延期至的日期。")]:
        response = post(client, case, "request_extension", extend_to=str(day), note="理由")
        assert response.status_code == 422 and message in response.content.decode()
    response = post(client, case, "request_extension", extend_to=a_later_workday(case).isoformat(), note="")
    assert response.status_code == 422 and "请填写申请延期的理由。" in response.content.decode()
    assert CaseLog.objects.count() == logs and not ExtensionRequest.objects.exists()


def test_only_those_who_may_see_the_buttons_and_the_list(client, world):
    case = world["case"]
    act(world["handler"], case, Action.REQUEST_EXTENSION, extend_to=a_later_workday(case), note="理由")
    client.force_login(world["county_disp"])  # the level above may decide
    assert forms_on(client, case) == {"approve_extension", "refuse_extension"}
    assert case.number in client.get("/command/cases/extensions/").content.decode()
    client.force_login(world["police"])  # not the lead unit, nor a command centre
    assert client.get(f"/command/cases/{case.pk}/").status_code == 404
    client.force_login(world["handler"])
    assert forms_on(client, case) == set()
    assert case.number not in client.get("/command/cases/extensions/").content.decode()
    response = post(client, case, "approve_extension", note="")
    assert response.status_code == 403 and ExtensionRequest.objects.get().decision == "pending"
    client.force_login(world["other_disp"])
    assert case.number not in client.get("/command/cases/extensions/").content.decode()
    assert post(client, case, "approve_extension", note="").status_code == 404


def test_archived_cases_leave_the_lists_and_are_found_by_number_and_filter(client, world):
    case = world["case"]
    act(world["handler"], case, Action.COMPLETE)
    act(world["disp"], case, Action.CONFIRM)
    act(world["disp"], case, Action.CLOSE)
    act(world["resident"], case, Action.RATE)
    client.force_login(world["disp"])
    assert case.number in client.get("/command/cases/").content.decode()
    assert run_sweep().archived == 1
    assert case.number not in client.get("/command/cases/").content.decode()
    assert case.number not in client.get("/command/cases/?status=rated").content.decode()
    listed = client.get("/command/cases/?archived=only").content.decode()
    assert case.number in listed and "已归档事件" in listed and "已归档" in listed
    assert case.number in client.get("/command/cases/?archived=include").content.decode()
    found = client.get(f"/command/cases/?number={case.number}")
    assert found.status_code == 302 and found.url == f"/command/cases/{case.pk}/"
    page = client.get(found.url).content.decode()
    assert 'id="case-archived"' in page and "归档" in page
    missing = client.get("/command/cases/?number=20990101999999", follow=True).content.decode()
    assert "未找到编号为20990101999999的事件" in missing
    assert "未知的归档筛选，已忽略该条件。" in client.get("/command/cases/?archived=maybe").content.decode()
    client.force_login(world["other_disp"])
    assert client.get(f"/command/cases/?number={case.number}").status_code == 200  # not theirs: not found
    assert Case.objects.get(pk=case.pk).archived_at is not None
