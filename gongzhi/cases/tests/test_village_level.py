"""The village level (M1, M8; seed 001): general matters go to the village's 工作站 within its 5 working
days, complex ones to the township; the limit follows the level that does the work, on every hand-over."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.accounts.models import Role
from gongzhi.cases import categories, policies, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import CaseLog
from gongzhi.cases.tests.helpers import HERE
from gongzhi.cases.workflow import Action, Capacity, Status
from gongzhi.core.errors import DomainError

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # no holiday in the next weeks


@pytest.fixture
def station(tree, make_staff):
    return make_staff("工作站", tree["village"], Role.VILLAGE_STATION)


def garbage():
    return categories.by_code("talk-environment-garbage")  # handled by the village team: no department


@time_machine.travel(MONDAY, tick=False)
def test_a_general_matter_goes_to_the_village_station_with_the_village_limit(tree, people, station):
    case = report(people["resident"], garbage())
    assert case.holder == tree["village"]
    assert selectors.intake_for(station).filter(pk=case.pk).exists()
    assert not selectors.intake_for(people["dispatcher"]).filter(pk=case.pk).exists()
    assert Capacity.SUPERVISOR in policies.capacities(people["dispatcher"], case)  # the township watches
    case = act(station, case, Action.ACCEPT)
    assert case.handle_due == datetime.datetime(2026, 11, 9, 17, 30, tzinfo=SHANGHAI)  # 5 working days
    case = act(station, case, Action.DISPATCH, lead_unit=tree["village"])  # 自办: the village team itself
    act(station, case, Action.SIGN)
    case = act(station, case, Action.COMPLETE, note="已清运")
    assert case.status == Status.HANDLED


def test_without_a_station_or_for_a_departments_matter_the_township_takes_it(tree, people, make_staff):
    assert report(people["resident"], garbage()).holder == tree["town"]  # no 工作站 in this village yet
    make_staff("工作站", tree["village"], Role.VILLAGE_STATION)
    assert report(people["resident"], categories.by_code("talk-policy-agriculture")).holder == tree["town"]
    assert report(people["resident"], garbage()).holder == tree["village"]


def test_handing_up_to_the_township_restarts_the_response_limit_at_its_level(tree, people, station):
    with time_machine.travel(MONDAY, tick=False):
        case = act(station, report(people["resident"], garbage()), Action.ACCEPT)
    with time_machine.travel(MONDAY + datetime.timedelta(hours=3), tick=False):
        case = act(station, case, Action.ESCALATE, note="涉及多个村，需镇上协调")
    assert case.holder == tree["town"] and case.status == Status.ESCALATED and case.handle_due is None
    assert case.respond_due > MONDAY + datetime.timedelta(hours=3)
    assert selectors.intake_for(people["dispatcher"]).filter(pk=case.pk).exists()
    with time_machine.travel(MONDAY + datetime.timedelta(hours=4), tick=False):
        case = act(people["dispatcher"], case, Action.ACCEPT)
    assert case.handle_due == datetime.datetime(2026, 11, 16, 17, 30, tzinfo=SHANGHAI)  # township: 10 days


def test_a_township_case_dispatched_to_a_village_takes_the_village_limit_and_the_timeline_says_so(
        tree, people, cats):
    with time_machine.travel(MONDAY, tick=False):
        case = act(people["dispatcher"], report(people["resident"], garbage()), Action.ACCEPT)
    assert case.holder == tree["town"]
    township_due = case.handle_due
    with time_machine.travel(MONDAY + datetime.timedelta(days=1), tick=False):
        case = act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["village"])
    assert case.handle_due == datetime.datetime(2026, 11, 10, 17, 30, tzinfo=SHANGHAI) < township_due
    dispatched = [e for e in selectors.timeline_for(people["dispatcher"], case) if e.action == Action.DISPATCH][0]
    assert dispatched.limit == "办理期限：2026-11-10 17:30"
    assert CaseLog.objects.filter(case=case, action=Action.DISPATCH).get().deadlines["handle_due"].startswith(
        "2026-11-10T")


def test_a_village_station_dispatches_only_inside_its_village(tree, people, station):
    case = act(station, report(people["resident"], garbage()), Action.ACCEPT)
    with pytest.raises(DomainError) as err:  # the township's 司法所 lies outside the village
        act(station, case, Action.DISPATCH, lead_unit=tree["justice"])
    assert err.value.field == "lead_unit"
    case = act(station, case, Action.DISPATCH, lead_unit=tree["grid"])
    assert selectors.tasks_for(people["grid_worker"]).filter(pk=case.pk).exists()


def test_the_station_finds_new_cases_in_its_tasks_on_the_worker_portal(client, tree, people, station):
    case, _ = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=garbage(),
                                   description="村口垃圾没人清运", lat=HERE[0], lng=HERE[1])
    client.force_login(station)
    assert client.get("/worker/").status_code == 200
    page = client.get("/worker/cases/").content.decode()
    assert case.number in page
    assert 'value="accept"' in client.get(f"/worker/cases/{case.pk}/").content.decode()
