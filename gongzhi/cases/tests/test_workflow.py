"""The closed loop: every transition allowed and refused per capacity, and deadlines on the calendar."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from gongzhi.cases import categories, selectors, services
from gongzhi.cases.factories import act, report
from gongzhi.cases.models import Assignment, CaseLog
from gongzhi.cases.workflow import TRANSITIONS, Action, Status
from gongzhi.core.errors import DomainError, Forbidden, NotFound

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_every_status_is_reachable_and_every_transition_has_a_capacity():
    targets = {t.to for t in TRANSITIONS if t.to} | {Status.REPORTED}
    assert targets == set(Status.values)
    assert all(t.capacities for t in TRANSITIONS)


def test_whole_loop_writes_one_log_row_per_step(tree, people, cats):
    case = report(people["resident"], cats["env"])
    assert case.status == Status.REPORTED and case.holder == tree["town"] and case.grid == tree["grid"]
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=(tree["police"],))
    act(people["justice"], case, Action.SIGN)
    act(people["justice"], case, Action.COMPLETE, note="已协调修复路灯")
    act(people["grid_worker"], case, Action.CONFIRM, note="回访：路灯已亮")
    act(people["dispatcher"], case, Action.CLOSE)
    case = act(people["resident"], case, Action.RATE)
    assert case.status == Status.RATED
    steps = list(CaseLog.objects.filter(case=case).values_list("seq", "action", "to_status"))
    assert steps == [
        (1, "report", "reported"), (2, "accept", "accepted"), (3, "dispatch", "dispatched"),
        (4, "sign", "in_progress"), (5, "complete", "handled"), (6, "confirm", "confirmed"),
        (7, "close", "closed"), (8, "rate", "rated")]
    assert case.assignments.get(role=Assignment.Role.ASSIST).unit == tree["police"]


@pytest.mark.parametrize("who,action", [
    ("resident", Action.ACCEPT), ("grid_worker", Action.ACCEPT),
    ("county_dispatcher", Action.ACCEPT), ("dispatcher", Action.RESOLVE_ON_SPOT), ("dispatcher", Action.RATE),
])
def test_refused_capacities_change_nothing(people, cats, who, action):
    case = report(people["resident"], cats["env"])
    with pytest.raises(Forbidden):
        act(people[who], case, action)
    case.refresh_from_db()
    assert case.status == Status.REPORTED and case.logs.count() == 1


def test_out_of_scope_staff_get_not_found(people, cats):
    case = report(people["resident"], cats["env"])
    # A department sees a case only once it is assigned to it.
    for who in ("other_dispatcher", "other_grid_worker", "police", "justice"):
        with pytest.raises(NotFound):
            act(people[who], case, Action.ACCEPT)


def test_wrong_state_is_refused_with_a_clear_message(people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(DomainError) as err:
        act(people["dispatcher"], case, Action.CLOSE)
    assert err.value.code == "invalid_state" and "已上报" in str(err.value.message)


def test_only_the_lead_unit_signs_and_completes(tree, people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"], assist_units=(tree["police"],))
    with pytest.raises(Forbidden):
        act(people["police"], case, Action.SIGN)
    act(people["justice"], case, Action.SIGN)


def test_rejection_needs_a_reason(people, cats):
    case = report(people["resident"], cats["env"])
    with pytest.raises(DomainError) as err:
        act(people["dispatcher"], case, Action.REJECT, note="  ")
    assert err.value.field == "note"
    case = act(people["dispatcher"], case, Action.REJECT, note="不属于本平台受理范围，请拨打12345")
    assert case.status == Status.REJECTED and case.logs.last().is_public


def test_return_is_internal_and_goes_back_to_the_dispatcher(tree, people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    case = act(people["justice"], case, Action.RETURN, note="非本所职责")
    assert case.status == Status.RETURNED and not case.logs.last().is_public
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["police"])
    assert list(case.assignments.filter(is_active=True).values_list("unit", flat=True)) == [tree["police"].pk]


def test_dispatch_only_within_the_holders_area(tree, people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    with pytest.raises(DomainError):
        act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["other_village"])
    with pytest.raises(DomainError):
        act(people["dispatcher"], case, Action.DISPATCH, lead_unit=None)
    assert case.assignments.count() == 0


def test_escalation_moves_the_case_to_the_county_command_centre(tree, people, cats):
    case = report(people["resident"], cats["env"])
    case = act(people["dispatcher"], case, Action.ESCALATE, note="涉及多个乡镇")
    assert case.holder == tree["county"] and case.status == Status.ESCALATED
    with pytest.raises(Forbidden):
        act(people["dispatcher"], case, Action.ACCEPT)
    act(people["county_dispatcher"], case, Action.ACCEPT)


def test_unsatisfied_rating_and_failed_visit_reopen(tree, people, cats):
    case = report(people["resident"], cats["env"])
    act(people["dispatcher"], case, Action.ACCEPT)
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.SIGN)
    act(people["justice"], case, Action.COMPLETE)
    case = act(people["grid_worker"], case, Action.VISIT_FAILED, note="群众反映问题仍在")
    assert case.status == Status.REOPENED
    act(people["dispatcher"], case, Action.DISPATCH, lead_unit=tree["justice"])
    act(people["justice"], case, Action.SIGN)
    act(people["justice"], case, Action.COMPLETE)
    case = act(people["resident"], case, Action.RATE_UNSATISFIED, note="还是没修好")
    assert case.status == Status.REOPENED


@time_machine.travel(datetime.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_accept_sets_the_handling_limit_on_the_working_day_calendar(people, cats):
    case = report(people["resident"], cats["policy"])
    assert case.respond_due == datetime.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)  # 24 natural hours
    case = act(people["dispatcher"], case, Action.ACCEPT)
    # 政策咨询类 at township level: 5 working days from 09-30: 10-08, 09, 10 (make-up Saturday), 12, 13.
    assert case.handle_due == datetime.datetime(2026, 10, 13, 17, 30, tzinfo=SHANGHAI)
    assert case.logs.last().deadlines["handle_due"].startswith("2026-10-13T")


def test_retried_submission_returns_the_same_case(people, cats):
    client_id = uuid.uuid4()
    kwargs = {"actor": people["resident"], "client_id": client_id, "category": cats["env"],
              "description": "垃圾没人清运", "lat": 35.585, "lng": 104.605}
    first, created = services.submit_case(**kwargs)
    again, created_again = services.submit_case(**kwargs)
    assert created and not created_again and first.pk == again.pk
    assert first.number == f"{timezone.localdate():%Y%m%d}{first.pk:06d}"


def test_a_case_is_found_by_its_number_within_scope_only(people, cats):
    """The number is the local reporting date and the id: 23:30 UTC is already the next day in Shanghai."""
    with time_machine.travel(datetime.datetime(2026, 11, 23, 23, 30, tzinfo=datetime.UTC), tick=False):
        case = report(people["resident"], cats["env"])
    assert case.number == f"20261124{case.pk:06d}"
    assert selectors.case_by_number(people["dispatcher"], f" {case.number} ") == case
    for wrong in (f"20261123{case.pk:06d}", f"20261124{case.pk + 1:06d}", "20261324000001", "２０２６１１２４000001",
                  "2026112400000", "", "abc"):
        assert selectors.case_by_number(people["dispatcher"], wrong) is None, wrong
    assert selectors.case_by_number(people["other_dispatcher"], case.number) is None


def test_submission_outside_every_grid_or_to_a_parent_category_is_refused(people, cats):
    with pytest.raises(NotFound):
        report(people["resident"], cats["env"], lat=10.0, lng=10.0)
    with pytest.raises(DomainError):
        report(people["resident"], cats["talk"])


def test_sweep_steps_run_once(people, cats):
    case = report(people["resident"], cats["env"])
    for _ in range(2):
        services.transition(actor=None, case=case, action=Action.REMIND, step_key="remind:respond")
    assert case.logs.filter(action=Action.REMIND).count() == 1


def test_editing_a_category_bumps_its_version_and_cases_keep_theirs(people, cats):
    case = report(people["resident"], cats["env"])
    cats["env"].name = "环境卫生"
    cats["env"].save()
    cats["env"].refresh_from_db()
    case.refresh_from_db()
    assert cats["env"].version == 2 and case.category_version == 1


def test_limits_inherit_from_the_nearest_ancestor_then_the_defaults(cats):
    from gongzhi.cases.models import Category

    leaf = Category.objects.get(code="talk-policy-legal")  # no limits of its own; 政策咨询类 has them
    assert categories.limits_for(leaf, "township") == categories.Limits(24, 5)
    assert categories.limits_for(leaf, "county") == categories.Limits(24, 15)  # the file's defaults
    assert categories.limits_for(cats["family"], "grid") == categories.Limits(12, 1)


def test_presets_load_the_whole_tree_and_keep_disputes_private(cats):
    from gongzhi.cases.models import Category, CategoryKind

    assert Category.objects.filter(parent=cats["talk"]).count() == 8
    assert Category.objects.filter(parent__code="grid").count() == 10
    assert not Category.objects.filter(kind=CategoryKind.DISPUTE, is_public=True).exists()
