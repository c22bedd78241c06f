"""The supervision sweep, flags and 督办 orders on the working-day calendar (frozen clock).

Calendar used throughout: 2026 National Day holiday 10-01..10-07, make-up workday Saturday 10-10, office
hours 08:30–17:30 (Asia/Shanghai).
"""

import datetime
import importlib.util
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from gongzhi.accounts.models import Membership
from gongzhi.cases import deadlines, selectors, services
from gongzhi.cases import sweep as sweep_module
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Case, CaseLog, SupervisionOrder
from gongzhi.cases.sweep import run_sweep
from gongzhi.cases.workflow import Action, Flag, Status
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications.models import Notification

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def sweep(moment):
    with time_machine.travel(moment, tick=False):
        return run_sweep()


def justice_unit(people):
    return Membership.objects.get(user=people["justice"]).unit


def accepted_case(people, cats, moment, *, dispatch=True):
    """政策咨询类 at township level: 5 working days to handle."""
    with time_machine.travel(moment, tick=False):
        case = report(people["resident"], cats["policy"])
        case = act(people["dispatcher"], case, Action.ACCEPT)
        if dispatch:
            case = act(people["dispatcher"], case, Action.DISPATCH, lead_unit=justice_unit(people))
    return case


def steps(case):
    return list(CaseLog.objects.filter(case=case).values_list("seq", "action"))


def flag_of(case, moment):
    with time_machine.travel(moment, tick=False):
        return selectors.with_flags(Case.objects.filter(pk=case.pk)).get().flag


def test_horizons_follow_the_calendar():
    # Friday 10-09 before the make-up Saturday: the next workday is Saturday 10-10.
    h = deadlines.horizons(at(10, 9))
    assert h.handle_warn_until == at(10, 10, 17, 30)
    assert h.respond_warn_until == at(10, 9, 16)
    # On the eve of the holiday the next workday is 10-08; grace ends only after 10-08 closes.
    assert deadlines.horizons(at(9, 30)).handle_warn_until == at(10, 8, 17, 30)
    assert deadlines.horizons(at(10, 5)).escalate_before == at(9, 30, 0)
    assert deadlines.horizons(at(10, 8, 17, 0)).escalate_before == at(9, 30, 0)
    assert deadlines.horizons(at(10, 8, 17, 31)).escalate_before == at(10, 8, 0)


def test_reminder_overdue_and_escalation_across_the_make_up_saturday(tree, people, cats):
    case = accepted_case(people, cats, at(9, 29))
    # 5 working days from Tuesday 09-29: 09-30, 10-08, 10-09, 10-10 (调休 Saturday), 10-12.
    assert case.handle_due == at(10, 12, 17, 30)
    assert sweep(at(10, 5)).written == 0  # the holiday counts for nothing
    # Friday 10-09: the next workday is the make-up Saturday, so a Monday limit is not yet coming due.
    assert sweep(at(10, 9)).reminders == 0 and flag_of(case, at(10, 9)) == Flag.GREEN
    first = sweep(at(10, 10))  # on the make-up Saturday, Monday's close is within the next workday
    assert (first.reminders, first.overdue) == (1, 0) and flag_of(case, at(10, 10)) == Flag.YELLOW
    assert sweep(at(10, 11)).written == 0  # Sunday: already reminded for this deadline
    assert sweep(at(10, 12, 17, 30)).written == 0  # due at 17:30 sharp: not yet passed
    late = sweep(at(10, 12, 17, 31))
    assert (late.reminders, late.overdue, late.escalations) == (0, 1, 0)
    assert flag_of(case, at(10, 12, 17, 31)) == Flag.RED
    assert sweep(at(10, 13, 17, 0)).escalations == 0  # grace: until the close of Tuesday 10-13
    assert not Notification.objects.filter(recipient=people["county_dispatcher"]).exists()
    escalated = sweep(at(10, 13, 17, 31))
    assert escalated.escalations == 1
    case.refresh_from_db()
    assert case.status == Status.ESCALATED and case.holder == tree["county"] and case.handle_due is None
    assert not case.assignments.filter(is_active=True).exists()
    assert steps(case) == [(1, "report"), (2, "accept"), (3, "dispatch"), (4, "remind"), (5, "mark_overdue"),
                           (6, "escalate")]
    logs = CaseLog.objects.filter(case=case, seq__gte=4)
    assert {log.actor for log in logs} == {None}
    assert [log.is_public for log in logs] == [False, False, True]  # the resident sees the escalation
    assert logs.get(seq=4).deadlines["handle_due"].startswith("2026-10-12T09:30")  # UTC
    assert logs.get(seq=4).step_key == f"remind:handle:{int(at(10, 12, 17, 30).timestamp())}"
    # The county command centre hears of it and takes it up; the township may not any more.
    assert Notification.objects.filter(recipient=people["county_dispatcher"], kind="case.escalated").count() == 1
    with pytest.raises(Forbidden):
        act(people["dispatcher"], case, Action.ACCEPT)
    with time_machine.travel(at(10, 14), tick=False):
        case = act(people["county_dispatcher"], case, Action.ACCEPT)
    assert case.status == Status.ACCEPTED and case.handle_due > at(10, 14)
    assert sweep(at(10, 14, 11)).written == 0


