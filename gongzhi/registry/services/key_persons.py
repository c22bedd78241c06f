"""Key persons (重点人员) and their care and visit plans: listing a resident (列管), changing the plan, ending the
listing (解除列管), and the plan's clock.

The plan's clock: the next visit is owed `interval_days` (the person's own, else their risk level's frequency)
after the last visit, or after the start of the plan before the first visit (`next_visit_due`). A visit moves it
on (`advance_plan`, called by `visits.record_visit` inside the visit's transaction); a change of the risk level or
of the interval recomputes it from the same base. Past it the person is a risk warning (analytics, raised the
day after the due date) until visited or the listing ends.

Every write checks the policy (`registry.policies`: NotFound when the person's grid is out of the actor's
key-person scope, Forbidden when they may see but not manage it), refuses bad input with a DomainError naming the
field and changing nothing, and writes a history row (`services.history`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.core.text import clean_text
from gongzhi.registry import policies
from gongzhi.registry.models import KeyPerson, KeyPersonCategory, RecordChange, Resident, RiskLevel, VisitFrequency
from gongzhi.registry.services import history

CARE_PLAN_MAX = 2000
END_REASON_MAX = 200
MAX_INTERVAL_DAYS = 365
# A listing may be entered late (from a paper register), but not dated before the person could have been known.
OLDEST_START = datetime.date(2000, 1, 1)
# What the record page's history shows of a listing.
HISTORY_FIELDS = ("categories", "risk_level", "responsible", "interval_days", "care_plan", "started_on", "ended_on")


def interval_days(key_person: KeyPerson) -> int:
    """Days between visits: the person's own plan, else the frequency of their risk level."""
    if key_person.interval_days:
        return key_person.interval_days
    return VisitFrequency.objects.values_list("interval_days", flat=True).get(risk_level=key_person.risk_level)


def due_from_base(key_person: KeyPerson) -> datetime.date:
    """The date the next visit is owed: the last visit's day (or the start of the plan) plus the interval."""
    base = timezone.localdate(key_person.last_visit_at) if key_person.last_visit_at else key_person.started_on
    return base + datetime.timedelta(days=interval_days(key_person))


def advance_plan(key_person: KeyPerson, visited_at: datetime.datetime) -> None:
    """After a visit: the next one is owed `interval_days` after it (a late visit restarts the clock from its own
    day; an earlier visit recorded after a later one changes nothing). Call inside the visit's transaction."""
    if key_person.last_visit_at is not None and key_person.last_visit_at >= visited_at:
        return
    key_person.last_visit_at = visited_at
    key_person.next_visit_due = timezone.localdate(visited_at) + datetime.timedelta(days=interval_days(key_person))
    key_person.save(update_fields=["last_visit_at", "next_visit_due", "updated_at"])


# Checks of the input ------------------------------------------------------------------------------------------

def _check_access(actor: User, record: KeyPerson | Resident) -> None:
    grid = record.grid
    if not policies.can_view_key_persons(actor, grid):
        raise NotFound()
    if not policies.can_manage_key_persons(actor, grid):
        raise Forbidden(_("您没有管理重点人员的权限。"))


def _categories(categories: Sequence[KeyPersonCategory]) -> list[KeyPersonCategory]:
    chosen = {c.pk: c for c in categories}
    if not chosen:
        raise DomainError(_("请至少选择一个重点人员类别。"), field="categories")
    active = set(KeyPersonCategory.objects.filter(pk__in=list(chosen), is_active=True).values_list("pk", flat=True))
    if active != set(chosen):
        raise DomainError(_("所选类别已停用，请重新选择。"), field="categories")
    return list(chosen.values())


def _risk_level(value: str) -> str:
    if value not in RiskLevel.values:
        raise DomainError(_("请选择风险等级。"), field="risk_level")
    return value


