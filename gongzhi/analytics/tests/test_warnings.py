"""Risk warnings (风险预警) under a frozen clock: the Poisson tail, a hotspot raised then cleared, an overdue
cluster, the dispute flags, idempotent runs, who may acknowledge (and the note), and the page's scope."""

import datetime
import math
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from gongzhi.accounts.models import Membership
from gongzhi.analytics import services, tasks
from gongzhi.analytics.models import Warning, WarningKind
from gongzhi.cases import services as case_services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, Category
from gongzhi.cases.tests.helpers import dispatched
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.validators import id_check_digit
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday


def test_the_poisson_tail_on_known_values():
    assert services.poisson_tail(0, 2.0) == 1.0
    assert services.poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2))
    # P(X ≥ 3 | 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125) ≈ 0.01439: 3 cases in a quiet grid are not a hotspot.
    assert services.poisson_tail(3, 0.5) == pytest.approx(0.014388, abs=1e-6)
    assert services.poisson_tail(4, 0.5) == pytest.approx(0.001752, abs=1e-6)
    assert services.poisson_tail(10, 1.0) == pytest.approx(1.1143e-7, rel=1e-3)
    assert services.poisson_tail(5, 5.0) == pytest.approx(0.559507, abs=1e-6)
    assert services.poisson_tail(200, 1.0) < 1e-300


def reports_at(people, category, times, **place):
    cases = []
    for at in times:
        with time_machine.travel(at, tick=False):
            cases.append(report(people["resident"], category, **place))
    return cases


def open_of(kind):
    return list(Warning.objects.filter(kind=kind, cleared_at__isnull=True))


def test_a_hotspot_is_raised_against_its_baseline_then_cleared(tree, people, cats):
    days = [NOW - datetime.timedelta(days=d, hours=1) for d in (6, 5, 4, 3)]
    three = reports_at(people, cats["env"], days[:3])
    services.refresh_warnings(now=NOW)
    assert open_of(WarningKind.HOTSPOT) == []  # k = 3 against λ = 0.5: p ≈ 0.014, not below 0.01
    fourth = reports_at(people, cats["env"], days[3:])
    result = services.refresh_warnings(now=NOW)
    [hot] = open_of(WarningKind.HOTSPOT)
    assert (result.raised, hot.unit, hot.path) == (1, tree["grid"], tree["grid"].path)
    assert hot.key == f"hotspot:{tree['grid'].pk}"
    assert hot.case_ids == [c.pk for c in [*three, *fourth]]
    assert (hot.details["k"], hot.details["baseline"], hot.details["weeks"]) == (4, 0.5, 8)
    assert hot.details["p"] == pytest.approx(0.001752, abs=1e-6)
    # A week later the four are the baseline (λ = 0.5 still, floored): nothing new, the hotspot clears.
    later = NOW + datetime.timedelta(days=8)
    assert services.refresh_warnings(now=later).cleared >= 1
    hot.refresh_from_db()
    assert hot.cleared_at == later


def test_a_busy_grid_is_not_a_hotspot_at_its_usual_rate(tree, people, cats):
    # Four a week for the 8 weeks before: λ = 4, k = 4 is its usual week.
    times = [NOW - datetime.timedelta(days=7 * w + d, hours=2) for w in range(9) for d in (1, 2, 3, 4)]
    reports_at(people, cats["env"], times)
    services.refresh_warnings(now=NOW)
    assert open_of(WarningKind.HOTSPOT) == []


def test_five_overdue_cases_in_a_village_raise_an_overdue_cluster(tree, people, cats):
    cases = reports_at(people, cats["env"], [NOW - datetime.timedelta(minutes=m) for m in range(5, 0, -1)])
    due = max(c.respond_due for c in cases)
    services.refresh_warnings(now=due - datetime.timedelta(hours=1))
    assert open_of(WarningKind.OVERDUE_CLUSTER) == []
    services.refresh_warnings(now=due + datetime.timedelta(minutes=1))
    [cluster] = open_of(WarningKind.OVERDUE_CLUSTER)
    assert (cluster.unit, cluster.details) == (tree["village"], {"red": 5})
    assert cluster.case_ids == sorted(c.pk for c in cases)
    # One taken up: four left, the cluster clears.
    with time_machine.travel(due + datetime.timedelta(minutes=2), tick=False):
        act(people["dispatcher"], cases[0], Action.ACCEPT)
    services.refresh_warnings(now=due + datetime.timedelta(minutes=3))
    assert open_of(WarningKind.OVERDUE_CLUSTER) == []


