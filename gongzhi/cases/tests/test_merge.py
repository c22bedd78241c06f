"""Merging duplicates (services.merge_case) and finding them (selectors.suggest_duplicates)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.cases import selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Follower, Rating
from gongzhi.cases.tests.helpers import HERE, closed, kinds_of, offset
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


# Merging duplicates ----------------------------------------------------------------------------------------

def test_merged_reporters_follow_the_parent_hear_of_it_and_rate_it(tree, people, cats):
    parent = report(people["resident"], cats["env"])
    duplicate = report(people["neighbour"], cats["env"], description="村口的路灯不亮了")
    merged = services.merge_case(actor=people["dispatcher"], case=duplicate, merge_into=parent, note="同一盏路灯")
    assert merged.status == Status.CLOSED and merged.merged_into == parent
    follower = Follower.objects.get(case=parent, user=people["neighbour"])
    assert follower.via == duplicate
    note = Notification.objects.get(recipient=people["neighbour"], kind="case.merged")
    assert (note.target_type, note.target_id) == ("case", parent.pk) and parent.number in note.body
    assert not Notification.objects.filter(recipient=people["resident"], kind="case.merged").exists()

    # The neighbour sees the parent, finds both among their cases, and hears of its progress.
    assert selectors.case_for(people["neighbour"], parent.pk) == parent
    assert set(selectors.my_cases(people["neighbour"])) == {parent, duplicate}
    closed(people, tree, parent)
    assert {"case.accepted", "case.completed", "case.closed"} <= set(kinds_of(people["neighbour"]))
    rating = services.rate_case(actor=people["neighbour"], case=parent, score=Rating.Score.SATISFIED)
    assert rating.rater == people["neighbour"] and rating.case == parent


def test_merging_a_case_that_absorbed_others_brings_all_its_people_along(tree, people, cats):
    """A reporter is never a follower row of their own case; merging twice carries everyone to the end."""
    first = report(people["resident"], cats["env"])
    second = report(people["neighbour"], cats["env"])
    last = report(people["resident"], cats["env"], description="同一盏路灯，又反映一次")
    assert not Follower.objects.exists()
    services.merge_case(actor=people["dispatcher"], case=first, merge_into=second, note="同一盏路灯")
    services.merge_case(actor=people["dispatcher"], case=second, merge_into=last, note="同一盏路灯")
    # The resident reported `last` already, so only the neighbour joins it, through `second`.
    assert list(Follower.objects.filter(case=last).values_list("user", "via")) == [(people["neighbour"].pk,
                                                                                   second.pk)]
    assert set(selectors.my_cases(people["neighbour"])) == {second, last}


def test_merge_checks_its_target(tree, people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(DomainError):
        services.merge_case(actor=people["dispatcher"], case=case, merge_into=case, note="自己")
    finished = report(people["neighbour"], cats["env"])
    act(people["dispatcher"], finished, Action.REJECT, note="重复")
    with pytest.raises(DomainError):
        services.merge_case(actor=people["dispatcher"], case=case, merge_into=finished, note="并入已结案的")
    elsewhere = report(people["neighbour"], cats["env"], lng=104.625)  # the other township
    with pytest.raises(NotFound):
        services.merge_case(actor=people["dispatcher"], case=case, merge_into=elsewhere, note="跨乡镇")
    with pytest.raises(Forbidden):
        other = report(people["neighbour"], cats["env"])
        services.merge_case(actor=people["grid_worker"], case=case, merge_into=other, note="网格员无权合并")
    case.refresh_from_db()
    assert case.status == Status.REPORTED and case.merged_into is None
    assert Follower.objects.filter(via__isnull=False).count() == 0


# Duplicates ------------------------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)


@time_machine.travel(NOW, tick=False)
def test_duplicates_within_250_metres_of_the_same_category_open_and_recent(tree, people, cats):
    def at(north, east, category="env", days_ago=0):
        lat, lng = offset(north, east)
        with time_machine.travel(NOW - datetime.timedelta(days=days_ago), tick=False):
            return report(people["resident"], cats[category], lat=lat, lng=lng)

    near = at(200, 0)
    nearer = at(0, -50)
    at(300, 0)                       # too far
    at(180, 180)                     # inside the bounding box, but 255 m away
    at(0, 0, category="policy")      # another category
    at(0, 10, days_ago=31)           # too old
    recent_enough = at(0, 20, days_ago=29)
    rejected = at(0, 5)
    act(people["dispatcher"], rejected, Action.REJECT, note="不属实")

    def suggested(**kwargs):
        return [s.case for s in selectors.suggest_duplicates(category=cats["env"], lat=lat, lng=lng, **kwargs)]

    lat, lng = HERE
    # Without a text only place, time and category rank them: the 29-day-old one, though nearest, is last.
    found = suggested()
    assert found == [nearer, near, recent_enough]
    assert suggested(exclude=nearer) == [near, recent_enough]
    assert suggested(now=NOW + datetime.timedelta(days=2)) == [nearer, near]
    # Shown to someone, only what they may see.
    assert suggested(user=people["other_dispatcher"]) == []
    assert suggested(user=people["dispatcher"]) == found


def test_merged_cases_are_not_suggested(tree, people, cats):
    parent = report(people["resident"], cats["env"])
    duplicate = report(people["neighbour"], cats["env"])
    services.merge_case(actor=people["dispatcher"], case=duplicate, merge_into=parent, note="重复")
    assert [s.case for s in selectors.suggest_duplicates(category=cats["env"], lat=HERE[0], lng=HERE[1])] == [parent]


def test_distance_is_measured_on_the_sphere():
    assert selectors.distance_m(*HERE, *offset(250, 0)) == pytest.approx(250, abs=0.01)
    assert selectors.distance_m(*HERE, *offset(0, 250)) == pytest.approx(250, abs=0.5)
