"""风险预警: the open risk warnings in the viewer's scope (`analytics.selectors.open_warnings`, raised every 10
minutes by `analytics.tasks.refresh_warnings`), and their acknowledgement (签收, `analytics.services`)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.analytics import selectors, services
from gongzhi.analytics.models import WarningKind
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry.models import RiskLevel
from gongzhi.web.access import portal_required

WARNINGS_PER_PAGE = 30


@portal_required("command")
def warning_list(request):
    """Open warnings, newest first, filtered by kind; each with its rule in words, its cases and a form to
    acknowledge it for those who may."""
    user = request.user
    kind = request.GET.get("kind") or None
    try:
        queryset = selectors.open_warnings(user, kind=kind)
    except DomainError as err:
        messages.error(request, str(err.message))
        kind = None
        queryset = selectors.open_warnings(user)
    page = Paginator(queryset, WARNINGS_PER_PAGE).get_page(request.GET.get("page"))
    warnings = list(page)
    cases = selectors.warning_cases(user, warnings)
    key_persons = selectors.warning_key_persons(user, warnings)
    risk_levels = dict(RiskLevel.choices)
    for warning in warnings:
        warning.cases_shown = cases[warning.pk]
        warning.key_person = key_persons.get(warning.pk)
        warning.risk_shown = risk_levels.get(warning.details.get("risk_level"), "")
        warning.may_acknowledge = selectors.may_acknowledge(user, warning)
        if "p" in warning.details:
            warning.p_shown = format(warning.details["p"], ".2g")
    return render(request, "command/warnings.html", {
        "title": _("风险预警"), "page": page, "warnings": warnings, "kinds": WarningKind.choices,
        "kind": kind or "", "hotspot_p": services.HOTSPOT_P, "hotspot_min": services.HOTSPOT_MIN_CASES,
        "hotspot_weeks": services.HOTSPOT_BASELINE_WEEKS, "hotspot_floor": services.HOTSPOT_MIN_BASELINE,
        "overdue_min": services.OVERDUE_CLUSTER_MIN})


@require_POST
@portal_required("command")
def acknowledge(request, warning_id: int):
    """签收 with a note; a refusal (no note, not theirs to sign) is shown on the list, out of scope is 404."""
    warning = selectors.warning_for(request.user, warning_id)
    try:
        services.acknowledge_warning(actor=request.user, warning=warning, note=request.POST.get("note"))
    except NotFound:
        raise
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("已签收该风险预警。"))
    url = reverse("command:warnings")
    kind = request.POST.get("kind", "")
    if kind in WarningKind.values:
        url += "?" + urlencode({"kind": kind})
    return redirect(f"{url}#warning-{warning.pk}")
