"""Reads of key persons (重点人员), only ever within `policies.key_persons_q`: the posts that care for or supervise
them (grid staff, village administrators, command-centre dispatchers and supervisors). Anyone else — a
department handler, a village station, a part-time member, a merchant, a resident — finds nothing, and a record
outside their key-person scope answers NotFound, as if it did not exist.

Every opening of a record (`open_record`) writes a `KeyPersonView` row (who, when); the record page shows the
recent viewers to those who may manage the person.

Due states, from `next_visit_due` and today's date (Asia/Shanghai):
    overdue   the due date has passed (a risk warning from the next day's run of the warning rules);
    due_soon  due today or within DUE_SOON_DAYS days (即将到期; no warning yet);
    planned   due later;
    ended     the listing ended (解除列管).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Membership, User
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.pii import keyed_hash
from gongzhi.core.validators import normalize_id_number
from gongzhi.org.models import Level, OrgUnit, UnitKind
from gongzhi.registry import policies
from gongzhi.registry.models import (
    KeyPerson,
    KeyPersonCategory,
    KeyPersonView,
    RecordChange,
    Resident,
    RiskLevel,
    Visit,
)
from gongzhi.registry.services import key_persons as plans

DUE_SOON_DAYS = 3
OVERDUE, DUE_SOON, PLANNED, ENDED = "overdue", "due_soon", "planned", "ended"
DUE_FILTERS = (OVERDUE, DUE_SOON)
VISITS_SHOWN = 50
HISTORY_SHOWN = 50
VIEWERS_SHOWN = 20
SEARCH_RESULTS = 20
AREA_CHOICES_MAX = 500
_ID_LIKE = re.compile(r"^[0-9０-９xX ]{15,}$")


def key_persons_visible_to(user: User) -> QuerySet[KeyPerson]:
    return KeyPerson.objects.filter(policies.key_persons_q(user))


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def due_soon_until(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=DUE_SOON_DAYS)


def due_state(person: KeyPerson, today: datetime.date) -> str:
    if person.ended_on is not None:
        return ENDED
    due = person.next_visit_due
    if due is None:
        return PLANNED
    if due < today:
        return OVERDUE
    return DUE_SOON if due <= due_soon_until(today) else PLANNED


def with_due_states(persons: Iterable[KeyPerson], today: datetime.date | None = None) -> list[KeyPerson]:
    """The persons with `due_state`, `days_overdue` and `days_left` set for the page."""
    today = _today(today)
    shown = list(persons)
    for person in shown:
        state, due = due_state(person, today), person.next_visit_due
        setattr(person, "due_state", state)  # noqa: B010 - for the page only, not a model field
        setattr(person, "days_overdue", (today - due).days if due and state == OVERDUE else 0)  # noqa: B010
        setattr(person, "days_left", (due - today).days if due and state != OVERDUE else 0)  # noqa: B010
    return shown


# Lists --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What the lists may be narrowed by; every value is optional. `area` is a unit in the viewer's scope (a
    township, village or grid); `due` is OVERDUE or DUE_SOON; `ended` shows the ended listings instead."""

    category: int | None = None
    risk_level: str | None = None
    due: str | None = None
    responsible: int | None = None
    area: int | None = None
    ended: bool = False


def _area_path(user: User, area_id: int) -> str:
    unit = OrgUnit.objects.filter(pk=area_id, kind=UnitKind.AREA).first()
    if unit is None or not policies.can_view_key_persons(user, unit):
        raise DomainError(_("所选区域不在您的管辖范围内。"), field="area")
    return unit.path


def _filtered(user: User, filters: Filters, today: datetime.date, *, skip: frozenset[str] = frozenset()
              ) -> QuerySet[KeyPerson]:
    queryset = key_persons_visible_to(user).filter(ended_on__isnull=not filters.ended)
    if filters.category is not None and "category" not in skip:
        queryset = queryset.filter(categories__pk=filters.category)
    if filters.risk_level and "risk_level" not in skip:
        if filters.risk_level not in RiskLevel.values:
            raise DomainError(_("未知的风险等级。"), field="risk_level")
        queryset = queryset.filter(risk_level=filters.risk_level)
    if filters.due:
        if filters.due == OVERDUE:
            queryset = queryset.filter(next_visit_due__lt=today)
        elif filters.due == DUE_SOON:
            queryset = queryset.filter(next_visit_due__gte=today, next_visit_due__lte=due_soon_until(today))
        else:
            raise DomainError(_("未知的走访状态。"), field="due")
    if filters.responsible is not None:
        queryset = queryset.filter(responsible_id=filters.responsible)
    if filters.area is not None:
        queryset = queryset.filter(grid__path__startswith=_area_path(user, filters.area))
    return queryset


