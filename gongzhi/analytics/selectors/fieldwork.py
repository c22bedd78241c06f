"""Field work (巡查走访) read together with cases: a worker's daily work log (工作手册) and month, the cases found
on a patrol, a patrol on the map, and the command centre's monthly figures per worker. The patrol and visit
parts are `registry.selectors.fieldwork` (what the viewer may see: `registry.policies.fieldwork_q`); cases are
those the viewer may see (`cases.policies.cases_visible_to`). Out of scope: NotFound. Here rather than in the
registry because the registry lies below cases and may not read them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import shapely
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.cases import policies as case_policies
from gongzhi.cases.models import Case, CaseLog
from gongzhi.cases.workflow import Action
from gongzhi.org.models import OrgUnit
from gongzhi.registry.models import Patrol, Visit
from gongzhi.registry.selectors import fieldwork as registry_fieldwork
from gongzhi.registry.selectors.fieldwork import DayFigures, WorkerFigures

# The monthly table's columns that can order it (the visit kinds are columns of their own).
SORT_KEYS = ("name", "patrols", "hours", "km", "visits", *Visit.Kind.values, "cases")


@dataclass
class LogEntry:
    """One line of the work log, in time order: a patrol, a visit, a case reported or a step taken on a case."""

    at: datetime.datetime
    kind: str  # "patrol", "visit", "case", "step"
    patrol: Patrol | None = None
    visit: Visit | None = None
    case: Case | None = None
    step: CaseLog | None = None
    label: str = ""


@dataclass
class WorkLog:
    worker: User
    day: datetime.date
    entries: list[LogEntry]
    figures: DayFigures
    previous_day: datetime.date
    next_day: datetime.date | None  # None from today on: the future has no log


def _cases(user: User) -> QuerySet[Case]:
    return case_policies.cases_visible_to(user)


def work_log(user: User, worker_id: int, day: datetime.date) -> WorkLog:
    """工作手册 of a worker for a local day: their patrols (times, duration, distance), visits, the cases they
    reported and the steps they took on cases, as one timeline."""
    worker = registry_fieldwork.visible_worker(user, worker_id)
    start, end = registry_fieldwork.local_day_bounds(day)
    entries: list[LogEntry] = []
    figures = DayFigures()
    for patrol in registry_fieldwork.worker_patrols(user, worker, start, end):
        entries.append(LogEntry(at=patrol.started_at, kind="patrol", patrol=patrol))
        figures.patrols += 1
        figures.distance_m += patrol.distance_m
        if patrol.ended_at is not None:
            figures.patrol_seconds += (patrol.ended_at - patrol.started_at).total_seconds()
    for visit in registry_fieldwork.worker_visits(user, worker, start, end):
        entries.append(LogEntry(at=visit.visited_at, kind="visit", visit=visit,
                                label=registry_fieldwork.visit_label(visit)))
        figures.visits += 1
    for case in (_cases(user).filter(reporter=worker, created_at__gte=start, created_at__lt=end)
                 .select_related("category", "grid")):
        entries.append(LogEntry(at=case.created_at, kind="case", case=case))
        figures.cases += 1
    steps = (CaseLog.objects.filter(actor=worker, created_at__gte=start, created_at__lt=end,
                                    case__in=_cases(user).values("pk"))
             .exclude(action=Action.REPORT).select_related("case__category"))
    for step in steps:
        entries.append(LogEntry(at=step.created_at, kind="step", step=step, case=step.case))
        figures.steps += 1
    entries.sort(key=lambda e: e.at)
    today = timezone.localdate()
    following = day + datetime.timedelta(days=1)
    return WorkLog(worker=worker, day=day, entries=entries, figures=figures,
                   previous_day=day - datetime.timedelta(days=1), next_day=following if following <= today else None)


@dataclass
class MonthSummary:
    worker: User
    month: datetime.date  # its first day
    days: list[tuple[datetime.date, DayFigures]]  # the days with any field work, in order
    total: DayFigures


def month_summary(user: User, worker_id: int, month: datetime.date) -> MonthSummary:
    """A worker's month: per day and in total, patrols, patrol hours, distance, visits, cases reported and case
    steps (one grouped query per table)."""
    worker = registry_fieldwork.visible_worker(user, worker_id)
    start, end = registry_fieldwork.month_bounds(month)
    days = registry_fieldwork.worker_days(user, worker, start, end)
    tz = timezone.get_current_timezone()
    reported = (_cases(user).filter(reporter=worker, created_at__gte=start, created_at__lt=end)
                .annotate(day=TruncDate("created_at", tzinfo=tz)).values("day").annotate(n=Count("id")))
    for row in reported:
        days[row["day"]].cases = row["n"]
    steps = (CaseLog.objects.filter(actor=worker, created_at__gte=start, created_at__lt=end,
                                    case__in=_cases(user).values("pk")).exclude(action=Action.REPORT)
             .annotate(day=TruncDate("created_at", tzinfo=tz)).values("day").annotate(n=Count("id")))
    for row in steps:
        days[row["day"]].steps = row["n"]
    total = DayFigures()
    for figures in days.values():
        total.add(figures)
    return MonthSummary(worker=worker, month=month.replace(day=1), days=sorted(days.items()), total=total)


def patrol_cases(user: User, patrol: Patrol) -> list[Case]:
    """The cases reported on a patrol, as far as the user may see them."""
    return list(_cases(user).filter(patrol=patrol).select_related("category").order_by("created_at"))


@dataclass
class FieldworkTable:
    """The command centre's month: one row per worker in the area, sorted, with the totals."""

    month: datetime.date
    area: OrgUnit | None  # None: the viewer's whole scope
    rows: list[WorkerFigures]
    total: WorkerFigures
    sort: str
    descending: bool


