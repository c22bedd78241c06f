"""延期: the handling unit asks for a later handling limit, the command centre holding the case (or the level
above) approves or refuses; approval moves the limit and, with it, the flags and the sweep's steps (frozen
clock).

Calendar as in test_supervision: 2026 National Day holiday 10-01..10-07, make-up workday Saturday 10-10,
office hours 08:30–17:30 (Asia/Shanghai). A 政策咨询 case accepted on Tuesday 09-29 is due on Monday
10-12 at 17:30.
"""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from gongzhi.accounts.models import Role
from gongzhi.cases import policies, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog, ExtensionRequest
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action, Flag, Status
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def on(month, day):
    return datetime.date(2026, month, day)


DUE = at(10, 12, 17, 30)


def in_progress(people, tree, cats, moment=None):
    """A 政策咨询 case led by 八里镇司法所 (signed), accepted on 09-29: due 10-12 17:30."""
    with time_machine.travel(moment or at(9, 29), tick=False):
        case = report(people["resident"], cats["policy"])
        act(people["dispatcher"], case, Action.ACCEPT)
        act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
        case = act(people["justice"], case, Action.SIGN)
    assert case.handle_due == DUE
    return case


def step(actor, case, action, moment, **payload):
    with time_machine.travel(moment, tick=False):
        return services.take_action(actor=actor, case=case, action=action, **payload)


ON_DUE_DAY, FRIDAY = at(10, 12), on(10, 16)


def ask(people, case, moment=ON_DUE_DAY, extend_to=FRIDAY, note="需协调县自然资源局现场勘界，请延期。", **extra):
    return step(people["justice"], case, Action.REQUEST_EXTENSION, moment, extend_to=extend_to, note=note, **extra)


def flag_of(case, moment):
    with time_machine.travel(moment, tick=False):
        return selectors.with_flags(Case.objects.filter(pk=case.pk)).get().flag


def sweep(moment):
    with time_machine.travel(moment, tick=False):
        return run_sweep()


def state(case):
    """Everything a refused step must leave as it was."""
    fresh = Case.objects.get(pk=case.pk)
    return (fresh.status, fresh.handle_due, CaseLog.objects.filter(case=case).count(),
            list(ExtensionRequest.objects.filter(case=case).values_list("pk", "decision")),
            Notification.objects.count())


def kinds(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# ---------------------------------------------------------------------------------------------------------
# The story


def test_an_approved_extension_moves_the_limit_and_the_flags_follow(people, tree, cats):
    case = in_progress(people, tree, cats)
    assert flag_of(case, at(10, 12)) == Flag.YELLOW  # due today
    requested = ask(people, case)
    request = requested.record
    assert isinstance(request, ExtensionRequest) and request.decision == ExtensionRequest.Decision.PENDING
    assert (request.previous_due, request.proposed_due) == (DUE, at(10, 16, 17, 30))
    assert request.requested_by == people["justice"] and request.requesting_unit == tree["justice"]
    assert request.reason == "需协调县自然资源局现场勘界，请延期。"
    log = requested.log
    assert (log.action, log.to_status, log.is_public) == (Action.REQUEST_EXTENSION, Status.IN_PROGRESS, False)
    assert log.deadlines["handle_due"].startswith("2026-10-12T09:30")  # unchanged until approved (UTC)
    assert Case.objects.get(pk=case.pk).handle_due == DUE
    # The holding command centre hears of it; nobody else.
    assert kinds(people["dispatcher"]) == ["case.extension_requested"]
    body = Notification.objects.get(recipient=people["dispatcher"]).body
    assert "2026-10-16 17:30" in body and "勘界" in body and "八里镇司法所" in body
    assert "case.extension_requested" not in kinds(people["resident"]) + kinds(people["county_dispatcher"])

    # Nobody decides by the close: the sweep marks the limit overdue, as for any case.
    assert sweep(at(10, 12, 17, 31)).overdue == 1
    assert flag_of(case, at(10, 13, 9)) == Flag.RED

    approved = step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 13, 9), note="同意，请抓紧。")
    case = approved.case
    assert case.handle_due == at(10, 16, 17, 30) and case.status == Status.IN_PROGRESS
    assert approved.record.pk == request.pk
    request.refresh_from_db()
    assert request.decision == ExtensionRequest.Decision.APPROVED and request.decided_by == people["dispatcher"]
    assert request.decided_at == at(10, 13, 9) and request.decision_note == "同意，请抓紧。"
    assert approved.log.is_public and approved.log.deadlines["handle_due"].startswith("2026-10-16T09:30")
    # Red no more: the new limit lies beyond the next workday's close.
    assert flag_of(case, at(10, 13, 9)) == Flag.GREEN
    # The old limit's grace ends at 10-13's close: no escalation now, nothing else written.
    assert sweep(at(10, 13, 17, 31)).written == 0
    # The new limit is reminded of and marked overdue afresh (its own step keys).
    reminded = sweep(at(10, 15, 10))
    assert reminded.reminders == 1 and flag_of(case, at(10, 15, 10)) == Flag.YELLOW
    key = CaseLog.objects.filter(case=case, action=Action.REMIND).latest("seq").step_key
    assert key == f"remind:handle:{int(at(10, 16, 17, 30).timestamp())}"
    assert sweep(at(10, 16, 17, 31)).overdue == 1
    assert [a for a in CaseLog.objects.filter(case=case, seq__gt=4).values_list("action", flat=True)] == [
        "request_extension", "mark_overdue", "approve_extension", "remind", "mark_overdue"]

    # The handling unit hears of the decision; the resident of the new limit, not of the reasons.
    assert "case.extension_decided" in kinds(people["justice"]) and "case.extension_decided" in kinds(
        people["justice2"])
    assert "case.extended" in kinds(people["resident"])
    told = Notification.objects.get(recipient=people["resident"], kind="case.extended").body
    assert "2026-10-16 17:30" in told and "勘界" not in told and "抓紧" not in told
    public = selectors.public_timeline(case, viewer=people["resident"])
    assert [e.action for e in public if "extension" in e.action] == ["approve_extension"]
    shown = next(e for e in public if e.action == "approve_extension")
    assert shown.note == "办理期限延长至2026-10-16 17:30。"
    # Staff see every step with its own note.
    staff = selectors.timeline_for(people["dispatcher"], case)
    notes = {e.action: e.note for e in staff}
    assert notes["request_extension"].startswith("需协调") and notes["approve_extension"] == "同意，请抓紧。"


