"""The resident side: follow-up questions, return visits, ratings, timelines and a resident's own cases."""

import uuid

import pytest

from gongzhi.cases import selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog, Follower, FollowUp, Rating, ReturnVisit
from gongzhi.cases.tests.helpers import HERE, closed, dispatched, handled, kinds_of
from gongzhi.cases.workflow import Action, Status
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db


# Follow-up questions ---------------------------------------------------------------------------------------

def test_follow_up_reaches_the_lead_units_staff_and_the_badge_falls_when_read(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    follow_up = services.ask_follow_up(actor=people["resident"], case=case, question="  什么时候能修好？ ")
    assert follow_up.addressed_to == tree["justice"] and follow_up.question_log.note == "什么时候能修好？"
    assert follow_up.question_log.action == Action.FOLLOW_UP and follow_up.question_log.is_public
    assert "case.follow_up" in kinds_of(people["justice"])
    assert "case.follow_up" not in kinds_of(people["police"])  # assisting, not leading
    assert selectors.unread_follow_ups(people["justice"]) == 1
    assert selectors.unread_follow_ups(people["police"]) == 0
    assert selectors.unread_follow_ups(people["dispatcher"]) == 0

    assert services.mark_follow_ups_read(actor=people["justice"], case=case) == 1
    assert selectors.unread_follow_ups(people["justice"]) == 0
    assert services.mark_follow_ups_read(actor=people["justice"], case=case) == 0

    answered = services.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="本周五前修好")
    assert answered.answer_log.action == Action.REPLY and answered.answer_log.note == "本周五前修好"
    reply = Notification.objects.get(recipient=people["resident"], kind="case.reply")
    assert "本周五前修好" in reply.body and (reply.target_type, reply.target_id) == ("case", case.pk)
    with pytest.raises(Conflict):
        services.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="再答一次")
    assert CaseLog.objects.filter(case=case, action=Action.REPLY).count() == 1