def _sort_value(row: WorkerFigures, key: str) -> Any:
    if key == "name":
        return row.worker.real_name or row.worker.username
    if key in Visit.Kind.values:
        return row.visits_of(key)
    return {"patrols": row.patrols, "hours": row.patrol_seconds, "km": row.distance_m, "visits": row.visit_total,
            "cases": row.cases}[key]


def worker_month_table(user: User, *, area_id: int | None, month: datetime.date, sort: str = "patrols",
                       descending: bool | None = None) -> FieldworkTable:
    """Per worker in an area the user may see (or their whole scope) for a month: patrols, patrol hours, km,
    visits by kind and cases reported on patrols. Grouped queries; the rows sorted by `sort` (SORT_KEYS)."""
    paths, area = registry_fieldwork.area_paths(user, area_id)
    start, end = registry_fieldwork.month_bounds(month)
    rows = registry_fieldwork.worker_month_figures(user, paths, start, end)
    patrols = registry_fieldwork.patrols_in(user, paths, start, end)
    for r in (Case.objects.filter(patrol__in=patrols.values("pk")).values("patrol__worker")
              .annotate(n=Count("id"))):
        if r["patrol__worker"] in rows:
            rows[r["patrol__worker"]].cases = r["n"]
    sort = sort if sort in SORT_KEYS else "patrols"
    descending = (sort != "name") if descending is None else descending
    ordered = sorted(rows.values(), key=lambda r: (r.worker.real_name or r.worker.username, r.worker.pk))
    ordered.sort(key=lambda r: _sort_value(r, sort), reverse=descending)
    total = WorkerFigures(worker=user)
    for row in ordered:
        total.patrols += row.patrols
        total.patrol_seconds += row.patrol_seconds
        total.distance_m += row.distance_m
        total.cases += row.cases
        for kind, n in row.visits.items():
            total.visits[kind] = total.visits.get(kind, 0) + n
    return FieldworkTable(month=month.replace(day=1), area=area, rows=ordered, total=total, sort=sort,
                          descending=descending)


@dataclass(frozen=True)
class PatrolRow:
    patrol: Patrol
    visits: int
    cases: int  # reported on it

    @property
    def km(self) -> float:
        return round(self.patrol.distance_m / 1000, 1)


@dataclass
class WorkerMonth:
    """A worker's patrols of a month on the command side, each with its visits and cases counted."""

    worker: User
    month: datetime.date
    rows: list[PatrolRow]
    summary: MonthSummary

    @property
    def patrols(self) -> list[Patrol]:
        return [row.patrol for row in self.rows]


def worker_month(user: User, worker_id: int, month: datetime.date) -> WorkerMonth:
    worker = registry_fieldwork.visible_worker(user, worker_id)
    start, end = registry_fieldwork.month_bounds(month)
    patrols = registry_fieldwork.worker_patrols(user, worker, start, end)
    counts = dict(Case.objects.filter(patrol__in=[p.pk for p in patrols]).values("patrol")
                  .annotate(n=Count("id")).values_list("patrol", "n"))
    rows = [PatrolRow(patrol=p, visits=getattr(p, "visit_count", 0), cases=counts.get(p.pk, 0)) for p in patrols]
    return WorkerMonth(worker=worker, month=month.replace(day=1), rows=rows,
                       summary=month_summary(user, worker_id, month))


def _outline(grid: OrgUnit) -> list[list[float]] | None:
    if not grid.boundary:
        return None
    geometry = shapely.simplify(shapely.geometry.shape(grid.boundary), 1e-5, preserve_topology=True)
    largest = max(getattr(geometry, "geoms", [geometry]), key=lambda polygon: polygon.area)
    return [[round(lat, 6), round(lng, 6)] for lng, lat, *_z in largest.exterior.coords]


def patrol_map(user: User, patrol_id: int) -> dict[str, Any]:
    """A patrol for the map: its track (GeoJSON Feature, `registry.selectors.fieldwork.patrol_track`), its grid's
    outline ([lat, lng] …), and the visits and cases on it that have a point."""
    track = registry_fieldwork.patrol_track(user, patrol_id)
    patrol = registry_fieldwork.patrol_for(user, patrol_id)
    visits = [{"lat": v.lat, "lng": v.lng, "kind": v.get_kind_display(), "label": registry_fieldwork.visit_label(v),
               "at": f"{timezone.localtime(v.visited_at):%H:%M}"}
              for v in registry_fieldwork.patrol_visits(user, patrol) if v.lat is not None and v.lng is not None]
    cases = [{"id": c.pk, "lat": c.lat, "lng": c.lng, "number": c.number, "category": c.category.name,
              "at": f"{timezone.localtime(c.created_at):%H:%M}"}
             for c in patrol_cases(user, patrol) if c.lat is not None and c.lng is not None]
    return {"track": track, "outline": _outline(patrol.grid), "visits": visits, "cases": cases}
