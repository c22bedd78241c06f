"""Reads of the KPI rollups, always for a unit the viewer may see (others answer NotFound).

An assessment of a unit over whole months: its own figures; for an area, its areas one level down, the
departments and stations under it and the people who handled cases there, each with their figures (the
pages rank them); and its month-by-month trend. Every read sums a few `KpiCount` rows: one per unit and
month, never the cases.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.analytics import kpis, rollups
from gongzhi.analytics.models import FIELDS, KpiCount, Subject
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.org.models import Level, OrgUnit, UnitKind

# The public pages (B6) show these levels' figures to anyone.
PUBLIC_LEVELS = (Level.COUNTY, Level.TOWNSHIP)
MAX_MONTHS = 36
WORKERS_SHOWN = 50
# People are ranked within a township and below, and within a department: a county or city drills down to
# them rather than ranking thousands at once.
WORKER_LEVELS = (Level.TOWNSHIP, Level.VILLAGE, Level.GRID)


@dataclass(frozen=True)
class Period:
    """Whole months, first to last (each the first day of its month)."""

    first: datetime.date
    last: datetime.date

    @property
    def months(self) -> list[datetime.date]:
        found, month = [], self.first
        while month <= self.last:
            found.append(month)
            month = _next_month(month)
        return found

    def __str__(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y-%m} — {self.last:%Y-%m}"


def _next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _parse_month(text: str, field: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise DomainError(_("请按“年-月”填写月份，例如 2026-03。"), field=field) from None


def period(first: str = "", last: str = "", *, today: datetime.date) -> Period:
    """The months asked for (YYYY-MM each; either may be empty: this month), refusing a reversed or too long
    a period and months after this one."""
    this_month = today.replace(day=1)
    start = _parse_month(first, "from") if first.strip() else None
    end = _parse_month(last, "to") if last.strip() else None
    start, end = start or end or this_month, end or start or this_month
    if end > this_month:
        raise DomainError(_("不能选择以后的月份。"), field="to")
    if start > end:
        raise DomainError(_("起始月份不能晚于结束月份。"), field="from")
    result = Period(start, end)
    if len(result.months) > MAX_MONTHS:
        raise DomainError(_("一次最多统计%(n)d个月。") % {"n": MAX_MONTHS}, field="from")
    return result


def top_units(user: User | AnonymousUser) -> list[OrgUnit]:
    """The units at the top of the viewer's scope (where their assessment page starts)."""
    paths = account_policies.scope_paths(user)
    if not paths:
        return []
    if paths == ("",):
        return list(OrgUnit.objects.filter(parent__isnull=True, is_active=True).order_by("path"))
    return list(OrgUnit.objects.filter(path__in=paths).order_by("path"))


def unit_for(user: User | AnonymousUser, unit_id: int) -> OrgUnit:
    found = account_policies.units_visible_to(user).filter(pk=unit_id).first()
    if found is None:
        raise NotFound()
    return found


def public_unit(code: str) -> OrgUnit:
    """A county or township by its code, for the public page; NotFound for anything else."""
    found = OrgUnit.objects.filter(code=code, kind=UnitKind.AREA, level__in=PUBLIC_LEVELS, is_active=True).first()
    if found is None:
        raise NotFound()
    return found


def public_units() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(kind=UnitKind.AREA, level__in=PUBLIC_LEVELS, is_active=True)
                .order_by("path"))


def _sums(subject: str, months: list[datetime.date], path_q: Q) -> dict[tuple[str, int], kpis.Kpis]:
    """Each (path, worker) key's counts summed over the months, by the database."""
    rows = (KpiCount.objects.filter(path_q, subject=subject, month__in=months).values("path", "worker_id")
            .annotate(**{name: Sum(name) for name in FIELDS}).order_by())
    return {(row["path"], row["worker_id"]): kpis.total([row]) for row in rows}


def _subject_of(unit: OrgUnit) -> str:
    return Subject.AREA if unit.kind == UnitKind.AREA else Subject.UNIT


@dataclass(frozen=True)
class Assessment:
    unit: OrgUnit
    period: Period
    own: kpis.Kpis
    areas: list[tuple[OrgUnit, kpis.Kpis]]  # one level down
    units: list[tuple[OrgUnit, kpis.Kpis]]  # departments and stations under it that handled cases
    workers: list[tuple[User, OrgUnit, kpis.Kpis]]  # the people who handled most
    trend: list[tuple[datetime.date, kpis.Kpis]]
    complete_until: datetime.datetime | None  # the counts include everything before this


def assessment(unit: OrgUnit, chosen: Period, *, with_workers: bool = True) -> Assessment:
    """Everything the assessment page shows for `unit` (already checked to be the viewer's)."""
    months = chosen.months
    subject = _subject_of(unit)
    own = _sums(subject, months, Q(path=unit.path)).get((unit.path, 0), kpis.total([]))
    areas: list[tuple[OrgUnit, kpis.Kpis]] = []
    units: list[tuple[OrgUnit, kpis.Kpis]] = []
    if subject == Subject.AREA:
        children = list(OrgUnit.objects.filter(parent=unit, kind=UnitKind.AREA, is_active=True).order_by("path"))
        found = _sums(Subject.AREA, months, Q(path__in=[c.path for c in children]))
        areas = [(c, found.get((c.path, 0), kpis.total([]))) for c in children]
        # Its own departments and those one level down (a county's and its townships'); further down, the
        # page of the level below ranks them.
        departments = list(OrgUnit.objects.filter(path__startswith=unit.path, kind=UnitKind.DEPARTMENT,
                                                  depth__lte=unit.depth + 2, is_active=True).order_by("path"))
        handled = _sums(Subject.UNIT, months, Q(path__in=[d.path for d in departments]))
        units = [(d, handled[(d.path, 0)]) for d in departments if (d.path, 0) in handled]
    workers: list[tuple[User, OrgUnit, kpis.Kpis]] = []
    if with_workers and (unit.level in WORKER_LEVELS or unit.kind == UnitKind.DEPARTMENT):
        found_workers = _sums(Subject.WORKER, months, Q(path__startswith=unit.path))
        top = sorted(found_workers.items(), key=lambda item: -item[1]["handled"])[:WORKERS_SHOWN]
        people = User.objects.in_bulk([w for (_p, w), _k in top])
        places = {u.path: u for u in OrgUnit.objects.filter(path__in=[p for (p, _w), _k in top])}
        workers = [(people[w], places[p], k) for (p, w), k in top if w in people and p in places]
    trend_months = _trend_months(chosen)
    by_month: dict[datetime.date, list[Mapping[str, Any]]] = defaultdict(list)
    for row in KpiCount.objects.filter(subject=subject, path=unit.path, worker_id=0,
                                       month__in=trend_months).values():
        by_month[row["month"]].append(row)
    trend = [(month, kpis.total(by_month.get(month, []))) for month in trend_months]
    return Assessment(unit=unit, period=chosen, own=own, areas=areas, units=units, workers=workers, trend=trend,
                      complete_until=rollups.lag())


def _trend_months(chosen: Period) -> list[datetime.date]:
    """The twelve months up to the period's last (or the period itself when longer)."""
    months = chosen.months
    if len(months) >= 12:
        return months
    month, found = chosen.last, [chosen.last]
    while len(found) < 12:
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        found.insert(0, month)
    return found
