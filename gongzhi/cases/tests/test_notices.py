"""Who hears of which step of a case, on which channel, and never twice."""

import uuid

import pytest

from gongzhi.cases import notices, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import CaseLog
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import Forbidden
from gongzhi.notifications.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def received(people):
    """{person: sorted kinds} for everyone who got anything."""
    out = {}
    for name, user in people.items():
        kinds = sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))
        if kinds:
            out[name] = kinds
    return out


def sms_kinds():
    return sorted(Delivery.objects.filter(channel="sms").values_list("notification__kind", flat=True))


def announce_everything_again(case):
    for log in CaseLog.objects.filter(case=case).order_by("seq"):
        notices.announce(case=case, log=log)


def test_each_step_of_the_loop_notifies_the_right_people_once(tree, people, cats):
    case = report(people["resident"], cats["env"])
    assert received(people) == {}  # reporting itself tells nobody yet

    steps = [
        (people["dispatcher"], Action.ACCEPT, {}, {"resident": ["case.accepted"]}),
        (people["dispatcher"], Action.DISPATCH, {"lead_unit": tree["justice"], "assist_units": (tree["police"],)},
         {"resident": ["case.dispatched"], "justice": ["case.task"], "justice2": ["case.task"]}),
        (people["justice"], Action.SIGN, {}, {}),
        (people["justice"], Action.COMPLETE, {}, {"resident": ["case.completed"]}),
        (people["grid_worker"], Action.CONFIRM, {}, {}),
        (people["dispatcher"], Action.CLOSE, {}, {"resident": ["case.closed"]}),
        (people["resident"], Action.RATE, {}, {}),
    ]
    expected: dict[str, list[str]] = {}
    for actor, action, kwargs, new in steps:
        act(actor, case, action, **kwargs)
        for name, kinds in new.items():
            expected[name] = sorted(expected.get(name, []) + kinds)
        assert received(people) == expected, action
    # Announcing every step again (a retried task) notifies nobody twice.
    announce_everything_again(case)
    assert received(people) == expected
    # Only acceptance and completion cost a text message.
    assert sms_kinds() == ["case.accepted", "case.completed"]

    accepted = Notification.objects.get(kind="case.accepted")
    assert (accepted.target_type, accepted.target_id) == ("case", case.pk) and case.number in accepted.body
    task = Notification.objects.filter(kind="case.task").first()
    assert (task.target_type, task.target_id) == ("case", case.pk) and "环境卫生" in task.body


def test_rejection_tells_the_reason_by_text_message(people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.REJECT, note="不属于受理范围，请拨打12345")
    note = Notification.objects.get(recipient=people["resident"])
    assert note.kind == "case.rejected" and "请拨打12345" in note.body
    assert sms_kinds() == ["case.rejected"]


def test_escalation_reaches_the_next_levels_command_centre(people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ESCALATE, note="涉及多个乡镇")
    assert received(people) == {"county_dispatcher": ["case.escalated"]}


def test_a_return_reaches_the_holders_dispatchers_not_the_resident(tree, people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.RETURN, note="非本所职责")
    got = received(people)
    assert got["dispatcher"] == ["case.returned"]
    assert "case.returned" not in got["resident"]
    # The one who returned it is not told of it; their colleague is told only of the task.
    assert got["justice2"] == ["case.task"] and got["justice"] == ["case.task"]


def test_sweep_reminders_reach_the_lead_unit_else_the_holder_once_per_step(tree, people, cats):
    case = report(people["resident"], cats["env"])
    for _ in range(2):
        services.transition(actor=None, case=case, action=Action.REMIND, step_key="remind:respond")
    assert received(people) == {"dispatcher": ["case.reminder"]}

    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    for _ in range(2):
        services.transition(actor=None, case=case, action=Action.REMIND, step_key="remind:handle")
    got = received(people)
    assert got["justice"] == ["case.reminder", "case.task"] and got["justice2"] == ["case.reminder", "case.task"]
    assert got["dispatcher"] == ["case.reminder"] and "police" not in got
    assert "case.reminder" not in got["resident"]


def test_a_staff_reporter_hears_of_their_case_like_a_resident(tree, people, cats):
    case, _created = services.submit_case(actor=people["grid_worker"], client_id=uuid.uuid4(),
                                          category=cats["env"], description="巡查发现垃圾堆放",
                                          lat=35.585, lng=104.605)
    act(people["dispatcher"], case, Action.ACCEPT)
    note = Notification.objects.get(recipient=people["grid_worker"])
    assert note.kind == "case.accepted" and (note.target_type, note.target_id) == ("case", case.pk)


def test_anonymous_reporters_still_hear_of_their_own_case(people, cats):
    case, _created = services.submit_case(actor=people["resident"], client_id=uuid.uuid4(), category=cats["env"],
                                          description="匿名反映", lat=35.585, lng=104.605, is_anonymous=True)
    act(people["dispatcher"], case, Action.ACCEPT)
    assert received(people) == {"resident": ["case.accepted"]}


def test_a_refused_step_notifies_nobody(people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(Forbidden):
        act(people["grid_worker"], case, Action.ACCEPT)
    assert received(people) == {} and not Delivery.objects.exists()


def test_a_long_note_is_cut_to_what_an_inbox_holds(people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.REJECT, note="理" * services.NOTE_MAX_LENGTH)
    body = Notification.objects.get(recipient=people["resident"]).body
    assert len(body) == 2000 and body.endswith("…")