def test_handle_limit_before_the_holiday_escalates_only_after_the_first_workday(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    Case.objects.filter(pk=case.pk).update(handle_due=at(9, 30, 17, 30))
    assert sweep(at(9, 30, 9)).reminders == 1  # due today
    assert sweep(at(10, 3)).overdue == 1
    assert sweep(at(10, 7, 23)).escalations == 0  # the whole holiday is grace
    assert sweep(at(10, 8, 17, 30)).escalations == 0
    assert sweep(at(10, 8, 17, 31)).escalations == 1


def test_response_limit_runs_in_natural_hours_and_does_not_escalate(people, cats):
    with time_machine.travel(at(9, 30), tick=False):
        case = report(people["resident"], cats["policy"])
    assert case.respond_due == at(10, 1, 10)
    assert sweep(at(10, 1, 3, 59)).written == 0
    assert flag_of(case, at(10, 1, 3, 59)) == Flag.GREEN
    assert sweep(at(10, 1, 4)).reminders == 1  # 6 hours left, holiday or not
    assert flag_of(case, at(10, 1, 4)) == Flag.YELLOW
    report_ = sweep(at(10, 2))
    assert (report_.overdue, report_.escalations) == (1, 0)
    case.refresh_from_db()
    assert case.status == Status.REPORTED and case.holder.level == "township"
    assert [a for _s, a in steps(case)] == ["report", "remind", "mark_overdue"]


def test_a_doubled_sweep_writes_nothing_more(people, cats):
    cases = [accepted_case(people, cats, at(9, 29)) for _ in range(3)]
    with time_machine.travel(at(9, 30), tick=False):
        fresh = report(people["resident"], cats["policy"])
    first = sweep(at(10, 12, 18))
    assert (first.overdue, first.reminders) == (4, 0)  # three handling limits and one response limit
    counts = (CaseLog.objects.count(), Notification.objects.count())
    again = sweep(at(10, 12, 18))
    assert again.written == 0 and again == sweep_module.SweepReport()
    assert (CaseLog.objects.count(), Notification.objects.count()) == counts
    # One digest per unit for the run that wrote something: the lead unit of the three, the holder of one.
    assert "已超期3件" in Notification.objects.get(recipient=people["justice"], kind="case.limits_due").body
    assert "已超期1件" in Notification.objects.get(recipient=people["dispatcher"], kind="case.limits_due").body
    assert fresh.logs.filter(action=Action.MARK_OVERDUE).count() == 1  # its response limit passed long ago
    assert all(c.logs.filter(action=Action.MARK_OVERDUE).count() == 1 for c in cases)


def test_digest_goes_to_the_lead_unit_working_on_the_case(people, cats):
    accepted_case(people, cats, at(9, 29))
    sweep(at(10, 12, 18))
    assert Notification.objects.filter(recipient=people["justice"], kind="case.limits_due").count() == 1
    assert not Notification.objects.filter(recipient=people["grid_worker"]).exists()


def test_a_missed_run_catches_up_without_duplicates(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    sweep(at(10, 10))  # reminded; then the worker was down over two days
    caught_up = sweep(at(10, 14, 10))
    assert (caught_up.reminders, caught_up.overdue, caught_up.escalations) == (0, 1, 1)
    assert sweep(at(10, 14, 10, 5)).written == 0
    assert steps(case) == [(1, "report"), (2, "accept"), (3, "dispatch"), (4, "remind"), (5, "mark_overdue"),
                           (6, "escalate")]


def test_a_run_missed_from_before_the_reminder_skips_the_late_reminder(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    assert sweep(at(10, 13, 9)).overdue == 1
    assert not case.logs.filter(action=Action.REMIND).exists()


def test_a_new_deadline_gets_its_own_reminders(people, cats):
    case = accepted_case(people, cats, at(9, 29), dispatch=False)
    sweep(at(10, 12, 18))
    with time_machine.travel(at(10, 13, 9), tick=False):
        case = act(people["dispatcher"], case, Action.ESCALATE, note="需县级协调")
        case = act(people["county_dispatcher"], case, Action.ACCEPT)
    new_due = case.handle_due
    # County policy limits default to 15 working days; sweep the day before it falls due.
    sweep(new_due - datetime.timedelta(hours=30))
    sweep(new_due + datetime.timedelta(hours=1))
    assert [a for _s, a in steps(case)] == ["report", "accept", "mark_overdue", "escalate", "accept", "remind",
                                            "mark_overdue"]
    assert len(set(case.logs.exclude(step_key="").values_list("step_key", flat=True))) == 3


def test_city_level_is_marked_overdue_but_not_escalated(tree, people, cats):
    case = accepted_case(people, cats, at(9, 29))
    Case.objects.filter(pk=case.pk).update(holder=tree["city"])
    result = sweep(at(10, 20))
    assert (result.overdue, result.escalations, result.escalations_failed) == (1, 0, 0)
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED


def test_cases_in_other_states_are_not_swept(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(10, 9), tick=False):
        act(people["justice"], case, Action.SIGN)
        act(people["justice"], case, Action.COMPLETE, note="已答复")
    assert sweep(at(10, 30)).written == 0
    assert flag_of(case, at(10, 30)) == Flag.GREEN  # handled, waiting for the return visit


def test_flags_and_the_work_list(people, cats):
    red = accepted_case(people, cats, at(9, 24))  # due 10-09 close (09-25 is the Mid-Autumn holiday)
    yellow = accepted_case(people, cats, at(9, 29))  # due 10-12 close
    green = accepted_case(people, cats, at(9, 30))  # due 10-13 close
    with time_machine.travel(at(9, 30), tick=False):
        deferred = accepted_case(people, cats, at(9, 30))
        act(people["justice"], deferred, Action.SIGN)
        act(people["dispatcher"], deferred, Action.DEFER, review_on=datetime.date(2026, 12, 1))
    with time_machine.travel(at(10, 10), tick=False):
        listed = list(selectors.cases_for(people["dispatcher"]))
        assert [(c.pk, c.flag) for c in listed] == [
            (red.pk, "red"), (yellow.pk, "yellow"), (green.pk, "green"), (deferred.pk, "")]
        assert [c.pk for c in selectors.cases_for(people["dispatcher"], flag="yellow")] == [yellow.pk]
        assert [c.pk for c in selectors.cases_for(people["dispatcher"], status="deferred")] == [deferred.pk]
        assert selectors.cases_for(people["other_dispatcher"]).count() == 0
        assert selectors.cases_for(people["resident"], flag="red").get().pk == red.pk
        with pytest.raises(DomainError) as err:
            selectors.cases_for(people["dispatcher"], flag="purple")
        assert err.value.field == "flag"
        with pytest.raises(DomainError) as err:
            selectors.cases_for(people["dispatcher"], status="lost")
        assert err.value.field == "status"


def test_a_red_flag_shows_the_limit_that_passed(people, cats):
    """A case red because its 督办 order's limit passed shows that limit, not its handling limit still ahead:
    "已超期" never stands next to a future date."""
    case = accepted_case(people, cats, at(9, 30))  # handling due 10-13 close
    with time_machine.travel(at(10, 9), tick=False):
        services.issue_supervision(actor=people["county_dispatcher"], case=case, note="限期办结",
                                   due_at=at(10, 10, 12))
    with time_machine.travel(at(10, 12), tick=False):
        listed = selectors.with_flags(Case.objects.filter(pk=case.pk)).get()
        assert listed.flag == Flag.RED and listed.due == at(10, 10, 12)
        assert listed.due < at(10, 12)


# ------------------------------------------------------------------------------------------------ 督办


@pytest.mark.parametrize("who", ["county_dispatcher", "county_supervisor"])
def test_county_supervises_a_township_case(tree, people, cats, who):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False):
        order = services.issue_supervision(actor=people[who], case=case, note="群众反映强烈，限期办结",
                                              due_at=at(10, 9, 17, 30))
    assert order.issuing_unit == tree["county"] and order.issued_by == people[who]
    assert order.log.action == Action.SUPERVISE and not order.log.is_public and order.fulfilled_at is None
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED  # 督办 records; it does not move the case
    assert Notification.objects.filter(recipient=people["justice"], kind="case.supervised").exists()


@pytest.mark.parametrize("who,error", [("grid_worker", Forbidden), ("dispatcher", Forbidden),
                                       ("other_supervisor", NotFound), ("other_dispatcher", NotFound)])
def test_supervision_refused(people, cats, who, error):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False), pytest.raises(error):
        services.issue_supervision(actor=people[who], case=case, note="限期办结", due_at=at(10, 9))
    assert not SupervisionOrder.objects.exists() and case.logs.count() == 3


@pytest.mark.parametrize("due_at", [at(9, 30, 9), at(9, 30), datetime.datetime(2027, 12, 1, tzinfo=SHANGHAI)])
def test_supervision_needs_a_future_limit_and_changes_nothing_otherwise(people, cats, due_at):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False), pytest.raises(DomainError) as err:
        services.issue_supervision(actor=people["county_dispatcher"], case=case, note="限期办结", due_at=due_at)
    assert err.value.field == "due_at"
    assert not SupervisionOrder.objects.exists() and case.logs.count() == 3


