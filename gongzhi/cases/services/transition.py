"""Workflow steps: `transition` is the only code that changes a case's status. Each call checks scope (404),
capacity (403), the state and the note, applies the side effects (deadlines, assignments, escalation to the
next level, merging) and writes exactly one CaseLog row with the actor, the note and a snapshot of the
deadlines; then `notices.announce` tells the people concerned."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Membership, User
from gongzhi.cases import deadlines, notices, policies
from gongzhi.cases.models import Assignment, Case, CaseLog, SupervisionOrder
from gongzhi.cases.workflow import SUPERVISION_DONE, Action, Capacity, Status, transition_for
from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.core.rows import insert_row
from gongzhi.core.text import clean_text
from gongzhi.org.models import LEVEL_ORDER, Level, OrgUnit, UnitKind

NOTE_MAX_LENGTH = 2000
# Actions a complaint's subject unit may not take on it (B5).


def write_log(*, case: Case, action: str, from_status: str, actor: User | None, note: str, public: bool,
              step_key: str = "", first: bool = False) -> CaseLog:
    """The one CaseLog row of a step. `first`: the case was created in this transaction and has no log yet,
    so the lookup of the last seq is skipped."""
    last = 0 if first else case.logs.order_by("-seq").values_list("seq", flat=True).first() or 0
    return insert_row(CaseLog(
        case=case, seq=last + 1, action=action, from_status=from_status, to_status=case.status, actor=actor,
        note=note, is_public=public, deadlines=deadlines.snapshot(case.respond_due, case.handle_due),
        step_key=step_key))


def last_log(case: Case) -> CaseLog:
    """The row `transition` has just written (the case is locked until the transaction ends)."""
    return CaseLog.objects.filter(case=case).latest("seq")


def _area_ancestor(unit: OrgUnit, level: str) -> OrgUnit:
    if unit.level == level and unit.kind == UnitKind.AREA:
        return unit
    found = unit.ancestors().filter(level=level, kind=UnitKind.AREA).first()
    if found is None:
        raise DomainError(_("该网格不属于任何乡镇，无法受理。"))
    return found


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("holder", "subject_unit").get(pk=case.pk)


@transaction.atomic
def transition(*, actor: User | None, case: Case, action: str, note: str = "", step_key: str = "",
               lead_unit: OrgUnit | None = None, lead_person: User | None = None,
               assist_units: Iterable[OrgUnit] = (),
               review_on: datetime.date | None = None, merge_into: Case | None = None) -> Case:
    """Take `action` on `case` as `actor` (None: the system sweep). Refusals change nothing."""
    rule = transition_for(action)
    if rule is None:
        raise DomainError(_("未知的操作。"), field="action")
    case = _lock(case)
    if actor is not None and not policies.cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound()
    held = policies.capacities(actor, case) if actor is not None else {Capacity.SYSTEM}
    if not held & rule.capacities:
        raise Forbidden(_("您不能对该事件执行“%(action)s”。") % {"action": Action(action).label})
    if case.status not in rule.sources:
        raise DomainError(_("事件当前为“%(status)s”，不能执行“%(action)s”。") % {
            "status": Status(case.status).label, "action": Action(action).label}, code="invalid_state")
    refusal = policies.barred(actor, case, action) if actor is not None else None
    if refusal is not None:
        raise Forbidden(refusal)
    note = clean_text(note, field="note", max_length=NOTE_MAX_LENGTH,
                      required_message=_("请填写说明。") if rule.note_required else None)
    if step_key and case.logs.filter(step_key=step_key).exists():
        return case  # this sweep step already ran
    from_status = case.status
    _apply(case, action, actor=actor, lead_unit=lead_unit, lead_person=lead_person,
           assist_units=tuple(assist_units), review_on=review_on, merge_into=merge_into)
    if rule.to is not None:
        case.status = rule.to
    case.save()
    if case.status in SUPERVISION_DONE and from_status not in SUPERVISION_DONE:
        SupervisionOrder.objects.filter(case=case, fulfilled_at__isnull=True).update(fulfilled_at=timezone.now())
    log = write_log(case=case, action=action, from_status=from_status, actor=actor, note=note,
                     public=rule.public, step_key=step_key)
    notices.announce(case=case, log=log)
    return case


def _apply(case: Case, action: str, *, actor: User | None, lead_unit: OrgUnit | None, lead_person: User | None,
           assist_units: tuple[OrgUnit, ...], review_on: datetime.date | None, merge_into: Case | None) -> None:
    """The side effects of an action beyond the status change."""
    now = timezone.now()
    if action in {Action.ACCEPT, Action.RESOLVE_ON_SPOT, Action.REJECT} and case.responded_at is None:
        case.responded_at = now
    if action == Action.ACCEPT:
        case.handle_due = deadlines.handle_due(case.category, case.holder.level, start=now)
    elif action == Action.DISPATCH:
        _dispatch(case, lead_unit=lead_unit, lead_person=lead_person, assist_units=assist_units, now=now)
    elif action == Action.SIGN:
        case.assignments.filter(is_active=True, role=Assignment.Role.LEAD).update(signed_at=now)
    elif action == Action.ESCALATE:
        _escalate(case, now=now)
    elif action == Action.DEFER:
        if review_on is None or review_on <= timezone.localdate():
            raise DomainError(_("请填写今天以后的复查日期。"), field="review_on")
        case.review_on = review_on
    elif action in {Action.CLOSE, Action.REJECT}:
        case.closed_at = now
    elif action == Action.MERGE:
        _merge(case, into=merge_into)
    elif action in {Action.VISIT_FAILED, Action.RATE_UNSATISFIED}:
        case.closed_at = None
        case.handle_due = deadlines.handle_due(case.category, case.holder.level, start=now)


def unit_refused(field: str) -> DomainError:
    """A unit that does not exist, or lies outside where the case's holder may dispatch: one answer for both
    and no name, so a caller cannot learn which units exist outside their area."""
    return DomainError(_("所选单位不存在，或不在本级的派单范围内。"), field=field)


def person_refused(field: str) -> DomainError:
    """A person who does not exist or holds no post in the chosen lead unit: one answer, no name."""
    return DomainError(_("所选人员不存在，或不在所选主办单位任职。"), field=field)


def _dispatch(case: Case, *, lead_unit: OrgUnit | None, lead_person: User | None,
              assist_units: tuple[OrgUnit, ...], now: datetime.datetime) -> None:
    if lead_unit is None:
        raise DomainError(_("请选择主办单位。"), field="lead_unit")
    units = [lead_unit, *assist_units]
    if len({u.pk for u in units}) != len(units):
        raise DomainError(_("主办单位和协办单位不能重复。"), field="assist_units")
    for unit in units:
        # The holder dispatches within its own area: its departments, villages and grids.
        if not unit.path.startswith(case.holder.path) or not unit.is_active:
            raise unit_refused("lead_unit" if unit is lead_unit else "assist_units")
    if lead_person is not None and not Membership.objects.staff().filter(user=lead_person, unit=lead_unit).exists():
        raise person_refused("lead_person")
    case.assignments.filter(is_active=True).update(is_active=False)
    Assignment.objects.create(case=case, unit=lead_unit, person=lead_person, role=Assignment.Role.LEAD)
    for unit in assist_units:
        Assignment.objects.create(case=case, unit=unit, role=Assignment.Role.ASSIST)
    # The limit follows the level that does the work: handed down to a village (or a grid), the case gets that
    # level's limit from now (a village's 5 working days, not the township's 10), but never later than the
    # limit it had, which the resident was told when it was accepted.
    if LEVEL_ORDER.index(Level(lead_unit.level)) > LEVEL_ORDER.index(Level(case.holder.level)):
        level_due = deadlines.handle_due(case.category, lead_unit.level, start=now)
        case.handle_due = min(case.handle_due, level_due) if case.handle_due else level_due


def _escalate(case: Case, *, now: datetime.datetime) -> None:
    index = LEVEL_ORDER.index(Level(case.holder.level))
    if index == 0:
        raise DomainError(_("市级指挥中心已是最高层级，不能再上报。"), code="top_level")
    case.holder = _area_ancestor(case.holder, LEVEL_ORDER[index - 1])
    case.assignments.filter(is_active=True).update(is_active=False)
    case.respond_due = deadlines.respond_due(case.category, case.holder.level, start=now)
    case.handle_due = None


def _merge(case: Case, *, into: Case | None) -> None:
    if into is None or into.pk == case.pk:
        raise DomainError(_("请选择要并入的另一个事件。"), field="merge_into")
    if into.merged_into_id is not None or into.status not in {
            Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
            Status.ESCALATED, Status.REOPENED}:
        raise DomainError(_("只能并入仍在办理中的事件。"), field="merge_into")
    case.merged_into = into
    case.closed_at = timezone.now()