def key_person_list(user: User, filters: Filters | None = None, *, today: datetime.date | None = None
                    ) -> QuerySet[KeyPerson]:
    """The key persons the viewer may see, the most pressing first (by the date the next visit is owed).
    Unknown filter values raise DomainError (field set)."""
    today = _today(today)
    queryset = _filtered(user, filters or Filters(), today)
    order = ["-ended_on", "pk"] if filters and filters.ended else ["next_visit_due", "pk"]
    return (queryset.select_related("resident", "grid", "grid__parent", "responsible")
            .prefetch_related(Prefetch("categories", queryset=KeyPersonCategory.objects.order_by("order", "pk")))
            .order_by(*order))


@dataclass(frozen=True)
class Counts:
    """The figures over a list: overall, by due state, and by category and risk level (each of the two counted
    with every other filter applied, so choosing a category still shows the others' numbers)."""

    total: int
    overdue: int
    due_soon: int
    by_category: list[tuple[KeyPersonCategory, int]] = field(default_factory=list)
    by_risk: list[tuple[str, str, int]] = field(default_factory=list)


def key_person_counts(user: User, filters: Filters | None = None, *, today: datetime.date | None = None
                      ) -> Counts:
    today = _today(today)
    filters = filters or Filters()
    queryset = _filtered(user, filters, today)
    states = queryset.aggregate(
        total=Count("pk", distinct=True),
        overdue=Count("pk", filter=Q(next_visit_due__lt=today), distinct=True),
        due_soon=Count("pk", filter=Q(next_visit_due__gte=today, next_visit_due__lte=due_soon_until(today)),
                       distinct=True))
    per_category = dict(_filtered(user, filters, today, skip=frozenset({"category"}))
                        .values("categories").annotate(n=Count("pk", distinct=True)).order_by()
                        .values_list("categories", "n"))
    per_risk = dict(_filtered(user, filters, today, skip=frozenset({"risk_level"}))
                    .values("risk_level").annotate(n=Count("pk", distinct=True)).order_by()
                    .values_list("risk_level", "n"))
    categories = KeyPersonCategory.objects.filter(Q(is_active=True) | Q(pk__in=list(per_category)))
    return Counts(total=states["total"], overdue=states["overdue"], due_soon=states["due_soon"],
                  by_category=[(c, per_category.get(c.pk, 0)) for c in categories],
                  by_risk=[(value, str(label), per_risk.get(value, 0)) for value, label in RiskLevel.choices])


def category_choices() -> list[KeyPersonCategory]:
    return list(KeyPersonCategory.objects.filter(is_active=True))


def area_choices(user: User) -> list[OrgUnit]:
    """The townships, villages and grids in the viewer's key-person scope, for the area filter (at most
    AREA_CHOICES_MAX: a county narrows by township or village)."""
    queryset = (OrgUnit.objects.filter(policies.key_persons_q(user, "path"), kind=UnitKind.AREA, is_active=True,
                                       level__in=[Level.TOWNSHIP, Level.VILLAGE, Level.GRID]).order_by("path"))
    units = list(queryset[:AREA_CHOICES_MAX + 1])
    if len(units) > AREA_CHOICES_MAX:
        units = [u for u in units if u.level != Level.GRID][:AREA_CHOICES_MAX]
    return units


def responsible_filter_choices(user: User) -> list[User]:
    """The responsible workers of the key persons the viewer may see."""
    ids = key_persons_visible_to(user).filter(ended_on__isnull=True, responsible__isnull=False).values(
        "responsible_id")
    return list(User.objects.filter(pk__in=ids).order_by("real_name", "pk"))


def responsible_choices(grid: OrgUnit) -> list[User]:
    """Who may answer for the visits of a key person in `grid` (`policies.can_be_responsible`): the active staff
    holding a responsible post on the grid or above it, the grid's own first."""
    posts = (Membership.objects.active()
             .filter(role__in=policies.RESPONSIBLE_ROLES, unit__path__in=grid.ancestor_paths() + [grid.path],
                     user__is_active=True, user__kind=User.Kind.STAFF)
             .select_related("user", "unit"))
    people: dict[int, User] = {}
    for post in sorted(posts, key=lambda p: (-len(p.unit.path), p.user.real_name, p.user.pk)):
        people.setdefault(post.user.pk, post.user)
    return list(people.values())


# The worker portal's home block -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DueSummary:
    overdue: int
    due_soon: int
    active: int
    pressing: list[KeyPerson]


def due_summary(user: User, *, today: datetime.date | None = None, shown: int = 5) -> DueSummary | None:
    """For the worker's home page: how many key persons of their grids are overdue and due soon, and the most
    pressing few; None for a viewer without key-person access."""
    if not policies.key_person_paths(user):
        return None
    today = _today(today)
    active = key_persons_visible_to(user).filter(ended_on__isnull=True)
    figures = active.aggregate(
        active=Count("pk"), overdue=Count("pk", filter=Q(next_visit_due__lt=today)),
        due_soon=Count("pk", filter=Q(next_visit_due__gte=today, next_visit_due__lte=due_soon_until(today))))
    pressing = with_due_states(active.filter(next_visit_due__lte=due_soon_until(today))
                               .select_related("resident", "grid").order_by("next_visit_due", "pk")[:shown], today)
    return DueSummary(overdue=figures["overdue"], due_soon=figures["due_soon"], active=figures["active"],
                      pressing=pressing)