def test_answering_marks_the_question_read(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    follow_up = services.ask_follow_up(actor=people["resident"], case=case, question="进度如何？")
    services.answer_follow_up(actor=people["justice"], follow_up=follow_up, answer="已安排人员")
    assert selectors.unread_follow_ups(people["justice"]) == 0


def test_a_question_before_dispatch_goes_to_the_holding_command_centre(tree, people, cats):
    case = report(people["resident"], cats["env"])
    follow_up = services.ask_follow_up(actor=people["resident"], case=case, question="有人管吗？")
    assert follow_up.addressed_to == tree["town"]
    assert "case.follow_up" in kinds_of(people["dispatcher"])
    assert selectors.unread_follow_ups(people["dispatcher"]) == 1
    # The dispatcher answers: the holder may reply before any unit is assigned.
    services.answer_follow_up(actor=people["dispatcher"], follow_up=follow_up, answer="已受理，正在安排")


def test_only_the_reporter_or_a_follower_may_ask(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(NotFound):
        services.ask_follow_up(actor=people["stranger"], case=case, question="我也想问")
    with pytest.raises(Forbidden):
        services.ask_follow_up(actor=people["grid_worker"], case=case, question="代问一下")
    with pytest.raises(DomainError) as err:
        services.ask_follow_up(actor=people["resident"], case=case, question="   ")
    assert err.value.field == "question"
    assert not FollowUp.objects.exists() and not case.logs.filter(action=Action.FOLLOW_UP).exists()
    # A follower (here added by hand; merge_case adds them) may ask.
    Follower.objects.create(case=case, user=people["neighbour"])
    assert services.ask_follow_up(actor=people["neighbour"], case=case, question="我家门口也是").pk


def test_a_resident_waits_for_answers_before_asking_again_and_again(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    for n in range(services.MAX_OPEN_FOLLOW_UPS):
        services.ask_follow_up(actor=people["resident"], case=case, question=f"第{n + 1}次追问")
    with pytest.raises(DomainError) as err:
        services.ask_follow_up(actor=people["resident"], case=case, question="又一次")
    assert err.value.code == "too_many_follow_ups"
    services.answer_follow_up(actor=people["justice"], follow_up=FollowUp.objects.first(), answer="答复")
    services.ask_follow_up(actor=people["resident"], case=case, question="谢谢，还有一个问题")


# Return visits ---------------------------------------------------------------------------------------------

def test_settled_return_visit_confirms_the_case(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    visit = services.record_return_visit(actor=people["grid_worker"], case=case,
                                         method=ReturnVisit.Method.PHONE, settled=True, note="群众表示已修好")
    case.refresh_from_db()
    assert case.status == Status.CONFIRMED
    assert visit.log.action == Action.CONFIRM and visit.settled and visit.handling_unit == tree["justice"]
    assert visit.visitor == people["grid_worker"]


def test_unsettled_return_visit_reopens_and_counts_against_the_unit(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    visit = services.record_return_visit(actor=people["dispatcher"], case=case,
                                         method=ReturnVisit.Method.VISIT, settled=False, note="路灯仍不亮")
    case.refresh_from_db()
    assert case.status == Status.REOPENED and visit.log.action == Action.VISIT_FAILED
    assert ReturnVisit.objects.filter(handling_unit=tree["justice"], settled=False).count() == 1
    assert selectors.current_round(case) == 2


def test_return_visits_are_separated_from_handling_and_checked(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(Forbidden):  # the unit that did the work does not check it
        services.record_return_visit(actor=people["justice"], case=case, method="phone", settled=True,
                                     note="我们自己回访")
    with pytest.raises(DomainError) as err:
        services.record_return_visit(actor=people["grid_worker"], case=case, method="letter", settled=True,
                                     note="写信")
    assert err.value.field == "method"
    with pytest.raises(DomainError) as err:
        services.record_return_visit(actor=people["grid_worker"], case=case, method="phone", settled=True,
                                     note=" ")
    assert err.value.field == "note"
    with pytest.raises(NotFound):
        services.record_return_visit(actor=people["other_grid_worker"], case=case, method="phone", settled=True,
                                     note="不归我管")
    case.refresh_from_db()
    assert case.status == Status.HANDLED and not ReturnVisit.objects.exists()


def test_who_answered_on_the_spot_does_not_confirm_it(tree, people, cats, make_staff):
    case = report(people["resident"], cats["env"])
    act(people["grid_worker"], case, Action.RESOLVE_ON_SPOT, note="当场更换灯泡")
    with pytest.raises(Forbidden):
        services.record_return_visit(actor=people["grid_worker"], case=case, method="phone", settled=True,
                                     note="自己回访自己")
    visit = services.record_return_visit(actor=people["dispatcher"], case=case, method="phone", settled=True,
                                         note="已解决")
    assert visit.handling_unit == tree["grid"]


# Ratings ---------------------------------------------------------------------------------------------------

def test_satisfied_rating_of_a_closed_case(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    rating = services.rate_case(actor=people["resident"], case=case, score=Rating.Score.SATISFIED, comment="很及时")
    case.refresh_from_db()
    assert case.status == Status.RATED
    assert (rating.round, rating.handling_unit, rating.comment) == (1, tree["justice"], "很及时")
    assert case.logs.last().action == Action.RATE


def test_satisfied_only_once_closed(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        services.rate_case(actor=people["resident"], case=case, score=Rating.Score.BASIC)
    assert err.value.code == "invalid_state" and not Rating.objects.exists()


def test_unsatisfied_needs_a_comment_then_reopens_and_counts_against_the_unit(tree, people, cats):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        services.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="  ")
    assert err.value.field == "comment"
    case.refresh_from_db()
    assert case.status == Status.HANDLED and not Rating.objects.exists()

    rating = services.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED,
                                comment="灯还是不亮")
    case.refresh_from_db()
    assert case.status == Status.REOPENED
    assert (rating.round, rating.handling_unit) == (1, tree["justice"])
    assert "case.reopened" in kinds_of(people["dispatcher"])
    # The next round may be rated again, by the same person.
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["police"])
    act(people["police"], case, Action.SIGN)
    act(people["police"], case, Action.COMPLETE)
    again = services.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="仍然不行")
    assert (again.round, again.handling_unit) == (2, tree["police"])
    assert Rating.objects.filter(handling_unit=tree["justice"], score=Rating.Score.UNSATISFIED).count() == 1


def test_one_rating_per_person_per_round(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    services.rate_case(actor=people["resident"], case=case, score=Rating.Score.BASIC)
    with pytest.raises(Conflict) as err:
        services.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="改主意了")
    assert err.value.code == "already_rated"
    assert Rating.objects.count() == 1


def test_a_round_is_counted_once_however_many_steps_the_reopened_case_takes(tree, people, cats):
    """Steps that record something on a reopened case (a question, its answer, a reminder) stay in the
    round; only a reopening starts a new one."""
    case = handled(people, tree, report(people["resident"], cats["env"]))
    services.rate_case(actor=people["resident"], case=case, score=Rating.Score.UNSATISFIED, comment="灯还是不亮")
    case.refresh_from_db()
    assert case.status == Status.REOPENED and selectors.current_round(case) == 2
    asked = services.ask_follow_up(actor=people["resident"], case=case, question="什么时候再来修？")
    services.answer_follow_up(actor=people["dispatcher"], follow_up=asked, answer="明天")
    act(people["dispatcher"], case, Action.REMIND)
    assert selectors.current_round(case) == 2
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.SIGN)
    act(people["justice"], case, Action.COMPLETE, note="换了新灯")
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：路灯已亮")
    act(people["dispatcher"], case, Action.CLOSE)
    rating = services.rate_case(actor=people["resident"], case=case, score=Rating.Score.SATISFIED)
    assert rating.round == 2


def test_bad_scores_and_staff_ratings_are_refused(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    with pytest.raises(DomainError) as err:
        services.rate_case(actor=people["resident"], case=case, score="excellent")
    assert err.value.field == "score"
    with pytest.raises(Forbidden):
        services.rate_case(actor=people["dispatcher"], case=case, score=Rating.Score.SATISFIED)
    with pytest.raises(NotFound):
        services.rate_case(actor=people["stranger"], case=case, score=Rating.Score.SATISFIED)
    assert not Rating.objects.exists()


# Timelines and a resident's cases --------------------------------------------------------------------------

def test_anonymous_reporters_are_never_named_on_a_timeline(tree, people, cats):
    case, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=cats["env"],
                                          description="有人半夜施工扰民", lat=HERE[0], lng=HERE[1],
                                          is_anonymous=True)
    dispatched(people, tree, case)
    services.ask_follow_up(actor=people["resident"], case=case, question="还在施工")
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
