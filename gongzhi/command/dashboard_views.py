"""数据看板 and its big screen (大屏): KPI tiles, trends, the category mix, hotspots and a live stream of new cases
for a unit in the viewer's scope (`?unit=`, else the top of their scope; others 404). The figures are
`analytics.selectors.dashboard` (rollups only); static/js/dashboard.js draws the charts (ECharts) from the page's
`json_script` data, over tables that stay as the text version, and polls for new cases.

The poll (`?after=<the newest case id shown>`) answers 204 while no case came in after it (one probe of the case
table's primary key end, then, only if something came in anywhere, the newest few in scope), else the new cases
as JSON; no server thread waits for a screen. The normal page's poll is not activity (`not_activity`: a page left
open still signs out); the big screen and its poll keep the session (`no_idle_timeout`).
"""

from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gongzhi.accounts.sessions import no_idle_timeout, not_activity
from gongzhi.analytics import selectors
from gongzhi.org.models import OrgUnit
from gongzhi.web.access import portal_required

POLL_SECONDS = 3
SCREEN_ROTATE_SECONDS = 15
SCREEN_RELOAD_SECONDS = 300  # the big screen reloads its figures this often (the stream polls meanwhile)


def _unit(request) -> OrgUnit:
    raw = request.GET.get("unit", "")
    if raw and not raw.isdigit():
        raise Http404
    return selectors.dashboard_unit(request.user, int(raw) if raw else None)


def _chart_data(board: selectors.Dashboard) -> dict:
    """What the charts draw, for `json_script` (the tables beside them show the same)."""
    return {
        "text": {"reported": _("上报"), "handled": _("办结"), "cases": _("件"), "new_case": _("新事件：")},
        "trends": {scale: {"labels": s.labels, "reported": s.reported, "handled": s.handled}
                   for scale, s in board.trends.items()},
        "mix": {key: {"title": m.title, "names": [name for name, _n in m.items], "values": [n for _name, n in m.items]}
                for key, m in board.mix.items()},
    }


def _trend_tables(board: selectors.Dashboard) -> list[tuple[str, str, str, selectors.Series]]:
    """(scale, the switch's label, the table's caption, the series) for the trend's switch and tables."""
    return [("day", _("按日"), _("近30天每日上报与办结"), board.trends["day"]),
            ("week", _("按周"), _("近12周每周上报与办结（周一起）"), board.trends["week"]),
            ("month", _("按月"), _("近12个月每月上报与办结"), board.trends["month"])]


def _page(request, template: str, poll_url: str) -> HttpResponse:
    unit = _unit(request)
    board = selectors.dashboard(request.user, unit)
    return render(request, template, {
        "trend_tables": _trend_tables(board),
        "title": _("数据看板"), "board": board, "unit": unit, "tiles": board.tiles, "chart_data": _chart_data(board),
        "tops": selectors.top_units(request.user), "now": timezone.localtime(),
        "poll": {"url": f"{reverse(poll_url)}?unit={unit.pk}", "after": board.newest_id, "seconds": POLL_SECONDS,
                 "size": selectors.STREAM_SIZE},
        "case_url": reverse("command:case", args=[0]), "rotate_seconds": SCREEN_ROTATE_SECONDS,
        "reload_seconds": SCREEN_RELOAD_SECONDS})


@portal_required("command")
@require_GET
def dashboard(request):
    return _page(request, "command/dashboard.html", "command:dashboard_poll")


@portal_required("command")
@no_idle_timeout
@require_GET
def screen(request):
    """The big screen: the same figures for a wall, dark, panels taking turns; never times out while shown."""
    return _page(request, "command/dashboard_screen.html", "command:dashboard_screen_poll")


def _poll(request) -> HttpResponse:
    """204 when no case in the unit came in after `after` (with X-Stream-After, the newest case id of all, when
    cases came in elsewhere: the next poll starts there); else {"cases": [...], "last"}, newest first."""
    try:
        after = int(request.GET.get("after", ""))
    except ValueError:
        return HttpResponseBadRequest()
    newest = selectors.newest_case_id()
    if newest <= after:  # nothing new anywhere: the scope is not even read
        return HttpResponse(status=204)
    unit = _unit(request)
    found = selectors.newest_cases(request.user, unit, after=after)
    if not found:
        response = HttpResponse(status=204)
        response["X-Stream-After"] = str(newest)
        return response
    return JsonResponse({"last": found[0].id, "cases": [
        {"id": c.id, "number": c.number, "url": reverse("command:case", args=[c.id]),
         "time": f"{timezone.localtime(c.reported_at):%m-%d %H:%M}", "category": c.category, "place": c.place,
         "status": c.status, "flag": c.flag} for c in found]})


@portal_required("command")
@not_activity
@require_GET
def poll(request):
    return _poll(request)


@portal_required("command")
@no_idle_timeout
@require_GET
def screen_poll(request):
    return _poll(request)