def test_five_overdue_cases_led_by_a_department_raise_its_cluster(tree, people, cats):
    # Spread over two villages, so only the department (八里镇司法所, the lead of all five) reaches five.
    places = [{}, {}, {}, {"lat": 35.595, "lng": 104.605}, {"lat": 35.595, "lng": 104.605}]
    cases = []
    for n, place in enumerate(places):
        with time_machine.travel(NOW - datetime.timedelta(days=20, minutes=n), tick=False):
            case = report(people["resident"], cats["env"], **place)
            dispatched(people, tree, case)
            cases.append(case)
    late = max(Case.objects.get(pk=c.pk).handle_due for c in cases) + datetime.timedelta(hours=1)
    services.refresh_warnings(now=late)
    [cluster] = open_of(WarningKind.OVERDUE_CLUSTER)
    assert (cluster.unit, cluster.path, cluster.details) == (tree["justice"], tree["justice"].path, {"red": 5})
    # The town's dispatcher answers for it (the department is under the town); the other town's does not see it.
    assert services.acknowledge_warning(actor=people["dispatcher"], warning=cluster, note="督促办理").acknowledged_at
    with pytest.raises(NotFound):
        services.acknowledge_warning(actor=people["other_supervisor"], warning=cluster, note="x")


def test_a_run_reads_the_cases_in_a_few_grouped_queries(tree, people, cats, django_assert_max_num_queries):
    reports_at(people, cats["env"], [NOW - datetime.timedelta(days=d) for d in range(1, 6)])
    # Hotspots 2, calendar 2, overdue 3, disputes 5, unvisited key persons 1, paths 1, the write 3: none per grid
    # or per case; then 8 to announce the one new warning (who answers for it, its unit, the inbox row and its
    # checks).
    with django_assert_max_num_queries(25):
        services.refresh_warnings(now=NOW)
    assert len(open_of(WarningKind.HOTSPOT)) == 1


@pytest.fixture
def marriage_warning(tree, people, cats):
    marriage = Category.objects.get(code="dispute-marriage")
    [case] = reports_at(people, marriage, [NOW - datetime.timedelta(hours=1)])
    services.refresh_warnings(now=NOW)
    [warning] = open_of(WarningKind.MARRIAGE_FAMILY)
    return case, warning


def test_an_open_marriage_dispute_warns_until_it_is_settled(tree, people, marriage_warning):
    case, warning = marriage_warning
    assert (warning.unit, warning.case_ids, warning.key) == (tree["grid"], [case.pk], f"marriage_family:{case.pk}")
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        act(people["dispatcher"], case, Action.REJECT)
    services.refresh_warnings(now=NOW + datetime.timedelta(minutes=10))
    warning.refresh_from_db()
    assert warning.cleared_at == NOW + datetime.timedelta(minutes=10)


def test_repeat_disputes_between_the_same_party_warn_once_each(tree, people, cats):
    first17 = "621102" + "19800101" + "123"
    zhang = first17 + id_check_digit(first17)
    neighbour = Category.objects.get(code="dispute-neighbour")
    cases = []
    for days in (3, 1):
        with time_machine.travel(NOW - datetime.timedelta(days=days), tick=False):
            case = report(people["resident"], neighbour)
            case_services.add_party(actor=people["dispatcher"], case=case, name="张建国", id_number=zhang)
            cases.append(case)
    services.refresh_warnings(now=NOW)
    repeats = open_of(WarningKind.REPEAT_DISPUTE)
    assert sorted(w.case_ids[0] for w in repeats) == [c.pk for c in cases]
    assert {w.key for w in repeats} == {f"repeat_dispute:{c.pk}" for c in cases}
    assert open_of(WarningKind.MARRIAGE_FAMILY) == []