def _interval(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= MAX_INTERVAL_DAYS:
        raise DomainError(_("走访间隔应为1到%(n)d天；不填则按风险等级的频次。") % {"n": MAX_INTERVAL_DAYS},
                          field="interval_days")
    return value


def _responsible(user: User | None, grid_holder: Resident | KeyPerson) -> User | None:
    if user is None:
        return None
    if not user.is_active or not policies.can_be_responsible(user, grid_holder.grid):
        raise DomainError(_("责任人须是该网格的网格员、网格长或村(社区)管理员。"), field="responsible")
    return user


def _care_plan(value: str) -> str:
    return clean_text(value, field="care_plan", max_length=CARE_PLAN_MAX,
                      required_message=_("请填写帮扶管控措施。"),
                      too_long_message=_("帮扶管控措施不能超过%(n)d个字。") % {"n": CARE_PLAN_MAX})


def _started_on(value: datetime.date | None) -> datetime.date:
    today = timezone.localdate()
    if value is None:
        return today
    if value > today:
        raise DomainError(_("列管日期不能晚于今天。"), field="started_on")
    if value < OLDEST_START:
        raise DomainError(_("列管日期无效。"), field="started_on")
    return value


# Writes -------------------------------------------------------------------------------------------------------

def list_key_person(*, actor: User, resident: Resident, categories: Sequence[KeyPersonCategory], risk_level: str,
                    care_plan: str, responsible: User | None = None, interval_days: int | None = None,
                    started_on: datetime.date | None = None) -> KeyPerson:
    """列管: list `resident` as a key person with a care and visit plan; the first visit is owed `interval` days
    after `started_on` (today by default). A person listed before and ended (解除列管) is listed again on the
    same record, keeping their visits. Already listed: Conflict."""
    try:
        return _list(actor=actor, resident=resident, categories=categories, risk_level=risk_level,
                     care_plan=care_plan, responsible=responsible, interval=interval_days, started_on=started_on)
    except IntegrityError:  # the same person listed twice at once
        raise _already_listed() from None


def _already_listed() -> Conflict:
    return Conflict(_("该居民已列为重点人员，请在其重点人员档案中修改管控计划。"), code="already_listed",
                    field="resident")


@transaction.atomic
def _list(*, actor: User, resident: Resident, categories: Sequence[KeyPersonCategory], risk_level: str,
          care_plan: str, responsible: User | None, interval: int | None,
          started_on: datetime.date | None) -> KeyPerson:
    resident = Resident.objects.select_related("grid").get(pk=resident.pk)
    _check_access(actor, resident)
    existing = KeyPerson.objects.select_for_update().filter(resident=resident).first()
    if existing is not None and existing.ended_on is None:
        raise _already_listed()
    if resident.status != Resident.Status.ACTIVE:
        raise DomainError(_("该居民已迁出或死亡，不能列为重点人员。"), field="resident")
    chosen = _categories(categories)
    values = {"risk_level": _risk_level(risk_level), "responsible": _responsible(responsible, resident),
              "interval_days": _interval(interval), "care_plan": _care_plan(care_plan),
              "started_on": _started_on(started_on)}
    if existing is None:
        person = KeyPerson(resident=resident, grid=resident.grid, **values)
        before = dict.fromkeys(HISTORY_FIELDS, "")
        action = RecordChange.Action.CREATED
    else:  # 重新列管: the same record, its old visits kept; the plan starts again
        person = existing
        before = history.snapshot(person, HISTORY_FIELDS)
        for name, value in values.items():
            setattr(person, name, value)
        person.grid, person.ended_on, person.last_visit_at = resident.grid, None, None
        action = RecordChange.Action.UPDATED
    person.next_visit_due = due_from_base(person)
    person.save()
    person.categories.set(chosen)
    history.log_change(actor=actor, obj=person, action=action, before=before,
                       after=history.snapshot(person, HISTORY_FIELDS))
    return person


@transaction.atomic
def change_plan(*, actor: User, key_person: KeyPerson, categories: Sequence[KeyPersonCategory], risk_level: str,
                care_plan: str, responsible: User | None = None, interval_days: int | None = None) -> KeyPerson:
    """Change the categories, risk level, responsible worker, own interval or care plan of a listed person. A new
    risk level or interval recomputes the next visit's date from the last visit (or the start of the plan)."""
    person = KeyPerson.objects.select_for_update().select_related("grid").get(pk=key_person.pk)
    _check_access(actor, person)
    if person.ended_on is not None:
        raise DomainError(_("该重点人员已解除列管，不能修改管控计划。"))
    chosen = _categories(categories)
    values = {"risk_level": _risk_level(risk_level), "responsible": _responsible(responsible, person),
              "interval_days": _interval(interval_days), "care_plan": _care_plan(care_plan)}
    before = history.snapshot(person, HISTORY_FIELDS)
    clock_changed = (values["risk_level"] != person.risk_level or values["interval_days"] != person.interval_days)
    for name, value in values.items():
        setattr(person, name, value)
    if clock_changed:
        person.next_visit_due = due_from_base(person)
    person.save()
    person.categories.set(chosen)
    history.log_change(actor=actor, obj=person, action=RecordChange.Action.UPDATED, before=before,
                       after=history.snapshot(person, HISTORY_FIELDS))
    return person


@transaction.atomic
def end_listing(*, actor: User, key_person: KeyPerson, reason: str) -> KeyPerson:
    """解除列管 with a reason (kept in the history): the person no longer owes visits, and their warning clears
    at the next run of the warning rules. Ending an ended listing is refused."""
    person = KeyPerson.objects.select_for_update().select_related("grid").get(pk=key_person.pk)
    _check_access(actor, person)
    text = clean_text(reason, field="reason", max_length=END_REASON_MAX, required_message=_("请填写解除列管的原因。"),
                      too_long_message=_("原因不能超过%(n)d个字。") % {"n": END_REASON_MAX})
    if person.ended_on is not None:
        raise DomainError(_("该重点人员已解除列管。"))
    before = history.snapshot(person, HISTORY_FIELDS)
    person.ended_on = timezone.localdate()
    person.save(update_fields=["ended_on", "updated_at"])
    changes = history.diff(person, before, history.snapshot(person, HISTORY_FIELDS))
    changes[str(_("解除原因"))] = ["", text]
    RecordChange.objects.create(record_type=history.record_type(person), record_id=person.pk,
                                action=RecordChange.Action.ENDED, changes=changes, actor=actor, at=timezone.now())
    return person


def follow_residents(resident_ids: Sequence[int]) -> None:
    """Key persons keep their resident's grid (it decides who sees them and whom their warnings reach): every
    write that moves residents to another grid calls this, inside its transaction."""
    KeyPerson.objects.filter(resident_id__in=resident_ids).update(
        grid_id=Subquery(Resident.objects.filter(pk=OuterRef("resident_id")).values("grid_id")[:1]))