def test_a_refusal_leaves_the_limit_and_a_new_request_may_follow(people, tree, cats):
    case = in_progress(people, tree, cats)
    ask(people, case, at(10, 9))
    before = state(case)
    with pytest.raises(DomainError) as err:
        step(people["dispatcher"], case, Action.REFUSE_EXTENSION, at(10, 9, 11), note="  ")
    assert (err.value.field, str(err.value.message)) == ("note", "请填写驳回的理由。")
    assert state(case) == before
    refused = step(people["dispatcher"], case, Action.REFUSE_EXTENSION, at(10, 9, 11), note="材料齐全，应按期办结。")
    assert refused.case.handle_due == DUE and not refused.log.is_public
    assert refused.record.decision == ExtensionRequest.Decision.REFUSED
    assert "case.extension_decided" in kinds(people["justice"])
    assert "case.extended" not in kinds(people["resident"])
    assert not [e for e in selectors.public_timeline(case) if "extension" in e.action]
    # Refused, so none waits: the unit may ask again, and the upper level may decide this time.
    again = ask(people, case, at(10, 10), extend_to=on(10, 14))
    assert again.record.decision == ExtensionRequest.Decision.PENDING
    county = step(people["county_dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 10, 11))
    assert county.case.handle_due == at(10, 14, 17, 30)
    assert county.record.decided_by == people["county_dispatcher"]


# ---------------------------------------------------------------------------------------------------------
# Who may


@pytest.mark.parametrize("who,error", [
    ("dispatcher", Forbidden), ("police", Forbidden), ("grid_worker", Forbidden), ("resident", Forbidden),
    ("county_dispatcher", Forbidden), ("other_dispatcher", NotFound),
])
def test_only_the_lead_unit_asks(people, tree, cats, who, error):
    case = in_progress(people, tree, cats)
    case.assignments.create(unit=tree["police"], role="assist")  # 协办: on the case, not its lead
    before = state(case)
    with pytest.raises(error):
        step(people[who], case, Action.REQUEST_EXTENSION, at(10, 9), extend_to=on(10, 14), note="理由")
    assert state(case) == before
    # Anyone of the lead unit may.
    assert step(people["justice2"], case, Action.REQUEST_EXTENSION, at(10, 9), extend_to=on(10, 14),
                note="理由").created


@pytest.mark.parametrize("who,error", [
    ("justice", Forbidden), ("justice2", Forbidden), ("grid_worker", Forbidden), ("resident", Forbidden),
    ("other_dispatcher", NotFound), ("other_supervisor", NotFound),
])
def test_only_the_holding_command_centre_or_the_level_above_decides(people, tree, cats, who, error):
    case = in_progress(people, tree, cats)
    ask(people, case, at(10, 9))
    before = state(case)
    for action in (Action.APPROVE_EXTENSION, Action.REFUSE_EXTENSION):
        with pytest.raises(error):
            step(people[who], case, action, at(10, 9, 11), note="意见")
    assert state(case) == before


@pytest.mark.parametrize("who", ["dispatcher", "county_dispatcher", "county_supervisor"])
def test_deciders(people, tree, cats, who):
    case = in_progress(people, tree, cats)
    ask(people, case, at(10, 9))
    assert step(people[who], case, Action.APPROVE_EXTENSION, at(10, 9, 11)).case.handle_due == at(10, 16, 17, 30)


def test_a_command_centre_handling_the_case_itself_does_not_approve_its_own_request(people, tree, cats,
                                                                                        make_staff):
    """The town's dispatcher who is also on the staff of the lead unit holds DISPATCHER and ASSIGNEE: they may
    ask, and the level above decides."""
    both = make_staff("both", tree["town"], Role.DISPATCHER)
    both.memberships.create(unit=tree["justice"], role=Role.DEPT_HANDLER)
    case = in_progress(people, tree, cats)
    step(both, case, Action.REQUEST_EXTENSION, at(10, 9), extend_to=on(10, 14), note="理由")
    before = state(case)
    with pytest.raises(Forbidden) as err:
        step(both, case, Action.APPROVE_EXTENSION, at(10, 9, 11))
    assert "不能审批本事件的延期申请" in str(err.value.message)
    assert state(case) == before
    assert step(people["county_dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 9, 11)).created


# ---------------------------------------------------------------------------------------------------------
# Wrong states


def test_wrong_states_are_refused_and_change_nothing(people, tree, cats):
    with time_machine.travel(at(9, 29), tick=False):
        dispatched = report(people["resident"], cats["policy"])
        act(people["dispatcher"], dispatched, Action.ACCEPT)
        act(people["dispatcher"], dispatched, Action.DISPATCH, lead_unit=tree["justice"])
    before = state(dispatched)
    with pytest.raises(DomainError) as err:  # not signed yet: not 正在办理
        step(people["justice"], dispatched, Action.REQUEST_EXTENSION, at(10, 9), extend_to=on(10, 14), note="理由")
    assert err.value.code == "invalid_state" and "申请延期" in str(err.value.message)
    assert state(dispatched) == before

    case = in_progress(people, tree, cats)
    before = state(case)
    with pytest.raises(DomainError) as err:  # nothing to decide on
        step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 9))
    assert err.value.code == "no_extension_pending" and str(err.value.message) == "该事件没有待审批的延期申请。"
    assert state(case) == before
    ask(people, case, at(10, 9))
    before = state(case)
    with pytest.raises(Conflict) as err:  # one request at a time
        ask(people, case, at(10, 9, 11), extend_to=on(10, 15))
    assert err.value.code == "extension_pending"
    assert state(case) == before


@pytest.mark.parametrize("leave", ["complete", "return", "defer", "escalate"])
def test_a_waiting_request_lapses_when_the_case_leaves_work(people, tree, cats, leave):
    case = in_progress(people, tree, cats)
    request = ask(people, case, at(10, 9)).record
    with time_machine.travel(at(10, 9, 11), tick=False):
        if leave == "defer":
            act(people["dispatcher"], case, Action.DEFER, review_on=on(10, 20))
        elif leave == "escalate":
            act(people["dispatcher"], case, Action.ESCALATE)
        else:
            act(people["justice"], case, leave)
    request.refresh_from_db()
    assert request.decision == ExtensionRequest.Decision.LAPSED and request.decided_by is None
    assert request.decision_log.action == leave and request.decided_at == at(10, 9, 11)
    with pytest.raises(DomainError):
        step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 9, 12))
    assert Case.objects.get(pk=case.pk).handle_due in (DUE, None)


