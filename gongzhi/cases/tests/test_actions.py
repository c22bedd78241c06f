"""services.take_action: one entry for every action, and a replayed client key answered with the first
result — before the state is checked, writing nothing twice."""

import datetime
import uuid

import pytest
from django.utils import timezone

from gongzhi.cases import services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog, FollowUp, Rating, ReturnVisit, SupervisionOrder
from gongzhi.cases.services import actions
from gongzhi.cases.tests.helpers import closed, dispatched, handled
from gongzhi.cases.workflow import PERSON_ACTIONS, TRANSITIONS, Action, Capacity, Status
from gongzhi.core.errors import Conflict, DomainError, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db


def counts():
    return (CaseLog.objects.count(), FollowUp.objects.count(), Rating.objects.count(), ReturnVisit.objects.count(),
            SupervisionOrder.objects.count(), Notification.objects.count())


def twice(actor, case, action, **payload):
    """Take the action with a fresh key, then replay it: both answers, and what the replay wrote (nothing)."""
    key = uuid.uuid4().hex
    first = services.take_action(actor=actor, case=case, action=action, client_key=key, **payload)
    before = counts()
    again = services.take_action(actor=actor, case=case, action=action, client_key=key, **payload)
    assert counts() == before
    return first, again


def assert_replayed(first, again, record_type=None):
    assert first.created and not again.created
    assert again.log.pk == first.log.pk and again.case.pk == first.case.pk
    assert again.log.client_key == first.log.client_key != ""
    if record_type is None:
        assert first.record is None and again.record is None
    else:
        assert isinstance(first.record, record_type) and again.record.pk == first.record.pk


# Every kind of action ----------------------------------------------------------------------------------

def test_plain_steps_and_dispatch(tree, people, cats):
    case = report(people["resident"], cats["env"])
    first, again = twice(people["dispatcher"], case, Action.ACCEPT)
    assert_replayed(first, again)
    assert first.log.action == Action.ACCEPT and first.case.status == Status.ACCEPTED
    first, again = twice(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"],
                         assist_units=[tree["police"]], note="请司法所调处")
    assert_replayed(first, again)
    assert case.assignments.filter(is_active=True).count() == 2


def test_follow_up_and_reply(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    first, again = twice(people["resident"], case, Action.FOLLOW_UP, question="什么时候修？")
    assert_replayed(first, again, FollowUp)
    assert first.record.question_log == first.log
    first, again = twice(people["justice"], case, Action.REPLY, follow_up=first.record, answer="本周五前")
    assert_replayed(first, again, FollowUp)
    assert again.record.answer_log == first.log


@pytest.mark.parametrize("action,status", [(Action.CONFIRM, Status.CONFIRMED), (Action.VISIT_FAILED, Status.REOPENED)])
def test_return_visit(tree, people, cats, action, status):
    case = handled(people, tree, report(people["resident"], cats["env"]))
    first, again = twice(people["grid_worker"], case, action, method="phone", note="电话回访")
    assert_replayed(first, again, ReturnVisit)
    assert first.case.status == status and first.record.settled == (action == Action.CONFIRM)


def test_ratings(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    first, again = twice(people["resident"], case, Action.RATE_UNSATISFIED, comment="灯又不亮了")
    assert_replayed(first, again, Rating)
    assert first.record.score == Rating.Score.UNSATISFIED and first.case.status == Status.REOPENED
    # A new round; the replay still finds the rating of the round it made.
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.SIGN)
    act(people["justice"], case, Action.COMPLETE, note="已更换灯具")
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：已修好")
    act(people["dispatcher"], case, Action.CLOSE)
    second, again = twice(people["resident"], case, Action.RATE, score=Rating.Score.SATISFIED)
    assert_replayed(second, again, Rating)
    assert (second.record.round, first.record.round) == (2, 1)
    replay_of_first = services.take_action(actor=people["resident"], case=case, action=Action.RATE_UNSATISFIED,
                                           client_key=first.log.client_key, comment="灯又不亮了")
    assert replay_of_first.record.pk == first.record.pk


def test_rating_name_and_score_must_agree(tree, people, cats):
    case = closed(people, tree, report(people["resident"], cats["env"]))
    for action, score in ((Action.RATE, Rating.Score.UNSATISFIED), (Action.RATE_UNSATISFIED, Rating.Score.BASIC)):
        with pytest.raises(DomainError) as err:
            services.take_action(actor=people["resident"], case=case, action=action, score=score, comment="x")
        assert err.value.field == "score"
    assert not Rating.objects.exists()


def test_merge(tree, people, cats):
    parent = report(people["resident"], cats["env"])
    duplicate = report(people["neighbour"], cats["env"])
    first, again = twice(people["dispatcher"], duplicate, Action.MERGE, merge_into=parent, note="同一盏路灯")
    assert_replayed(first, again)
    assert first.case.merged_into == parent and first.case.status == Status.CLOSED


def test_supervise(tree, people, cats):
    case = report(people["resident"], cats["env"])
    due_at = timezone.now() + datetime.timedelta(days=3)
    first, again = twice(people["county_supervisor"], case, Action.SUPERVISE, note="限期办结", due_at=due_at)
    assert_replayed(first, again, SupervisionOrder)
    assert first.record.log == first.log


# Replays and keys ---------------------------------------------------------------------------------------

def test_a_replay_answers_even_when_the_case_has_moved_on(tree, people, cats):
    case = report(people["resident"], cats["env"])
    first = services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT, client_key="k-1")
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    again = services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT, client_key="k-1")
    assert not again.created and again.log.pk == first.log.pk and again.case.status == Status.DISPATCHED
    # Without a key, the same step is refused by the state check, as always.
    with pytest.raises(DomainError) as err:
        services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT)
    assert err.value.code == "invalid_state"


