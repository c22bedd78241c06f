"""Unvisited key persons (重点人员未按期走访) as risk warnings under a frozen clock: raised the day after the date the
plan owes a visit and not before, once (a rerun raises nothing), cleared by a visit or by ending the listing; the
responsible worker (else the grid's grid workers) told once per warning, without the person's name; and the
warnings page, where only posts with key-person access see the warning and the name."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.analytics import selectors, services
from gongzhi.analytics.models import Warning, WarningKind
from gongzhi.core.errors import NotFound
from gongzhi.notifications.models import Notification
from gongzhi.registry.models import Visit
from gongzhi.registry.services import key_persons
from gongzhi.registry.services.visits import VisitTarget, record_visit
from gongzhi.registry.tests.key_person_factories import listed, person
from gongzhi.web.targets import url_for

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)  # a high-risk person listed now owes a visit by 3/8
LAST_MINUTE_OF_DUE_DAY = datetime.datetime(2026, 3, 8, 23, 59, tzinfo=SHANGHAI)
NEXT_MORNING = datetime.datetime(2026, 3, 9, 0, 1, tzinfo=SHANGHAI)
NAME = "欧阳建国"


@pytest.fixture
def cast(tree, make_staff):
    return {
        "worker": make_staff("wgy", tree["grid"], Role.GRID_WORKER),
        "worker_b": make_staff("wgy-b", tree["grid"], Role.GRID_WORKER),
        "leader": make_staff("wgz", tree["grid"], Role.GRID_LEADER),
        "other_worker": make_staff("wgy2", tree["grid2"], Role.GRID_WORKER),
        "dispatcher": make_staff("disp", tree["town"], Role.DISPATCHER),
        "handler": make_staff("sifa", tree["justice"], Role.DEPT_HANDLER),
    }


@pytest.fixture
def overdue_soon(tree, cast):
    with time_machine.travel(START, tick=False):
        return listed(cast["dispatcher"], person(tree["grid"], NAME), responsible=cast["worker"])


def refresh(when):
    with time_machine.travel(when, tick=False):
        return services.refresh_warnings(now=when)


def open_key_person_warnings():
    return list(Warning.objects.filter(kind=WarningKind.UNVISITED_KEY_PERSON, cleared_at__isnull=True))


def test_the_warning_is_raised_the_day_after_the_due_date_and_not_before(tree, overdue_soon):
    assert refresh(LAST_MINUTE_OF_DUE_DAY).raised == 0
    assert open_key_person_warnings() == []
    assert refresh(NEXT_MORNING).raised == 1
    [warning] = open_key_person_warnings()
    assert (warning.key, warning.unit, warning.path) == (f"key_person:{overdue_soon.pk}", tree["grid"],
                                                          tree["grid"].path)
    assert warning.details == {"key_person": overdue_soon.pk, "due": "2026-03-08", "days_overdue": 1,
                               "risk_level": "high"}
    assert warning.case_ids == []
    # Raised once: reruns the same day and the days after only update the figures.
    assert refresh(NEXT_MORNING + datetime.timedelta(minutes=10)).raised == 0
    result = refresh(NEXT_MORNING + datetime.timedelta(days=2))
    assert (result.raised, result.updated) == (0, 1)
    warning.refresh_from_db()
    assert (warning.details["days_overdue"], warning.cleared_at) == (3, None)
    assert Warning.objects.filter(kind=WarningKind.UNVISITED_KEY_PERSON).count() == 1


def test_a_visit_clears_the_warning_and_a_later_lapse_raises_a_new_one(overdue_soon, cast):
    refresh(NEXT_MORNING)
    visited = NEXT_MORNING + datetime.timedelta(hours=9)
    with time_machine.travel(visited, tick=False):
        record_visit(actor=cast["worker"], kind=Visit.Kind.KEY_PERSON, target=VisitTarget(key_person=overdue_soon),
                     notes="上门见到本人，情绪稳定。")
    assert refresh(visited + datetime.timedelta(minutes=10)).cleared == 1
    assert open_key_person_warnings() == []
    assert refresh(datetime.datetime(2026, 3, 16, 23, 0, tzinfo=SHANGHAI)).raised == 0  # owed by 3/16
    assert refresh(datetime.datetime(2026, 3, 17, 8, 0, tzinfo=SHANGHAI)).raised == 1
    assert Warning.objects.filter(key=f"key_person:{overdue_soon.pk}").count() == 2


def test_ending_the_listing_clears_the_warning(overdue_soon, cast):
    refresh(NEXT_MORNING)
    with time_machine.travel(NEXT_MORNING, tick=False):
        key_persons.end_listing(actor=cast["worker"], key_person=overdue_soon, reason="刑满释放帮教期满")
    assert refresh(NEXT_MORNING + datetime.timedelta(minutes=10)).cleared == 1
    assert open_key_person_warnings() == []


def test_the_responsible_worker_is_told_once_without_the_name(overdue_soon, cast):
    refresh(NEXT_MORNING)
    refresh(NEXT_MORNING + datetime.timedelta(days=1))
    [notice] = Notification.objects.filter(kind="warning.key_person")
    assert notice.recipient == cast["worker"]
    assert (notice.target_type, notice.target_id) == ("key_person", overdue_soon.pk)
    assert NAME not in notice.title + notice.body
    assert "2026-03-08" in notice.body and "已逾期1天" in notice.body and "小山村第1网格" in notice.body
    assert url_for(notice, portal="worker") == reverse("worker:key_person", args=[overdue_soon.pk])
    # The command centre sees it on its page, not in its inbox.
    assert not Notification.objects.filter(recipient=cast["dispatcher"]).exists()


def test_without_a_responsible_worker_the_grids_workers_are_told(tree, cast):
    with time_machine.travel(START, tick=False):
        listed(cast["dispatcher"], person(tree["grid"], NAME))
    refresh(NEXT_MORNING)
    told = set(Notification.objects.filter(kind="warning.key_person").values_list("recipient__username", flat=True))
    assert told == {"wgy", "wgy-b"}


def test_a_responsible_worker_who_left_the_grid_is_replaced_by_its_workers(overdue_soon, cast):
    cast["worker"].memberships.update(is_active=False)
    refresh(NEXT_MORNING)
    told = set(Notification.objects.filter(kind="warning.key_person").values_list("recipient__username", flat=True))
    assert told == {"wgy-b"}


def test_only_posts_with_key_person_access_see_the_warning_and_the_name(client, overdue_soon, cast):
    refresh(NEXT_MORNING)
    [warning] = open_key_person_warnings()
    # A department handler of the township: in scope, without key-person access.
    assert not selectors.open_warnings(cast["handler"]).filter(pk=warning.pk).exists()
    with pytest.raises(NotFound):
        selectors.warning_for(cast["handler"], warning.pk)
    client.force_login(cast["handler"])
    page = client.get(reverse("command:warnings")).content.decode()
    assert NAME not in page and f'id="warning-{warning.pk}"' not in page
    assert client.post(reverse("command:warning_acknowledge", args=[warning.pk]), {"note": "已知"}).status_code == 404
    # The township's dispatcher sees it, with the name linking to the record.
    client.force_login(cast["dispatcher"])
    page = client.get(reverse("command:warnings")).content.decode()
    assert f'id="warning-{warning.pk}"' in page
    assert NAME in page and reverse("command:key_person", args=[overdue_soon.pk]) in page
    assert "已逾期1天" in page
    # A worker of another grid neither (it is not theirs), even through the selector.
    assert selectors.warning_key_persons(cast["other_worker"], [warning]) == {}
    assert not selectors.open_warnings(cast["other_worker"]).filter(pk=warning.pk).exists()
