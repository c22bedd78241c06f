"""The resident side: follow-up questions, return visits, ratings, merging duplicates and finding them,
timelines and a resident's own cases."""

import datetime
import math
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.cases import selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog, Follower, FollowUp, Rating, ReturnVisit
from gongzhi.cases.services import feedback
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HERE = (35.585, 104.605)
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180


def offset(metres_north: float, metres_east: float) -> tuple[float, float]:
    lat, lng = HERE
    return (lat + metres_north / METRES_PER_DEGREE,
            lng + metres_east / (METRES_PER_DEGREE * math.cos(math.radians(lat))))


def dispatched(people, tree, case):
    act(people["dispatcher"], case, Action.ACCEPT)
    return act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=(tree["police"],))


def handled(people, tree, case):
    dispatched(people, tree, case)
    act(people["justice"], case, Action.SIGN)
    return act(people["justice"], case, Action.COMPLETE, note="路灯已修复")


def closed(people, tree, case):
    handled(people, tree, case)
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：路灯已亮")
    return act(people["dispatcher"], case, Action.CLOSE)


def kinds_of(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# Follow-up questions ---------------------------------------------------------------------------------------

def test_follow_up_reaches_the_lead_units_staff_and_the_badge_falls_when_read(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    follow_up = feedback.ask_follow_up(actor=people["resident"], case=case, question="  什么时候能修好？ ")
    assert follow_up.addressed_to == tree["justice"] and follow_up.question_log.note == "什么时候能修好？"
    assert follow_up.question_log.action == Action.FOLLOW_UP and follow_up.question_log.is_public
    assert "case.follow_up" in kinds_of(people["justice"])
    assert "case.follow_up" not in kinds_of(people["police"])  # assisting, not leading
    assert selectors.unread_follow_ups(people["justice"]) == 1
    assert selectors.unread_follow_ups(people["police"]) == 0
    assert selectors.unread_follow_ups(people["dispatcher"]) == 0

    assert feedback.mark_follow_ups_read(actor=people["justice"], case=case) == 1
    assert selectors.unread_follow_ups(people["justice"]) == 0
    assert feedback.mark_follow_ups_read(actor=people["justice"], case=case) == 0

    answered = feedback.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="本周五前修好")
    assert answered.answer_log.action == Action.REPLY and answered.answer_log.note == "本周五前修好"
    reply = Notification.objects.get(recipient=people["resident"], kind="case.reply")
    assert "本周五前修好" in reply.body and reply.link == f"/cases/{case.pk}/"
    with pytest.raises(Conflict):
        feedback.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="再答一次")
    assert CaseLog.objects.filter(case=case, action=Action.REPLY).count() == 1


def test_answering_marks_the_question_read(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    follow_up = feedback.ask_follow_up(actor=people["resident"], case=case, question="进度如何？")
    feedback.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="已安排人员")
    assert selectors.unread_follow_ups(people["justice"]) == 0


def test_a_question_before_dispatch_goes_to_the_holding_command_centre(tree, people, cats):
    case = report(people["resident"], cats["env"])
    follow_up = feedback.ask_follow_up(actor=people["resident"], case=case, question="有人管吗？")
    assert follow_up.addressed_to == tree["town"]
    assert "case.follow_up" in kinds_of(people["dispatcher"])
    assert selectors.unread_follow_ups(people["dispatcher"]) == 1
    # The dispatcher answers: the holder may reply before any unit is assigned.
    feedback.answer_follow_up(actor=people["dispatcher"], follow_up=follow_up, answer="已受理，正在安排")


