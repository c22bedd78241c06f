"""考核评价: the KPI figures of a unit in the viewer's scope for whole months, its areas one level down ranked,
its departments and the people who handled cases, the trend, the published formulas; and the same as Excel.
督查通报: one month of the same, with the cases still overdue, printable."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import policies as account_policies
from gongzhi.analytics import selectors
from gongzhi.cases import selectors as case_selectors
from gongzhi.org.models import OrgUnit, UnitKind
from gongzhi.web import assessment as shared
from gongzhi.web.access import portal_required


def _unit(request) -> OrgUnit:
    """The unit asked for (`unit`: an id in scope, else 404), or the top of the viewer's scope."""
    raw = request.GET.get("unit", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        return selectors.unit_for(request.user, int(raw))
    tops = selectors.top_units(request.user)
    if not tops:
        raise Http404
    return tops[0]


@portal_required("command")
def assessment(request):
    unit = _unit(request)
    chosen, sort = shared.read_period(request), shared.read_sort(request)
    result = selectors.assessment(unit, chosen)
    if request.GET.get("format") == "xlsx":
        return shared.workbook(result, sort, with_workers=True)
    base = {"from": f"{chosen.first:%Y-%m}", "to": f"{chosen.last:%Y-%m}", "sort": sort}

    def link_for(child: OrgUnit) -> str:
        return "?" + urlencode({**base, "unit": child.pk})

    # Up to the top of the viewer's scope, for the way back.
    trail = [u for u in unit.ancestors() if account_policies.can_view_unit(request.user, u)]
    table = shared.context(result, sort, link_for)
    return render(request, "command/assessment.html", {
        **table, "title": _("考核评价"), "unit": unit, "unit_param": unit.pk,
        "trail": [(u, link_for(u)) for u in trail], "this_month": timezone.localdate(),
        "export_query": urlencode({**base, "unit": unit.pk, "format": "xlsx"}),
        "rankings": [(_("下级区域排名"), table["areas"], "rank-areas"), (_("部门排名"), table["units"], "rank-units"),
                     (_("人员（办结最多的%(n)d人）") % {"n": selectors.WORKERS_SHOWN}, table["workers"],
                      "rank-workers")],
        "tops": selectors.top_units(request.user)})


@portal_required("command")
def monthly_report(request):
    """督查通报: one month's figures of a unit, its areas and departments ranked, and the cases in it still
    overdue today; printable, and as Excel."""
    unit = _unit(request)
    chosen, sort = shared.read_month(request), shared.read_sort(request)
    result = selectors.assessment(unit, chosen, with_workers=False)
    overdue: list = []
    if unit.kind == UnitKind.AREA:
        overdue = list(case_selectors.overdue_cases(request.user, case_selectors.CaseFilter(area=unit))
                       [:shared.OVERDUE_LISTED + 1])
    if request.GET.get("format") == "xlsx":
        return shared.report_workbook(result, sort, overdue[:shared.OVERDUE_LISTED])
    overdue = overdue[:shared.OVERDUE_LISTED + 1]
    townships = case_selectors.townships_of(overdue)
    for case in overdue:
        case.township_name = townships.get(case.area_path, "")
    base = {"month": f"{chosen.first:%Y-%m}", "sort": sort}
    table = shared.context(result, sort, lambda child: "?" + urlencode({**base, "unit": child.pk}))
    return render(request, "command/monthly_report.html", {
        **table, "title": _("督查通报"), "unit": unit, "month": chosen.first, "this_month": timezone.localdate(),
        "overdue": overdue[:shared.OVERDUE_LISTED], "overdue_more": len(overdue) > shared.OVERDUE_LISTED,
        "overdue_listed": shared.OVERDUE_LISTED, "is_area": unit.kind == UnitKind.AREA,
        "export_query": urlencode({**base, "unit": unit.pk, "format": "xlsx"}),
        "rankings": [(_("下级区域排名"), table["areas"], "rank-areas"), (_("部门排名"), table["units"], "rank-units")]})
