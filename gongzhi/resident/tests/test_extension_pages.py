"""The resident's page of their case: an approved 延期 shows the new limit and no reasons; after the rating
window a closed case offers no rating any more."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from gongzhi.accounts.models import Role, User
from gongzhi.cases.factories import act, make_categories, report
from gongzhi.cases.workflow import Action
from gongzhi.core import workcalendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, make_staff):
    cats = make_categories()
    resident = User.objects.create_user(username="res", real_name="王小明", kind=User.Kind.RESIDENT)
    disp = make_staff("disp", tree["town"], Role.DISPATCHER)
    handler = make_staff("handler", tree["justice"], Role.DEPT_HANDLER)
    case = report(resident, cats["env"])
    act(disp, case, Action.ACCEPT)
    act(disp, case, Action.DISPATCH, lead_unit=tree["justice"])
    act(handler, case, Action.SIGN)
    case.refresh_from_db()
    return {"case": case, "disp": disp, "handler": handler, "resident": resident}


def test_the_resident_sees_the_new_limit_not_the_reasons(client, world):
    case = world["case"]
    day = timezone.localtime(workcalendar.add_working_days(case.handle_due, 2)).date()
    act(world["handler"], case, Action.REQUEST_EXTENSION, extend_to=day, note="内部原因：等待局里批复经费")
    act(world["disp"], case, Action.APPROVE_EXTENSION, note="同意，经费已落实")
    client.force_login(world["resident"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "批准延期" in page and f"办理期限延长至{day:%Y-%m-%d} 17:30。" in page
    assert "申请延期" not in page and "经费" not in page


def test_after_the_rating_window_a_closed_case_offers_no_rating(client, world):
    case = world["case"]
    act(world["handler"], case, Action.COMPLETE)
    act(world["disp"], case, Action.CONFIRM)
    act(world["disp"], case, Action.CLOSE)
    client.force_login(world["resident"])
    assert 'id="rate"' in client.get(f"/cases/{case.pk}/").content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert 'id="rate"' not in page and "评价期限已过，本事件已不能再评价。" in page
        response = client.post(f"/cases/{case.pk}/rate/", {"score": "satisfied", "client_key": "k1"})
        assert response.status_code == 422 and "评价期限已过" in response.content.decode()
    assert not case.ratings.exists()
