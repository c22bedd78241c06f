"""风险纠纷: the command centre's list of the disputes at risk in the viewer's scope (重复纠纷, 民转刑风险), and
of the mediation agreements whose performance follow-up (履行回访) is due. The case page shows each one's
records (`gongzhi.web.disputes`)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from gongzhi.cases import selectors
from gongzhi.cases.selectors import RiskCode
from gongzhi.core.errors import DomainError
from gongzhi.web.access import portal_required

CASES_PER_PAGE = 30
FOLLOW_UPS_SHOWN = 50


@portal_required("command")
def at_risk(request):
    """Filtered by kind of risk and, for a county or city viewer, by township; newest first."""
    user = request.user
    townships = list(selectors.townships_for(user))
    risk = request.GET.get("risk") or None
    township = next((t for t in townships if str(t.pk) == request.GET.get("township")), None)
    try:
        queryset = selectors.dispute_cases_at_risk(user, risk=risk, within=township)
    except DomainError as err:
        messages.error(request, str(err.message))
        risk = None
        queryset = selectors.dispute_cases_at_risk(user, within=township)
    page = Paginator(queryset.select_related("category", "grid", "holder"), CASES_PER_PAGE).get_page(
        request.GET.get("page"))
    # Which township each case lies in (the list spans several for a county viewer).
    for case in page:
        case.township = next((t for t in townships if case.area_path.startswith(t.path)), None)
    due = list(selectors.agreements_due(user)[:FOLLOW_UPS_SHOWN])
    return render(request, "command/disputes_at_risk.html", {
        "title": _("风险纠纷"), "page": page, "due": due,
        "risks": [(RiskCode.REPEAT, _("重复纠纷")), (RiskCode.MARRIAGE_FAMILY_OPEN, _("民转刑风险"))],
        "risk": risk or "", "townships": townships if len(townships) > 1 else [],
        "township": township, "follow_ups_shown": FOLLOW_UPS_SHOWN})