def test_runs_are_idempotent(tree, people, marriage_warning):
    again = services.refresh_warnings(now=NOW + datetime.timedelta(minutes=10))
    assert (again.raised, again.updated, again.cleared) == (0, 0, 0)
    tasks.refresh_warnings.call_local()
    assert Warning.objects.filter(kind=WarningKind.MARRIAGE_FAMILY).count() == 1


def test_a_new_warning_is_announced_once_to_the_nearest_command_centre(tree, people, marriage_warning, client):
    _case, warning = marriage_warning
    told = Notification.objects.filter(kind="warning.raised")
    [notice] = told  # the grid's township has a dispatcher: the county above is not told
    assert notice.recipient == people["dispatcher"]
    assert notice.title == "新的风险预警：民转刑风险"
    assert notice.body == "小山村第1网格：民转刑风险，涉及1件事件。请到风险预警查看并签收。"
    services.refresh_warnings(now=NOW + datetime.timedelta(minutes=10))
    assert told.count() == 1
    client.force_login(people["dispatcher"])
    opened = client.post(reverse("command:message_open", args=[notice.pk]))
    assert opened.status_code == 302 and opened.url == reverse("command:warnings")


def test_without_a_township_command_centre_the_county_is_told(tree, people, cats):
    Membership.objects.filter(user=people["dispatcher"]).delete()
    reports_at(people, Category.objects.get(code="dispute-marriage"), [NOW - datetime.timedelta(hours=1)])
    services.refresh_warnings(now=NOW)
    assert {n.recipient for n in Notification.objects.filter(kind="warning.raised")} == {
        people["county_dispatcher"], people["county_supervisor"]}


def test_who_may_acknowledge(tree, people, make_staff, marriage_warning):
    _case, warning = marriage_warning
    with pytest.raises(NotFound):
        services.acknowledge_warning(actor=people["other_dispatcher"], warning=warning, note="已知悉")
    with pytest.raises(NotFound):
        services.acknowledge_warning(actor=people["resident"], warning=warning, note="已知悉")
    with pytest.raises(Forbidden):  # sees it (their grid), but field staff do not sign for warnings
        services.acknowledge_warning(actor=people["grid_worker"], warning=warning, note="已知悉")
    with pytest.raises(DomainError):
        services.acknowledge_warning(actor=people["dispatcher"], warning=warning, note="   ")
    with time_machine.travel(NOW + datetime.timedelta(minutes=20), tick=False):
        done = services.acknowledge_warning(actor=people["dispatcher"], warning=warning, note=" 已安排调解 ")
    assert (done.acknowledged_by, done.acknowledged_at, done.acknowledgement_note) == (
        people["dispatcher"], NOW + datetime.timedelta(minutes=20), "已安排调解")
    twice = services.acknowledge_warning(actor=people["county_supervisor"], warning=warning, note="再签")
    assert (twice.acknowledged_by, twice.acknowledgement_note) == (people["dispatcher"], "已安排调解")


def test_the_page_lists_only_warnings_in_scope_and_acknowledges(client, tree, people, marriage_warning):
    case, warning = marriage_warning
    url = reverse("command:warnings")
    client.force_login(people["other_dispatcher"])
    page = client.get(url).content.decode()
    assert f'id="warning-{warning.pk}"' not in page
    assert client.post(reverse("command:warning_acknowledge", args=[warning.pk]), {"note": "x"}).status_code == 404
    client.force_login(people["dispatcher"])
    page = client.get(url, {"kind": "marriage_family"}).content.decode()
    assert f'id="warning-{warning.pk}"' in page
    assert reverse("command:case", args=[case.pk]) in page
    assert "泊松分布单侧检验" in page
    assert 'name="note"' in page
    response = client.post(reverse("command:warning_acknowledge", args=[warning.pk]), {"note": "已安排调解"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "已安排调解" in page and 'name="note"' not in page
    assert client.get(url, {"kind": "hotspot"}).content.decode().count("data-kind=") == 0
