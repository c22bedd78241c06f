"""What the assessment pages share (考核评价 in the command portal, the public figures of B6): reading the
period and the ranking figure from the query, the rows the template shows, and the Excel workbook.

The command portal's page shows everything, the people included; the public page shows the same figures of
areas and departments, no people (`with_workers=False`), to anyone.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.analytics import kpis, selectors
from gongzhi.core import excel
from gongzhi.core.errors import DomainError

DEFAULT_SORT = "on_time"


@dataclass(frozen=True)
class Row:
    """One ranked line: its rank (None: too few cases), what it is about, and its figures in DEFINITIONS order."""

    rank: int | None
    subject: Any
    place: Any
    figures: list[kpis.Figure]
    kpis: kpis.Kpis
    link: str | None = None  # where the unit's own assessment is (drilling down)

    @property
    def label(self) -> str:
        """A unit's name, or a person's (their username when they gave no real name)."""
        return (getattr(self.subject, "real_name", "") or getattr(self.subject, "name", "")
                or getattr(self.subject, "username", ""))


def read_period(request: HttpRequest) -> selectors.Period:
    """The months of the query (`from`, `to`: YYYY-MM), this month by default; a bad one: a message and this
    month."""
    today = timezone.localdate()
    try:
        return selectors.period(request.GET.get("from", ""), request.GET.get("to", ""), today=today)
    except DomainError as err:
        messages.error(request, str(err.message))
        return selectors.period(today=today)


def read_month(request: HttpRequest) -> selectors.Period:
    """The one month of the query (`month`: YYYY-MM), last month by default (a report is of a month that is
    over); a bad one: a message and last month."""
    today = timezone.localdate()
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    raw = request.GET.get("month", "") or f"{last_month:%Y-%m}"
    try:
        return selectors.period(raw, raw, today=today)
    except DomainError as err:
        messages.error(request, str(err.message))
        return selectors.Period(last_month, last_month)


def read_sort(request: HttpRequest) -> str:
    sort = request.GET.get("sort", "")
    return sort if sort in kpis.BY_KEY else DEFAULT_SORT


Linker = Callable[[Any], "str | None"]


def _rows(items: list[tuple[Any, kpis.Kpis]], sort: str, *, places: dict[int, Any] | None = None,
          link_for: Linker | None = None) -> list[Row]:
    return [Row(rank, subject, (places or {}).get(id(subject)), [k.figure(d.key) for d in kpis.DEFINITIONS], k,
                link_for(subject) if link_for else None)
            for rank, subject, k in kpis.ranked(items, sort)]


def context(result: selectors.Assessment, sort: str, link_for: Linker | None = None) -> dict[str, Any]:
    """The template's view of an assessment: tiles, ranked areas (each linked by `link_for`, if it gives a
    link), departments and people, the trend."""
    workers = [(person, k) for person, _place, k in result.workers]
    places = {id(person): place for person, place, _k in result.workers}
    return {
        "result": result, "definitions": kpis.DEFINITIONS, "sort": sort, "sort_label": kpis.BY_KEY[sort].label,
        "min_sample": kpis.MIN_SAMPLE,
        "tiles": result.own.figures(),
        "areas": _rows(result.areas, sort, link_for=link_for),
        "units": _rows(result.units, sort),
        "workers": _rows(workers, sort, places=places),
        "trend": [(month, [k.figure(d.key) for d in kpis.DEFINITIONS]) for month, k in reversed(result.trend)],
    }


def _value(figure: kpis.Figure) -> float | None:
    return None if figure.value is None else round(figure.value, 2)


def workbook(result: selectors.Assessment, sort: str, *, with_workers: bool, extra: list[excel.Sheet] | None = None,
             name: str = "") -> FileResponse:
    """The assessment as an .xlsx download: the figures with numerators and denominators, the rankings and
    the trend, one sheet each."""
    titles = [str(d.label) for d in kpis.DEFINITIONS]
    table = context(result, sort)

    def ranking(title: str, rows: list[Row], *, with_place: bool = False) -> excel.Sheet:
        header = [_("名次"), _("名称"), *([_("单位")] if with_place else []), *titles,
                  *[_("%(figure)s（分子/分母）") % {"figure": t} for t in titles]]
        return excel.Sheet(title=title, header=header, rows=[
            [row.rank if row.rank is not None else _("样本不足"), row.label,
             *([row.place.name if row.place else ""] if with_place else []),
             *[_value(f) for f in row.figures], *[f"{f.numerator:g}/{f.denominator}" for f in row.figures]]
            for row in rows])

    sheets = [excel.Sheet(
        title=_("指标"), note=f"{result.unit.name} {result.period}",
        header=[_("指标"), _("数值"), _("分子"), _("分母"), _("计算方法")],
        rows=[*([str(d.label), _value(f), f.numerator, f.denominator, str(d.formula)]
                for d, f in result.own.figures()),
              [_("数据截至"), _local(result.complete_until)]],
        widths=[22, 10, 10, 10, 80])]
    if table["areas"]:
        sheets.append(ranking(_("下级区域"), table["areas"]))
    if table["units"]:
        sheets.append(ranking(_("部门"), table["units"]))
    if with_workers and table["workers"]:
        sheets.append(ranking(_("人员"), table["workers"], with_place=True))
    sheets += extra or []
    sheets.append(excel.Sheet(title=_("月度趋势"), header=[_("月份"), *titles],
                              rows=[[f"{month:%Y-%m}", *[_value(f) for f in figures]]
                                    for month, figures in table["trend"]]))
    name = name or _("考核评价-%(unit)s-%(period)s.xlsx") % {"unit": result.unit.name, "period": str(result.period)}
    return FileResponse(excel.workbook(*sheets), as_attachment=True, filename=name.replace(" ", ""),
                        content_type=excel.CONTENT_TYPE)


# 督查通报's list of cases still overdue: a report names them, a list of thousands is 超期事件's job.
OVERDUE_LISTED = 200


def report_workbook(result: selectors.Assessment, sort: str, overdue: list[Any]) -> FileResponse:
    """督查通报 as an .xlsx download: the assessment's sheets and the cases still overdue."""
    return workbook(result, sort, with_workers=False, extra=[excel.Sheet(
        title=_("超期事件"), header=[_("编号"), _("分类"), _("内容"), _("地点"), _("承办单位"), _("办理期限")],
        rows=[[case.number, case.category.name, case.description, case.grid.name if case.grid else "",
               case.lead_unit_name or case.holder.name, timezone.localtime(case.due) if case.due else ""]
              for case in overdue],
        widths=[17, 14, 50, 16, 18, 17])], name=_("督查通报-%(unit)s-%(month)s.xlsx") % {
            "unit": result.unit.name, "month": str(result.period)})


def _local(moment: datetime.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "—"
