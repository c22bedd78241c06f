"""巡查走访 in the command centre: each worker's month in an area (patrols, hours, km, visits by kind, cases found on
patrols), sortable and as Excel; a worker's patrols of the month with a chosen one's track, visits and cases on
the map (static/js/patrol-map.js). Reads: `analytics.selectors.fieldwork`."""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.analytics.selectors import fieldwork as selectors
from gongzhi.core import excel
from gongzhi.registry.models import Visit
from gongzhi.registry.selectors import fieldwork as registry_selectors
from gongzhi.web.access import portal_required


def _month(request) -> datetime.date:
    """?month=YYYY-MM, else this month (a month after this one is this one: it has no field work yet)."""
    this_month = timezone.localdate().replace(day=1)
    try:
        chosen = datetime.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return this_month
    return min(chosen, this_month)


def _area_id(request) -> int | None:
    raw = request.GET.get("area", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


def _table(request) -> selectors.FieldworkTable:
    direction = request.GET.get("dir")
    return selectors.worker_month_table(request.user, area_id=_area_id(request), month=_month(request),
                                        sort=request.GET.get("sort", "patrols"),
                                        descending={"asc": False, "desc": True}.get(direction or ""))


def _columns() -> list[tuple[str, str]]:
    return [("name", _("姓名")), ("patrols", _("巡查次数")), ("hours", _("巡查时长(小时)")),
            ("km", _("巡查里程(公里)")),
            *[(kind, str(label)) for kind, label in Visit.Kind.choices], ("visits", _("走访合计")),
            ("cases", _("巡查发现事件"))]


def _figures(row) -> list:
    """A row's figures in the order of `_columns` after the name."""
    return [row.patrols, row.patrol_hours, row.km, *[row.visits_of(kind) for kind in Visit.Kind.values],
            row.visit_total, row.cases]


@portal_required("command")
def fieldwork(request):
    """Per worker for a month and an area (default: the viewer's whole scope), sortable by any column."""
    table = _table(request)
    base = {"month": f"{table.month:%Y-%m}", **({"area": table.area.pk} if table.area else {})}
    headers = []
    for key, label in _columns():
        current = key == table.sort
        # A click on the current column turns its order round; a new column starts from its usual order.
        descending = (not table.descending) if current else key != "name"
        headers.append({"key": key, "label": label, "current": current,
                        "aria": ("descending" if table.descending else "ascending") if current else "",
                        "url": "?" + urlencode({**base, "sort": key, "dir": "desc" if descending else "asc"})})
    return render(request, "command/fieldwork/index.html", {
        "title": _("巡查走访"), "table": table, "headers": headers,
        "rows": [(r, _figures(r)) for r in table.rows], "total": _figures(table.total),
        "areas": registry_selectors.area_choices(request.user), "month_value": f"{table.month:%Y-%m}",
        "may_cadre_visit": registry_selectors.may_record_cadre_visit(request.user),
        "this_month": f"{timezone.localdate():%Y-%m}", "query": urlencode(base),
        "export_query": urlencode({**base, "sort": table.sort, "dir": "desc" if table.descending else "asc"})})


@portal_required("command")
def fieldwork_export(request):
    """The same table as an .xlsx file."""
    table = _table(request)
    header = [label for _key, label in _columns()]
    header.insert(1, _("岗位"))
    rows = [[r.worker.real_name or r.worker.username, "、".join(r.posts), *_figures(r)] for r in table.rows]
    rows.append([_("合计"), "", *_figures(table.total)])
    note = _("%(area)s · %(month)s · 导出时间：%(now)s") % {
        "area": table.area.name if table.area else _("管辖范围"), "month": f"{table.month:%Y-%m}",
        "now": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    file = excel.workbook(excel.Sheet(title=_("巡查走访"), header=header, rows=rows, note=note,
                                      widths=[12, 24, 10, 14, 14, 10, 10, 12, 14, 10, 14]))
    name = _("巡查走访-%(month)s.xlsx") % {"month": f"{table.month:%Y%m}"}
    return FileResponse(file, as_attachment=True, filename=name, content_type=excel.CONTENT_TYPE)


@portal_required("command")
def fieldwork_worker(request, worker_id: int):
    """A worker's patrols of a month (?month=), one of them (?patrol=, else the latest) on the map with its
    visits and the cases found on it."""
    month = _month(request)
    view = selectors.worker_month(request.user, worker_id, month)
    chosen = request.GET.get("patrol", "")
    patrol = next((p for p in view.patrols if str(p.pk) == chosen), None) if chosen else (
        view.patrols[-1] if view.patrols else None)
    if chosen and patrol is None:
        raise Http404
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return render(request, "command/fieldwork/worker.html", {
        "title": _("巡查走访"), "view": view, "patrol": patrol, "month_value": f"{month:%Y-%m}",
        "previous_month": f"{previous:%Y-%m}",
        "next_month": f"{following:%Y-%m}" if following <= timezone.localdate() else "",
        "visits": [(v, registry_selectors.visit_label(v))
                   for v in (registry_selectors.patrol_visits(request.user, patrol) if patrol else [])],
        "cases": selectors.patrol_cases(request.user, patrol) if patrol else [],
        "map_url": reverse("command:fieldwork_patrol_map", args=[patrol.pk]) if patrol else "",
        "case_url": reverse("command:case", args=[0]),
        "tiles": {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_ATTRIBUTION,
                  "subdomains": settings.MAP_TILE_SUBDOMAINS, "crs": settings.MAP_TILE_CRS}})


@portal_required("command")
def fieldwork_patrol_map(request, patrol_id: int):
    """A patrol for the map: {"track": GeoJSON Feature, "outline", "visits", "cases"}; 404 out of scope."""
    return JsonResponse(selectors.patrol_map(request.user, patrol_id))
