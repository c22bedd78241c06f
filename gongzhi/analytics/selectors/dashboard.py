"""Reads of the command-centre dashboard (数据看板) and its big screen (大屏), always for a unit the viewer may see
(others answer NotFound): KPI tiles, trends by day, week and month, the category mix, hotspots, rankings of the
areas one level down and the newest cases.

Every figure is read from the rollups, never from the cases: `DayCount` (today, the last 30 days, the last 12
weeks), `KpiCount` (this month, the last 12 months), `CategoryCount` (the mix), `GridState` (open, overdue and
coming-due cases per grid, refreshed every minute) and the open warnings. The one read of cases is the live
stream's: the newest few in scope, walked along the primary key from the newest (`cases.selectors.all_cases`),
which stops after a page whatever the number of cases.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.analytics import kpis, rollups
from gongzhi.analytics.models import CategoryCount, DayCount, GridState, KpiCount, Subject, WarningKind
from gongzhi.analytics.selectors.figures import top_units, unit_for
from gongzhi.analytics.selectors.warnings import open_warnings
from gongzhi.cases import categories
from gongzhi.cases import selectors as case_selectors
from gongzhi.cases.models import Case
from gongzhi.core.errors import NotFound
from gongzhi.org.models import OrgUnit, UnitKind

TREND_DAYS = 30
TREND_WEEKS = 12
TREND_MONTHS = 12
MIX_SHOWN = 8  # 大类 shown by name; the rest are summed as 其他
HOTSPOTS_SHOWN = 10
HOTSPOT_WARNINGS_SHOWN = 5
STREAM_SIZE = 12  # cases the live stream shows and a poll answers at most
RANKED_SHOWN = 15


def dashboard_unit(user: User | AnonymousUser, unit_id: int | None = None) -> OrgUnit:
    """The unit asked for (one the viewer may see, else NotFound), or the first at the top of their scope."""
    if unit_id is not None:
        return unit_for(user, unit_id)
    tops = top_units(user)
    if not tops:
        raise NotFound()
    return tops[0]


def _check(user: User | AnonymousUser, unit: OrgUnit) -> None:
    if not account_policies.can_view_unit(user, unit):
        raise NotFound()


# ---------------------------------------------------------------------------------------------------------
# KPI tiles


@dataclass(frozen=True)
class Tiles:
    today: datetime.date
    reported_today: int
    handled_today: int
    month: kpis.Kpis  # this month's counts of the unit (area), as the assessment counts them
    open_cases: int  # in the unit's grids now (GridState)
    red_cases: int
    yellow_cases: int
    open_warnings: int
    complete_until: datetime.datetime | None  # the rollups include everything before this

    @property
    def reported_month(self) -> int:
        return int(self.month["reported"])

    @property
    def handled_month(self) -> int:
        return int(self.month["handled"])

    @property
    def on_time(self) -> kpis.Figure:
        return self.month.figure("on_time")

    @property
    def satisfaction(self) -> kpis.Figure:
        return self.month.figure("satisfaction")


def tiles(user: User | AnonymousUser, unit: OrgUnit, *, today: datetime.date | None = None) -> Tiles:
    """Today's and this month's counts of the unit, and its open, overdue and coming-due cases now."""
    _check(user, unit)
    today = today or timezone.localdate()
    day: dict[str, Any] = dict(DayCount.objects.filter(path=unit.path, day=today)
                               .values("reported", "handled").first() or {})
    month: list[Mapping[str, Any]] = list(KpiCount.objects.filter(
        subject=Subject.AREA, path=unit.path, worker_id=0, month=today.replace(day=1)).values())
    states = GridState.objects.filter(path__startswith=unit.path).aggregate(
        open=Sum("open_cases"), red=Sum("red_cases"), yellow=Sum("yellow_cases"))
    warnings = open_warnings(user).filter(path__startswith=unit.path).count()
    return Tiles(today=today, reported_today=day.get("reported", 0), handled_today=day.get("handled", 0),
                 month=kpis.total(month), open_cases=states["open"] or 0, red_cases=states["red"] or 0,
                 yellow_cases=states["yellow"] or 0, open_warnings=warnings, complete_until=rollups.lag())


# ---------------------------------------------------------------------------------------------------------
# Trends


@dataclass(frozen=True)
class Series:
    """Cases reported and handled (办结) per period, oldest first; `labels` name the periods."""

    scale: str  # "day" | "week" | "month"
    labels: list[str]
    reported: list[int]
    handled: list[int]

    @property
    def rows(self) -> list[tuple[str, int, int]]:
        return list(zip(self.labels, self.reported, self.handled, strict=True))


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _months_back(month: datetime.date, n: int) -> list[datetime.date]:
    found = [month]
    while len(found) < n:
        found.insert(0, (found[0] - datetime.timedelta(days=1)).replace(day=1))
    return found


def trends(user: User | AnonymousUser, unit: OrgUnit, *, today: datetime.date | None = None) -> dict[str, Series]:
    """The unit's cases reported and handled by day (the last 30 days), by week (the last 12, Monday to Sunday,
    this one so far) and by month (the last 12, this one so far)."""
    _check(user, unit)
    today = today or timezone.localdate()
    first_week = _monday(today) - datetime.timedelta(weeks=TREND_WEEKS - 1)
    first_day = min(first_week, today - datetime.timedelta(days=TREND_DAYS - 1))
    by_day = {row["day"]: (row["reported"], row["handled"]) for row in DayCount.objects.filter(
        path=unit.path, day__gte=first_day, day__lte=today).values("day", "reported", "handled")}
    days = [today - datetime.timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    day_series = Series("day", [f"{d:%m-%d}" for d in days], [by_day.get(d, (0, 0))[0] for d in days],
                        [by_day.get(d, (0, 0))[1] for d in days])
    weeks = [first_week + datetime.timedelta(weeks=n) for n in range(TREND_WEEKS)]
    week_sums: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    for day, (reported, handled) in by_day.items():
        if day >= first_week:
            week_sums[_monday(day)][0] += reported
            week_sums[_monday(day)][1] += handled
    week_series = Series("week", [_("%(day)s起") % {"day": f"{w:%m-%d}"} for w in weeks],
                         [week_sums[w][0] for w in weeks], [week_sums[w][1] for w in weeks])
    months = _months_back(today.replace(day=1), TREND_MONTHS)
    by_month = {row["month"]: (row["reported"], row["handled"]) for row in KpiCount.objects.filter(
        subject=Subject.AREA, path=unit.path, worker_id=0, month__in=months).values("month", "reported", "handled")}
    month_series = Series("month", [f"{m:%Y-%m}" for m in months], [by_month.get(m, (0, 0))[0] for m in months],
                          [by_month.get(m, (0, 0))[1] for m in months])
    return {"day": day_series, "week": week_series, "month": month_series}


# ---------------------------------------------------------------------------------------------------------
# Category mix


@dataclass(frozen=True)
class Mix:
    """Cases reported by 大类 over a period, most first; beyond MIX_SHOWN the rest as one 其他."""

    title: str
    items: list[tuple[str, int]]
    total: int

    @property
    def rows(self) -> list[tuple[str, int, str]]:
        """(name, cases, share of the period's cases as "12.5%")."""
        return [(name, n, f"{n / self.total * 100:.1f}%") for name, n in self.items]


def _mix(unit: OrgUnit, months: list[datetime.date], title: str) -> Mix:
    rows = (CategoryCount.objects.filter(path=unit.path, month__in=months).values("category_id")
            .annotate(reported=Sum("reported")).order_by())
    named: dict[str, int] = defaultdict(int)
    for row in rows:
        category = categories.by_id(row["category_id"])
        named[category.name if category is not None else _("未知分类")] += row["reported"]
    ordered = sorted(((name, n) for name, n in named.items() if n), key=lambda item: (-item[1], item[0]))
    items = ordered[:MIX_SHOWN]
    rest = sum(n for _name, n in ordered[MIX_SHOWN:])
    if rest:
        items.append((_("其他"), rest))
    return Mix(title, items, sum(n for _name, n in ordered))


def category_mix(user: User | AnonymousUser, unit: OrgUnit, *, today: datetime.date | None = None
                 ) -> dict[str, Mix]:
    """The unit's cases reported by 大类, this month and over the last 12 months."""
    _check(user, unit)
    this_month = (today or timezone.localdate()).replace(day=1)
    return {"month": _mix(unit, [this_month], _("本月")),
            "year": _mix(unit, _months_back(this_month, TREND_MONTHS), _("近12个月"))}


# ---------------------------------------------------------------------------------------------------------
# Hotspots and rankings


@dataclass(frozen=True)
class Hotspot:
    grid_id: int
    name: str
    place: str  # the village (or the unit above the grid)
    open_cases: int
    red_cases: int
    yellow_cases: int


@dataclass(frozen=True)
class HotspotWarning:
    id: int
    unit_name: str
    raised_at: datetime.datetime
    cases: int


@dataclass(frozen=True)
class Hotspots:
    grids: list[Hotspot]
    warnings: list[HotspotWarning]


def hotspots(user: User | AnonymousUser, unit: OrgUnit) -> Hotspots:
    """The unit's grids with most overdue, then open cases now (GridState), and its open hotspot warnings."""
    _check(user, unit)
    states = (GridState.objects.filter(path__startswith=unit.path, open_cases__gt=0)
              .select_related("grid__parent").order_by("-red_cases", "-open_cases", "-yellow_cases", "path")
              [:HOTSPOTS_SHOWN])
    grids = [Hotspot(s.grid_id, s.grid.name, s.grid.parent.name if s.grid.parent else "", s.open_cases,
                     s.red_cases, s.yellow_cases) for s in states]
    warnings = [HotspotWarning(w.pk, w.unit.name, w.raised_at, len(w.case_ids)) for w in
                open_warnings(user, kind=WarningKind.HOTSPOT).filter(path__startswith=unit.path)
                [:HOTSPOT_WARNINGS_SHOWN]]
    return Hotspots(grids, warnings)


@dataclass(frozen=True)
class Ranked:
    unit: OrgUnit
    counts: kpis.Kpis

    @property
    def reported(self) -> int:
        return int(self.counts["reported"])

    @property
    def handled(self) -> int:
        return int(self.counts["handled"])

    @property
    def on_time(self) -> kpis.Figure:
        return self.counts.figure("on_time")

    @property
    def satisfaction(self) -> kpis.Figure:
        return self.counts.figure("satisfaction")


def rankings(user: User | AnonymousUser, unit: OrgUnit, *, today: datetime.date | None = None) -> list[Ranked]:
    """The areas one level down with this month's counts, most cases reported first (the big screen's 排行)."""
    _check(user, unit)
    if unit.kind != UnitKind.AREA:
        return []
    this_month = (today or timezone.localdate()).replace(day=1)
    children = list(OrgUnit.objects.filter(parent=unit, kind=UnitKind.AREA, is_active=True).order_by("path"))
    rows: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in KpiCount.objects.filter(subject=Subject.AREA, worker_id=0, month=this_month,
                                       path__in=[c.path for c in children]).values():
        rows[row["path"]].append(row)
    found = [Ranked(child, kpis.total(rows.get(child.path, []))) for child in children]
    found.sort(key=lambda r: (-r.reported, -r.handled, r.unit.path))
    return found[:RANKED_SHOWN]


# ---------------------------------------------------------------------------------------------------------
# The live stream


@dataclass(frozen=True)
class StreamCase:
    id: int
    number: str
    reported_at: datetime.datetime
    category: str
    place: str  # township · grid
    status: str
    flag: str


def _stream_filter(unit: OrgUnit) -> case_selectors.CaseFilter:
    return case_selectors.CaseFilter(area=unit if unit.kind == UnitKind.AREA else None)


def newest_cases(user: User | AnonymousUser, unit: OrgUnit, *, after: int = 0, limit: int = STREAM_SIZE
                 ) -> list[StreamCase]:
    """The newest cases in the unit that the viewer may see, newest first, only those after case `after` (a
    poll): 全部事件's query (`cases.selectors.all_cases`, walked along the primary key from the newest, stopping
    after `limit`), never the cases counted. No description or reporter: the stream may be on a wall."""
    _check(user, unit)
    found: list[Case] = list(case_selectors.all_cases(user, _stream_filter(unit)).filter(pk__gt=after)[:limit])
    townships = case_selectors.townships_of(found)
    stream = []
    for case in found:
        place = " · ".join(p for p in (townships.get(case.area_path, ""), case.grid.name if case.grid else "") if p)
        stream.append(StreamCase(case.pk, case.number, case.created_at, case.category.name, place,
                                 case.get_status_display(), getattr(case, "flag", "")))
    return stream


@dataclass(frozen=True)
class Dashboard:
    unit: OrgUnit
    tiles: Tiles
    trends: dict[str, Series]
    mix: dict[str, Mix]
    hotspots: Hotspots
    rankings: list[Ranked]
    stream: list[StreamCase]

    @property
    def newest_id(self) -> int:
        """Where the stream's poll starts: the newest case shown (0: none)."""
        return max((case.id for case in self.stream), default=0)


def dashboard(user: User | AnonymousUser, unit: OrgUnit, *, today: datetime.date | None = None) -> Dashboard:
    """Everything the dashboard and the big screen show for `unit`."""
    today = today or timezone.localdate()
    return Dashboard(unit=unit, tiles=tiles(user, unit, today=today), trends=trends(user, unit, today=today),
                     mix=category_mix(user, unit, today=today), hotspots=hotspots(user, unit),
                     rankings=rankings(user, unit, today=today), stream=newest_cases(user, unit))


def newest_case_id() -> int:
    """The newest case id of all (one probe of the primary key's end): a poll that finds nothing after it answers
    "nothing new" without reading the viewer's scope, and one that finds nothing in scope moves on to it."""
    return case_selectors.newest_case_id()


__all__ = ["HOTSPOTS_SHOWN", "MIX_SHOWN", "STREAM_SIZE", "TREND_DAYS", "TREND_MONTHS", "TREND_WEEKS", "Dashboard",
           "Hotspot", "HotspotWarning", "Hotspots", "Mix", "Ranked", "Series", "StreamCase", "Tiles", "category_mix",
           "newest_case_id", "dashboard", "dashboard_unit", "hotspots", "newest_cases", "rankings", "tiles", "trends"]