def test_a_key_is_the_actors_and_the_actions(tree, people, cats):
    case = dispatched(people, tree, report(people["resident"], cats["env"]))
    services.take_action(actor=people["justice"], case=case, action=Action.SIGN, client_key="shared")
    with pytest.raises(Conflict) as err:
        services.take_action(actor=people["justice2"], case=case, action=Action.SIGN, client_key="shared")
    assert err.value.field == "client_key"
    with pytest.raises(Conflict):
        services.take_action(actor=people["justice"], case=case, action=Action.COMPLETE, client_key="shared",
                             note="已办结")
    # Keys are per case: the same key on another case is a new action.
    other = dispatched(people, tree, report(people["resident"], cats["env"]))
    assert services.take_action(actor=people["justice"], case=other, action=Action.SIGN, client_key="shared").created


def test_a_replay_is_answered_only_in_scope(tree, people, cats):
    case = report(people["resident"], cats["env"])
    services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT, client_key="k")
    with pytest.raises(NotFound):
        services.take_action(actor=people["other_dispatcher"], case=case, action=Action.ACCEPT, client_key="k")


def test_concurrent_replays_the_unique_key_decides(tree, people, cats, monkeypatch):
    """The second of two replays running at once does not see the first's row before it acts (as when both
    looked before either committed): the unique (case, client_key) refuses its row, and it answers with the
    first one's result; its own step is rolled back."""
    case = report(people["resident"], cats["env"])
    first = services.take_action(actor=people["dispatcher"], case=case, action=Action.REMIND, client_key="k")
    looked = actions._first_result

    def not_yet(**kwargs):
        return None if kwargs["lock"] else looked(**kwargs)

    monkeypatch.setattr(actions, "_first_result", not_yet)
    before = counts()
    again = services.take_action(actor=people["dispatcher"], case=case, action=Action.REMIND, client_key="k")
    assert not again.created and again.log.pk == first.log.pk and counts() == before


def test_unknown_actions_and_payloads(people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(DomainError) as err:
        services.take_action(actor=people["dispatcher"], case=case, action="explode")
    assert err.value.field == "action"
    with pytest.raises(TypeError):
        services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT, score="satisfied")
    with pytest.raises(DomainError) as err:
        services.take_action(actor=people["dispatcher"], case=case, action=Action.ACCEPT, client_key="k" * 65)
    assert err.value.field == "client_key"
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_every_person_action_has_a_service_and_payload_names():
    assert set(PERSON_ACTIONS) == {t.action for t in TRANSITIONS} - {Action.MARK_OVERDUE, Action.ANONYMISE,
                                                                     Action.ARCHIVE}
    assert all(t.capacities - {Capacity.SYSTEM} for t in TRANSITIONS if t.action in PERSON_ACTIONS)
    for action in PERSON_ACTIONS:
        assert services.payload_names(action)
    assert services.payload_names(Action.DISPATCH) == {"note", "lead_unit", "lead_person", "assist_units",
                                                        "review_on", "extend_to", "photo_tokens", "document_tokens"}
    assert services.payload_names(Action.CONFIRM) == {"method", "note"}
    assert services.payload_names("explode") == frozenset()