def test_the_sweeps_escalation_makes_a_waiting_request_lapse(people, tree, cats):
    case = in_progress(people, tree, cats)
    request = ask(people, case, at(10, 12, 9)).record
    assert sweep(at(10, 13, 17, 31)).escalations == 1  # nobody decided; the grace day passed
    request.refresh_from_db()
    assert request.decision == ExtensionRequest.Decision.LAPSED and request.decision_log.action == "escalate"


def test_a_request_for_a_date_gone_by_cannot_be_approved(people, tree, cats):
    case = in_progress(people, tree, cats)
    ask(people, case, at(10, 12, 9), extend_to=on(10, 13))
    before = state(case)
    with pytest.raises(DomainError) as err:  # decided only after 10-13 closed (no sweep ran meanwhile)
        step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 14))
    assert err.value.code == "extension_expired" and "2026-10-13 17:30" in str(err.value.message)
    assert state(case) == before
    assert step(people["dispatcher"], case, Action.REFUSE_EXTENSION, at(10, 14), note="已过期").created


# ---------------------------------------------------------------------------------------------------------
# Bad input: a clear message on the field, nothing changed


@pytest.mark.parametrize("moment,extend_to,note,field,message", [
    (at(10, 9), on(10, 14), "", "note", "请填写申请延期的理由。"),
    (at(10, 9), None, "理由", "extend_to", "请选择申请延期至的日期。"),
    (at(10, 9), on(10, 8), "理由", "extend_to", "请选择今天以后的日期。"),
    (at(10, 9), on(10, 9), "理由", "extend_to", "请选择今天以后的日期。"),
    (at(10, 9), on(10, 12), "理由", "extend_to", "申请延期至的日期须晚于现在的办理期限（2026-10-12 17:30）。"),
    (at(10, 9), on(10, 11), "理由", "extend_to", "申请延期至的日期须晚于现在的办理期限（2026-10-12 17:30）。"),
    # 30 working days after 10-12: 11-23 (a Monday) is the last allowed.
    (at(10, 9), on(11, 24), "理由", "extend_to", "最多可延期30个工作日，即不晚于2026-11-23。"),
    (at(10, 9), on(10, 17), "理由", "extend_to", "2026-10-17不是工作日，请选择一个工作日。"),
    (at(10, 12, 17, 31), on(10, 14), "理由", "extend_to", "办理期限（2026-10-12 17:30）已过，不能再申请延期。"),
])
def test_bad_requests_are_refused_on_their_field_and_change_nothing(people, tree, cats, moment, extend_to, note,
                                                                    field, message):
    case = in_progress(people, tree, cats)
    before = state(case)
    with pytest.raises(DomainError) as err:
        step(people["justice"], case, Action.REQUEST_EXTENSION, moment, extend_to=extend_to, note=note,
             client_key=uuid.uuid4().hex)
    assert (err.value.field, str(err.value.message)) == (field, message)
    assert state(case) == before


