"""延期 from the worker portal: a village team leading a case asks for more time on its case page, and the
finished case leaves its task list once archived."""

import pytest
from django.utils import timezone

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.models import ExtensionRequest
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action
from gongzhi.core import workcalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", password="x", real_name="王小明", kind=User.Kind.RESIDENT)
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    village = make_staff("cun", tree["village"], Role.VILLAGE_ADMIN)
    case = report(resident, cats["env"])
    act(disp, case, Action.ACCEPT)
    act(disp, case, Action.DISPATCH, lead_unit=tree["village"])
    act(village, case, Action.SIGN)
    case.refresh_from_db()
    return {"case": case, "disp": disp, "village": village, "resident": resident,
            "gw": make_staff("gw", tree["grid"], Role.GRID_WORKER)}


def test_the_village_team_asks_for_more_time_on_its_task(client, world):
    case = world["case"]
    client.force_login(world["village"])
    page = client.get(f"/worker/cases/{case.pk}/").content.decode()
    assert f'action="/worker/cases/{case.pk}/request_extension/"' in page
    day = timezone.localtime(workcalendar.add_working_days(case.handle_due, 2)).date()
    response = client.post(f"/worker/cases/{case.pk}/request_extension/", {
        "request_extension-extend_to": day.isoformat(), "request_extension-note": "村委会需召开院落会商议。"})
    assert response.status_code == 302 and response.url == f"/worker/cases/{case.pk}/"
    page = client.get(response.url).content.decode()
    assert "延期申请已提交，等待审批。" in page and "村委会需召开院落会商议。" in page
    assert f'action="/worker/cases/{case.pk}/request_extension/"' not in page
    assert ExtensionRequest.objects.get().requesting_unit.name == "小山村"
    # The grid worker of the case's grid sees the case, not the form.
    client.force_login(world["gw"])
    assert "request_extension" not in client.get(f"/worker/cases/{case.pk}/").content.decode()


def test_a_finished_case_leaves_the_task_list_once_archived(client, world):
    case = world["case"]
    act(world["village"], case, Action.COMPLETE)
    act(world["disp"], case, Action.CONFIRM)
    act(world["disp"], case, Action.CLOSE)
    act(world["resident"], case, Action.RATE)
    client.force_login(world["village"])
    assert case.number in client.get("/worker/cases/").content.decode()
    run_sweep()
    assert case.number not in client.get("/worker/cases/").content.decode()
    assert client.get(f"/worker/cases/{case.pk}/").status_code == 200