def test_supervision_needs_a_note(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False), pytest.raises(DomainError) as err:
        services.issue_supervision(actor=people["county_dispatcher"], case=case, note=" ", due_at=at(10, 9))
    assert err.value.field == "note"


def test_overdue_supervision_reminds_the_issuing_unit_once(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False):
        order = services.issue_supervision(actor=people["county_supervisor"], case=case, note="限期办结",
                                              due_at=at(10, 8, 17, 30))
    assert sweep(at(10, 8, 17)).supervision_overdue == 0
    assert flag_of(case, at(10, 8, 17)) == Flag.GREEN
    assert sweep(at(10, 8, 18)).supervision_overdue == 1
    assert flag_of(case, at(10, 8, 18)) == Flag.RED  # the 督办 limit passed, the handling limit not yet
    assert sweep(at(10, 9)).supervision_overdue == 0
    reminder = case.logs.get(step_key=f"supervision:{order.pk}:overdue")
    assert reminder.action == Action.REMIND and not reminder.is_public
    for who in ("county_supervisor", "county_dispatcher"):
        assert Notification.objects.filter(recipient=people[who], kind="case.supervision_overdue").count() == 1


def test_an_overdue_order_on_a_case_that_left_the_open_states_is_not_reminded(people, cats):
    from gongzhi.cases.models import Case

    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False):
        services.issue_supervision(actor=people["county_supervisor"], case=case, note="限期办结",
                                   due_at=at(10, 8, 17, 30))
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)  # e.g. merged into another case meanwhile
    assert sweep(at(10, 8, 18)).supervision_overdue == 0
    assert not Notification.objects.filter(kind="case.supervision_overdue").exists()