def test_the_longest_extension_is_a_setting(people, tree, cats):
    case = in_progress(people, tree, cats)
    assert ask(people, case, at(10, 9), extend_to=on(11, 23)).created  # 30 working days
    step(people["dispatcher"], case, Action.REFUSE_EXTENSION, at(10, 9), note="太长")
    with override_settings(CASE_EXTENSION_MAX_WORKING_DAYS=3), pytest.raises(DomainError) as err:
        ask(people, case, at(10, 9), extend_to=on(10, 16))
    assert str(err.value.message) == "最多可延期3个工作日，即不晚于2026-10-15。"


@override_settings(CASE_EXTENSIONS_MAX=2)
def test_a_case_is_extended_at_most_the_set_number_of_times(people, tree, cats):
    """Refused requests do not count; once two were granted the button goes and a request is refused."""
    case = in_progress(people, tree, cats)
    ask(people, case, at(10, 9))
    step(people["dispatcher"], case, Action.REFUSE_EXTENSION, at(10, 9, 11), note="应按期办结。")
    for moment, extend_to in ((at(10, 12), on(10, 14)), (at(10, 14), on(10, 16))):
        ask(people, case, moment, extend_to=extend_to)
        step(people["dispatcher"], case, Action.APPROVE_EXTENSION, moment + datetime.timedelta(hours=1))
    case.refresh_from_db()
    assert case.handle_due == at(10, 16, 17, 30)
    assert Action.REQUEST_EXTENSION not in {t.action for t in policies.actions_for(people["justice"], case)}
    before = state(case)
    with pytest.raises(DomainError) as err:
        ask(people, case, at(10, 15), extend_to=on(10, 20))
    assert err.value.code == "extensions_used_up" and "已延期2次" in str(err.value.message)
    assert state(case) == before


# ---------------------------------------------------------------------------------------------------------
# Replays


def test_a_replayed_request_and_decision_answer_with_the_first_result(people, tree, cats):
    case = in_progress(people, tree, cats)
    first = ask(people, case, at(10, 9), client_key="req-1")
    before = state(case)
    again = ask(people, case, at(10, 9, 10), client_key="req-1")
    assert not again.created and again.log.pk == first.log.pk and again.record.pk == first.record.pk
    assert state(case) == before
    decided = step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 9, 11), client_key="ok-1")
    before = state(case)
    replay = step(people["dispatcher"], case, Action.APPROVE_EXTENSION, at(10, 9, 12), client_key="ok-1")
    assert not replay.created and replay.record.pk == decided.record.pk and state(case) == before