def test_only_the_reporter_or_a_follower_may_ask(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(NotFound):
        feedback.ask_follow_up(actor=people["stranger"], case=case, question="我也想问")
    with pytest.raises(Forbidden):
        feedback.ask_follow_up(actor=people["grid_worker"], case=case, question="代问一下")
    with pytest.raises(DomainError) as err:
        feedback.ask_follow_up(actor=people["resident"], case=case, question="   ")
    assert err.value.field == "question"
    assert not FollowUp.objects.exists() and not case.logs.filter(action=Action.FOLLOW_UP).exists()
    # A follower (here added by hand; merge_case adds them) may ask.
    Follower.objects.create(case=case, user=people["neighbour"])
    assert feedback.ask_follow_up(actor=people["neighbour"], case=case, question="我家门口也是").pk


def test_a_resident_waits_for_answers_before_asking_again_and_again(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    for n in range(feedback.MAX_OPEN_FOLLOW_UPS):
        feedback.ask_follow_up(actor=people["resident"], case=case, question=f"第{n + 1}次追问")
    with pytest.raises(DomainError) as err:
        feedback.ask_follow_up(actor=people["resident"], case=case, question="又一次")
    assert err.value.code == "too_many_follow_ups"
    feedback.answer_follow_up(actor=people["justice"], follow_up=FollowUp.objects.first(), answer="答复")
    feedback.ask_follow_up(actor=people["resident"], case=case, question="谢谢，还有一个问题")


# Return visits ---------------------------------------------------------------------------------------------

def test_settled_return_visit_confirms_the_case(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    visit = feedback.record_return_visit(actor=people["grid_worker"], case=case,
                                         method=ReturnVisit.Method.PHONE, settled=True, note="群众表示已修好")
    case.refresh_from_db()
    assert case.status == Status.CONFIRMED
    assert visit.log.action == Action.CONFIRM and visit.settled and visit.handling_unit == tree["justice"]
    assert visit.visitor == people["grid_worker"]


def test_unsettled_return_visit_reopens_and_counts_against_the_unit(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    visit = feedback.record_return_visit(actor=people["dispatcher"], case=case,
                                         method=ReturnVisit.Method.VISIT, settled=False, note="路灯仍不亮")
    case.refresh_from_db()
    assert case.status == Status.REOPENED and visit.log.action == Action.VISIT_FAILED
    assert ReturnVisit.objects.filter(handling_unit=tree["justice"], settled=False).count() == 1
    assert selectors.current_round(case) == 2


def test_return_visits_are_separated_from_handling_and_checked(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(Forbidden):  # the unit that did the work does not check it
        feedback.record_return_visit(actor=people["justice"], case=case, method="phone", settled=True,
                                     note="我们自己回访")
    with pytest.raises(DomainError) as err:
        feedback.record_return_visit(actor=people["grid_worker"], case=case, method="letter", settled=True,
                                     note="写信")
    assert err.value.field == "method"
    with pytest.raises(DomainError) as err:
        feedback.record_return_visit(actor=people["grid_worker"], case=case, method="phone", settled=True,
                                     note=" ")
    assert err.value.field == "note"
    with pytest.raises(NotFound):
        feedback.record_return_visit(actor=people["other_grid_worker"], case=case, method="phone", settled=True,
                                     note="不归我管")
    case.refresh_from_db()
    assert case.status == Status.HANDLED and not ReturnVisit.objects.exists()


def test_who_answered_on_the_spot_does_not_confirm_it(tree, people, cats, make_staff):
    case = report(people["resident"], cats["env"])
    act(people["grid_worker"], case, Action.RESOLVE_ON_SPOT, note="当场更换灯泡")
    with pytest.raises(Forbidden):
        feedback.record_return_visit(actor=people["grid_worker"], case=case, method="phone", settled=True,
                                     note="自己回访自己")
    visit = feedback.record_return_visit(actor=people["dispatcher"], case=case, method="phone", settled=True,
                                         note="已解决")
    assert visit.handling_unit == tree["grid"]


# Ratings ---------------------------------------------------------------------------------------------------

def test_satisfied_rating_of_a_closed_case(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    rating = feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.SATISFIED, comment="很及时")
    case.refresh_from_db()
    assert case.status == Status.RATED
    assert (rating.round, rating.handling_unit, rating.comment) == (1, tree["justice"], "很及时")
    assert case.logs.last().action == Action.RATE


def test_satisfied_only_once_closed(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.BASIC)
    assert err.value.code == "invalid_state" and not Rating.objects.exists()


def test_unsatisfied_needs_a_comment_then_reopens_and_counts_against_the_unit(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="  ")
    assert err.value.field == "comment"
    case.refresh_from_db()
    assert case.status == Status.HANDLED and not Rating.objects.exists()

    rating = feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED,
                                comment="灯还是不亮")
    case.refresh_from_db()
    assert case.status == Status.REOPENED
    assert (rating.round, rating.handling_unit) == (1, tree["justice"])
    assert "case.reopened" in kinds_of(people["dispatcher"])
    # The next round may be rated again, by the same person.
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["police"])
    act(people["police"], case, Action.SIGN)
    act(people["police"], case, Action.COMPLETE)
    again = feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="仍然不行")
    assert (again.round, again.handling_unit) == (2, tree["police"])
    assert Rating.objects.filter(handling_unit=tree["justice"], score=Rating.Score.UNSATISFIED).count() == 1


def test_one_rating_per_person_per_round(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.BASIC)
    with pytest.raises(Conflict) as err:
        feedback.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="改主意了")
    assert err.value.code == "already_rated"
    assert Rating.objects.count() == 1


def test_bad_scores_and_staff_ratings_are_refused(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        feedback.rate_case(actor=people["resident"], case=case, score="excellent")
    assert err.value.field == "score"
    with pytest.raises(Forbidden):
        feedback.rate_case(actor=people["dispatcher"], case=case, score=Rating.Score.SATISFIED)
    with pytest.raises(NotFound):
        feedback.rate_case(actor=people["stranger"], case=case, score=Rating.Score.SATISFIED)
    assert not Rating.objects.exists()


# Merging duplicates ----------------------------------------------------------------------------------------

def test_merged_reporters_follow_the_parent_hear_of_it_and_rate_it(tree, people, cats):
    parent = report(people["resident"], cats["env"])
    duplicate = report(people["neighbour"], cats["env"], description="村口的路灯不亮了")
    merged = feedback.merge_case(actor=people["dispatcher"], case=duplicate, into=parent, note="同一盏路灯")
    assert merged.status == Status.CLOSED and merged.merged_into == parent
    follower = Follower.objects.get(case=parent, user=people["neighbour"])
    assert follower.via == duplicate
    note = Notification.objects.get(recipient=people["neighbour"], kind="case.merged")
    assert note.link == f"/cases/{parent.pk}/" and parent.number in note.body
    assert not Notification.objects.filter(recipient=people["resident"], kind="case.merged").exists()

    # The neighbour sees the parent, finds both among their cases, and hears of its progress.
    assert selectors.case_for(people["neighbour"], parent.pk) == parent
    assert set(selectors.my_cases(people["neighbour"])) == {parent, duplicate}
    closed(people, tree, parent)
    assert {"case.accepted", "case.completed", "case.closed"} <= set(kinds_of(people["neighbour"]))
    rating = feedback.rate_case(actor=people["neighbour"], case=parent, score=Rating.Score.SATISFIED)
    assert rating.rater == people["neighbour"] and rating.case == parent


def test_merging_a_case_that_absorbed_others_brings_all_its_people_along(tree, people, cats):
    """A reporter is never a follower row of their own case; merging twice carries everyone to the end."""
    first = report(people["resident"], cats["env"])
    second = report(people["neighbour"], cats["env"])
    last = report(people["resident"], cats["env"], description="同一盏路灯，又反映一次")
    assert not Follower.objects.exists()
    feedback.merge_case(actor=people["dispatcher"], case=first, into=second, note="同一盏路灯")
    feedback.merge_case(actor=people["dispatcher"], case=second, into=last, note="同一盏路灯")
    # The resident reported `last` already, so only the neighbour joins it, through `second`.
    assert list(Follower.objects.filter(case=last).values_list("user", "via")) == [(people["neighbour"].pk,
                                                                                   second.pk)]
    assert set(selectors.my_cases(people["neighbour"])) == {second, last}


def test_merge_checks_its_target(tree, people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(DomainError):
        feedback.merge_case(actor=people["dispatcher"], case=case, into=case, note="自己")
    finished = report(people["neighbour"], cats["env"])
    act(people["dispatcher"], finished, Action.REJECT, note="重复")
    with pytest.raises(DomainError):
        feedback.merge_case(actor=people["dispatcher"], case=case, into=finished, note="并入已结案的")
    elsewhere = report(people["neighbour"], cats["env"], lng=104.625)  # the other township
    with pytest.raises(NotFound):
        feedback.merge_case(actor=people["dispatcher"], case=case, into=elsewhere, note="跨乡镇")
    with pytest.raises(Forbidden):
        other = report(people["neighbour"], cats["env"])
        feedback.merge_case(actor=people["grid_worker"], case=case, into=other, note="网格员无权合并")
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

    lat, lng = HERE
    found = feedback.suggest_duplicates(category=cats["env"], lat=lat, lng=lng)
    assert found == [recent_enough, nearer, near]
    assert feedback.suggest_duplicates(category=cats["env"], lat=lat, lng=lng, exclude=nearer) == [
        recent_enough, near]
    assert feedback.suggest_duplicates(category=cats["env"], lat=lat, lng=lng,
                                       now=NOW + datetime.timedelta(days=2)) == [nearer, near]
    # Shown to someone, only what they may see.
    assert feedback.suggest_duplicates(category=cats["env"], lat=lat, lng=lng,
                                       user=people["other_dispatcher"]) == []
    assert feedback.suggest_duplicates(category=cats["env"], lat=lat, lng=lng, user=people["dispatcher"]) == found


def test_merged_cases_are_not_suggested(tree, people, cats):
    parent = report(people["resident"], cats["env"])
    duplicate = report(people["neighbour"], cats["env"])
    feedback.merge_case(actor=people["dispatcher"], case=duplicate, into=parent, note="重复")
    assert feedback.suggest_duplicates(category=cats["env"], lat=HERE[0], lng=HERE[1]) == [parent]


def test_distance_is_measured_on_the_sphere():
    assert feedback.distance_m(*HERE, *offset(250, 0)) == pytest.approx(250, abs=0.01)
    assert feedback.distance_m(*HERE, *offset(0, 250)) == pytest.approx(250, abs=0.5)


# Timelines and a resident's cases --------------------------------------------------------------------------

def test_anonymous_reporters_are_never_named_on_a_timeline(tree, people, cats):
    case, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=cats["env"],
                                          description="有人半夜施工扰民", lat=HERE[0], lng=HERE[1],
                                          is_anonymous=True)
    dispatched(people, tree, case)
    feedback.ask_follow_up(actor=people["resident"], case=case, question="还在施工")
    act(people["justice"], case, Action.RETURN, note="非本所职责")

    public = selectors.public_timeline(case)
    assert [e.action for e in public] == ["report", "accept", "dispatch", "follow_up"]  # the return is internal
    names = {e.action: e.actor_name for e in public}
    assert names["report"] == names["follow_up"] == "匿名群众"
    assert names["accept"] == "disp"  # staff are named
    staff_view = selectors.timeline_for(people["dispatcher"], case)
    assert [e.action for e in staff_view][-1] == "return"
    everything = [e.actor_name for e in public + staff_view]
    assert not any("王" in name or "res" == name for name in everything)


def test_named_residents_are_masked_on_the_public_timeline(tree, people, cats):
    case = report(people["resident"], cats["env"])
    assert selectors.public_timeline(case)[0].actor_name == "王**"
    assert selectors.public_timeline(case, viewer=people["neighbour"])[0].actor_name == "王**"
    assert selectors.timeline_for(people["resident"], case)[0].actor_name == "我"  # their own step
    assert selectors.timeline_for(people["dispatcher"], case)[0].actor_name == "王秀兰"
    # The resident sees only the public steps, through the same call.
    assert [e.is_public for e in selectors.timeline_for(people["resident"], case)] == [True]


def test_a_resident_sees_only_their_own_cases(tree, people, cats):
    mine = report(people["resident"], cats["env"])
    theirs = report(people["neighbour"], cats["env"])
    assert list(selectors.my_cases(people["resident"])) == [mine]
    assert selectors.case_for(people["resident"], mine.pk) == mine
    for who, case in (("resident", theirs), ("other_dispatcher", mine), ("stranger", mine)):
        with pytest.raises(NotFound):
            selectors.case_for(people[who], case.pk)
    with pytest.raises(NotFound):
        selectors.timeline_for(people["stranger"], mine)
    assert list(selectors.my_cases(people["dispatcher"])) == []
    assert Case.objects.count() == 2
