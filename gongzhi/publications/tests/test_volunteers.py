"""Volunteers (M26): teams and applications, activities and their slots (never oversubscribed), attendance and
hours, and points for hours given once by the township's catalogue."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification
from gongzhi.points.models import Award, RuleCategory, Trigger
from gongzhi.points.services import rules
from gongzhi.publications.factories import make_staff, published
from gongzhi.publications.models import Participation, Status, TeamMember, VolunteerTeam
from gongzhi.publications.selectors import volunteers as selectors
from gongzhi.publications.services import core
from gongzhi.publications.services import volunteers as services

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 6, 6, 8, 0, tzinfo=datetime.UTC)


def _activity(pub, *, slots=2, members_only=False, teams=(), start=START, hours=3):
    item = core.create_draft(actor=pub.village_admin, kind="volunteer_activity", author_unit=pub.tree["village"],
                             title="小山村河道垃圾清理")
    services.save_activity(actor=pub.village_admin, publication=item, fields=services.ActivityFields(
        place="小山村村委会门口集合", starts_at=start, ends_at=start + datetime.timedelta(hours=hours), slots=slots,
        team_ids=[t.pk for t in teams], members_only=members_only))
    return core.publish_now(actor=pub.village_admin, publication=item)


def _team(pub, name="环境整治志愿服务队"):
    return services.create_team(actor=pub.village_admin, unit=pub.tree["village"],
                                fields=services.TeamFields(name=name, description="河道、村道保洁"))


@pytest.fixture(autouse=True)
def _before_start():
    with time_machine.travel(START - datetime.timedelta(days=2), tick=False):
        yield


def test_a_resident_applies_to_a_team_and_the_village_decides(pub, django_capture_on_commit_callbacks):
    team = _team(pub)
    with django_capture_on_commit_callbacks(execute=True):
        member = services.apply_to_team(user=pub.resident, team=team, note="退休教师，有空")
    assert member.status == TeamMember.Status.APPLIED
    assert services.apply_to_team(user=pub.resident, team=team) == member  # a second tap
    assert Notification.objects.filter(recipient=pub.village_admin, kind="volunteer.applied").count() == 1
    with pytest.raises(NotFound):
        services.review_member(actor=pub.other_village_admin, member=member, approve=True)
    with pytest.raises(DomainError):
        services.review_member(actor=pub.village_admin, member=member, approve=False)  # a reason is needed
    with django_capture_on_commit_callbacks(execute=True):
        services.review_member(actor=pub.village_admin, member=member, approve=True)
    member.refresh_from_db()
    assert member.status == TeamMember.Status.APPROVED and member.reviewed_by == pub.village_admin
    assert Notification.objects.filter(recipient=pub.resident, kind="volunteer.reviewed").count() == 1
    with pytest.raises(Conflict):
        services.review_member(actor=pub.village_admin, member=member, approve=False, note="不合适")
    assert [v.mine for v in selectors.teams_for_resident(pub.resident)] == [member]


def test_teams_are_for_their_own_villages_residents(pub):
    team = _team(pub)
    with pytest.raises(NotFound):
        services.apply_to_team(user=pub.village2_resident, team=team)
    with pytest.raises(Forbidden):
        services.apply_to_team(user=pub.unverified, team=team)
    assert selectors.teams_for_resident(pub.village2_resident) == []
    with pytest.raises(Forbidden):
        services.create_team(actor=pub.other_village_admin, unit=pub.tree["village"],
                             fields=services.TeamFields(name="平安守护"))
    with pytest.raises(DomainError):
        _team(pub, name="环境整治志愿服务队") and _team(pub, name="环境整治志愿服务队")
    assert VolunteerTeam.objects.count() == 1


def test_an_activity_needs_its_facts_and_sane_ones(pub):
    item = core.create_draft(actor=pub.village_admin, kind="volunteer_activity", author_unit=pub.tree["village"],
                             title="敬老院义务理发")
    with pytest.raises(DomainError):
        core.publish_now(actor=pub.village_admin, publication=item)
    for bad in [dict(slots=0), dict(ends_at=START), dict(place=""), dict(ends_at=START + datetime.timedelta(days=9))]:
        fields = dict(place="八里镇敬老院", starts_at=START, ends_at=START + datetime.timedelta(hours=2), slots=5)
        fields.update(bad)
        with pytest.raises(DomainError):
            services.save_activity(actor=pub.village_admin, publication=item,
                                   fields=services.ActivityFields(**fields))
    assert item.status == Status.DRAFT


def test_slots_are_never_oversubscribed(pub):
    item = _activity(pub, slots=1)
    services.sign_up(user=pub.resident, publication=item)
    assert services.sign_up(user=pub.resident, publication=item).status == Participation.Status.SIGNED_UP
    with pytest.raises(Conflict) as err:
        services.sign_up(user=pub.neighbour, publication=item)
    assert err.value.code == "activity_full"
    services.cancel_sign_up(user=pub.resident, publication=item)
    services.sign_up(user=pub.neighbour, publication=item)
    with pytest.raises(Conflict):
        services.sign_up(user=pub.resident, publication=item)
    assert Participation.objects.filter(status=Participation.Status.SIGNED_UP).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_residents_taking_the_last_slot_at_once_get_one_slot(pub):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    item = _activity(pub, slots=1)
    results = []

    def take(user):
        try:
            services.sign_up(user=user, publication=item)
            results.append("ok")
        except Conflict:
            results.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in (pub.resident, pub.neighbour)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["full", "ok"]


def test_who_may_sign_up(pub):
    team = _team(pub)
    item = _activity(pub, members_only=True, teams=[team])
    with pytest.raises(NotFound):
        services.sign_up(user=pub.village2_resident, publication=item)
    with pytest.raises(Forbidden) as err:
        services.sign_up(user=pub.resident, publication=item)
    assert "服务队成员" in str(err.value.message)
    member = services.apply_to_team(user=pub.resident, team=team)
    services.review_member(actor=pub.village_admin, member=member, approve=True)
    services.sign_up(user=pub.resident, publication=item)
    with time_machine.travel(START + datetime.timedelta(minutes=1), tick=False):
        with pytest.raises(Conflict):
            services.sign_up(user=pub.neighbour, publication=item)
        with pytest.raises(Conflict):
            services.cancel_sign_up(user=pub.resident, publication=item)


def _hours_rule(pub, points=2, cap=None):
    category = RuleCategory.objects.create(township=pub.tree["town"], name="志愿服务")
    return rules.add_item(actor=None, category=category, fields=rules.ItemFields(
        name="志愿服务时长（每小时）", points=points, claimable=False, cap_count=cap, trigger=Trigger.VOLUNTEER_HOURS))


def test_attendance_and_hours_award_points_once(points_world, pub, django_capture_on_commit_callbacks):
    volunteer = points_world.resident_user  # a verified household head in 小山村第1网格
    _hours_rule(pub, points=2)
    item = _activity(pub, slots=3, hours=3)
    mine = services.sign_up(user=volunteer, publication=item)
    other = services.sign_up(user=pub.neighbour, publication=item)  # no register record: no points
    with pytest.raises(Conflict):
        services.record_attendance(actor=pub.village_admin, publication=item,
                                   entries=[services.AttendanceEntry(mine.pk, True)])
    with time_machine.travel(START + datetime.timedelta(hours=4), tick=False):
        with pytest.raises(NotFound):
            services.record_attendance(actor=pub.other_village_admin, publication=item,
                                       entries=[services.AttendanceEntry(mine.pk, True)])
        entries = [services.AttendanceEntry(mine.pk, True, Decimal("2.5")), services.AttendanceEntry(other.pk, True)]
        with django_capture_on_commit_callbacks(execute=True):
            services.record_attendance(actor=pub.village_station, publication=item, entries=entries)
            services.record_attendance(actor=pub.village_station, publication=item, entries=entries)  # again
        mine.refresh_from_db()
        other.refresh_from_db()
        assert (mine.attended, mine.hours, other.hours) == (True, Decimal("2.5"), Decimal("3.0"))
        [award] = Award.objects.all()
        assert (award.points, award.account, award.source_key) == (5, points_world.account, f"volunteer:{mine.pk}")
        assert mine.award == award and other.award is None
        points_world.account.refresh_from_db()
        record = selectors.record_of(volunteer)
        assert (record.total_hours, record.activities_attended, record.points) == (Decimal("2.5"), 1, 5)
    with time_machine.travel(START + datetime.timedelta(hours=5), tick=False):
        services.record_attendance(actor=pub.village_station, publication=item,
                                   entries=[services.AttendanceEntry(mine.pk, True, Decimal(4))])
    assert Award.objects.count() == 1


def test_without_a_rule_hours_are_recorded_without_points(points_world, pub):
    item = _activity(pub)
    mine = services.sign_up(user=points_world.resident_user, publication=item)
    with time_machine.travel(START + datetime.timedelta(hours=4), tick=False):
        with pytest.raises(DomainError):
            services.parse_hours("2.3")
        services.record_attendance(actor=pub.village_admin, publication=item,
                                   entries=[services.AttendanceEntry(mine.pk, False)])
    mine.refresh_from_db()
    assert (mine.attended, mine.hours, mine.award) == (False, Decimal(0), None)
    assert not Award.objects.exists()
    assert services.parse_hours("２．５") == Decimal("2.5")


def test_withdrawing_an_activity_tells_those_signed_up(pub, django_capture_on_commit_callbacks):
    item = _activity(pub)
    services.sign_up(user=pub.resident, publication=item)
    with django_capture_on_commit_callbacks(execute=True):
        core.withdraw(actor=pub.village_admin, publication=item, reason="天气原因")
    assert Notification.objects.filter(recipient=pub.resident, kind="volunteer.cancelled").count() == 1


def test_a_township_dispatcher_manages_its_villages_teams(pub):
    team = _team(pub)
    assert list(selectors.managed_teams(pub.dispatcher)) == [team]
    assert list(selectors.managed_teams(pub.other_dispatcher)) == []
    station = make_staff("vol_station", pub.tree["village2"], "village_station")
    assert list(selectors.managed_teams(station)) == []
    assert published  # the factory stays importable for other tests
    assert timezone.now() < START