def test_supervision_is_fulfilled_by_the_step_that_handles_the_case(people, cats):
    case = accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(9, 30), tick=False):
        order = services.issue_supervision(actor=people["county_dispatcher"], case=case, note="限期办结",
                                              due_at=at(10, 8, 17, 30))
    with time_machine.travel(at(10, 8, 11), tick=False):
        act(people["justice"], case, Action.SIGN)
        order.refresh_from_db()
        assert order.fulfilled_at is None  # signing is not handling
        case = act(people["justice"], case, Action.COMPLETE, note="已答复")
    order.refresh_from_db()
    assert order.fulfilled_at == at(10, 8, 11)
    with time_machine.travel(at(10, 9, 9), tick=False):
        act(people["dispatcher"], case, Action.CONFIRM, note="回访满意")  # a later step keeps the first stamp
    order.refresh_from_db()
    assert order.fulfilled_at == at(10, 8, 11)
    assert sweep(at(10, 9, 10)).supervision_overdue == 0


def test_the_periodic_task_runs_the_sweep(people, cats):
    from gongzhi.cases import tasks

    accepted_case(people, cats, at(9, 29))
    with time_machine.travel(at(10, 12, 18), tick=False):
        assert tasks.sweep_case_limits.call_local()["overdue"] == 1


def test_the_benchmark_runs_on_a_tiny_size(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = Path(__file__).resolve().parents[3] / "bench" / "sweep.py"
    spec = importlib.util.spec_from_file_location("bench_sweep", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--cases", "2000"])
    assert figures["cases"] == 2000
    assert figures["first"]["reminders"] + figures["first"]["overdue"] > 0
    assert figures["second_written"] == 0