# The record ---------------------------------------------------------------------------------------------------

def key_person_for(user: User, key_person_id: int) -> KeyPerson:
    """One key person the viewer may see (listed or ended); NotFound otherwise. Does not log a view: pages
    that show the record call `open_record`."""
    found = (key_persons_visible_to(user).select_related("resident", "resident__household", "grid",
                                                         "grid__parent", "responsible")
             .filter(pk=key_person_id).first())
    if found is None:
        raise NotFound()
    return found


@dataclass
class Record:
    person: KeyPerson
    categories: list[KeyPersonCategory]
    interval_days: int
    visits: list[Visit]
    visit_count: int
    history: list[RecordChange]
    viewers: list[KeyPersonView]
    may_manage: bool
    may_visit: bool


def open_record(user: User, key_person_id: int, *, today: datetime.date | None = None) -> Record:
    """The record page of a key person: the person, the plan, the visits (newest first), the change history and,
    for those who may manage the person, the latest viewers. Writes a `KeyPersonView` row for this opening."""
    person = key_person_for(user, key_person_id)
    KeyPersonView.objects.create(key_person=person, viewer=user)
    with_due_states([person], today)
    may_manage = policies.can_manage_key_persons(user, person.grid)
    visits = Visit.objects.filter(key_person=person).select_related("visitor").prefetch_related("photos")
    changes = (RecordChange.objects.filter(record_type="keyperson", record_id=person.pk)
               .select_related("actor").order_by("-at", "-pk"))
    viewers = (list(KeyPersonView.objects.filter(key_person=person).select_related("viewer")
                    .order_by("-at", "-pk")[:VIEWERS_SHOWN]) if may_manage else [])
    return Record(person=person, categories=list(person.categories.order_by("order", "pk")),
                  interval_days=plans.interval_days(person),
                  visits=list(visits.order_by("-visited_at", "-pk")[:VISITS_SHOWN]), visit_count=visits.count(),
                  history=list(changes[:HISTORY_SHOWN]), viewers=viewers, may_manage=may_manage,
                  may_visit=person.ended_on is None)


def manageable_key_person(user: User, key_person_id: int) -> KeyPerson:
    """A key person whose plan the viewer may change (the edit page); NotFound for anyone else, even those who
    may see the record (its page offers them no edit link)."""
    person = key_person_for(user, key_person_id)
    if not policies.can_manage_key_persons(user, person.grid):
        raise NotFound()
    return person


# Listing a resident: the search ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    resident: Resident
    listed: bool  # listed now (not ended)
    key_person_id: int | None


def _listable(user: User) -> QuerySet[Resident]:
    return Resident.objects.filter(policies.key_persons_manage_q(user), status=Resident.Status.ACTIVE)


def may_list_key_persons(user: User) -> bool:
    """Whether the viewer may list key persons anywhere (the list pages offer 列管重点人员)."""
    return OrgUnit.objects.filter(policies.key_persons_manage_q(user, "path")).exists()


def search_residents(user: User, query: str) -> list[Candidate]:
    """Residents the viewer may list as key persons, by ID number (through its keyed hash: the full number,
    checked) or by name (exact or beginning with the text). A malformed ID number raises DomainError."""
    text = (query or "").strip()
    if not text:
        return []
    queryset = _listable(user).select_related("grid", "household")
    if _ID_LIKE.match(text):
        try:
            number = normalize_id_number(text)
        except DomainError as err:
            raise DomainError(err.message, field="q") from None
        queryset = queryset.filter(id_number_hash=keyed_hash(number))
    else:
        queryset = queryset.filter(name__startswith=text.replace(" ", ""))
    found = list(queryset.order_by("name", "pk")[:SEARCH_RESULTS])
    known = {resident_id: (pk, ended_on) for resident_id, pk, ended_on in
             KeyPerson.objects.filter(resident__in=found).values_list("resident_id", "pk", "ended_on")}
    return [Candidate(resident=r, listed=r.pk in known and known[r.pk][1] is None,
                      key_person_id=known[r.pk][0] if r.pk in known else None) for r in found]


def resident_to_list(user: User, resident_id: int) -> Resident:
    """A resident the viewer may list as a key person (the listing form); NotFound otherwise."""
    found = _listable(user).select_related("grid", "household").filter(pk=resident_id).first()
    if found is None:
        raise NotFound()
    return found


# For other apps' pages ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Brief:
    id: int
    name: str
    grid_name: str


def briefs(user: User, key_person_ids: Iterable[int]) -> dict[int, Brief]:
    """The names of those of the given key persons the viewer may see (e.g. for the risk-warnings page): a
    viewer without key-person access gets none."""
    rows = (key_persons_visible_to(user).filter(pk__in=list(set(key_person_ids)))
            .values_list("pk", "resident__name", "grid__name"))
    return {pk: Brief(pk, name, grid) for pk, name, grid in rows}
