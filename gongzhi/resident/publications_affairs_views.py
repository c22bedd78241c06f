"""The residents' side of 三务公开 and 村民说事 beyond the shared item page: the disclosures by category and
period (公开 › 三务公开, filterable), and a meeting's evaluation (评) sent from its page.

`urlpatterns` is the list the resident portal's URL conf includes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.publications.affairs import form_values
from gongzhi.publications.models import DisclosureCategory, PeriodType, Rating
from gongzhi.publications.selectors import affairs as selectors
from gongzhi.publications.selectors import core
from gongzhi.publications.services import affairs as services
from gongzhi.web.access import login_required
from gongzhi.web.paging import Window

PER_PAGE = 20


def item_url(pk: int, anchor: str = "") -> str:
    try:
        address = reverse("resident:publication", args=[pk])
    except NoReverseMatch:  # the shared pages not wired yet
        address = reverse("resident:home")
    return f"{address}#{anchor}" if anchor else address


def disclosures(request) -> HttpResponse:
    """三务公开 of the resident's area, by category (党务/村务/财务) and period."""
    f = selectors.DisclosureFilter.from_query(request.GET)
    page = Window(selectors.readable_disclosures(request.user, f), request.GET.get("page"), PER_PAGE)
    return render(request, "resident/publications/affairs/disclosures.html", {
        "page": page, "rows": [(item, item_url(item.pk)) for item in page], "filter": f,
        "categories": DisclosureCategory.choices, "period_types": PeriodType.choices,
        "years": selectors.disclosure_years(request.user), "months": range(1, 13)})


@login_required
@require_POST
def evaluate(request, pk: int) -> HttpResponse:
    """评: 满意 / 基本满意 / 不满意, once, with an optional comment."""
    item = core.readable_one(request.user, pk, kind="meeting")
    try:
        services.evaluate(actor=request.user, publication=item, rating=request.POST.get("rating", ""),
                          comment=request.POST.get("comment", ""))
    except DomainError as err:
        if isinstance(err, NotFound | Forbidden):
            raise
        return render(request, "resident/publications/affairs/evaluate.html", {
            "publication": item, "error": err, "values": form_values(request.POST), "ratings": Rating.choices,
            "back": item_url(pk)}, status=409 if isinstance(err, Conflict) else 422)
    messages.success(request, _("感谢您的评价。"))
    return HttpResponseRedirect(item_url(pk, "affairs-evaluate"))


urlpatterns = [
    path("public/affairs/disclosures/", disclosures, name="affairs_disclosures"),
    path("public/<int:pk>/evaluate/", evaluate, name="affairs_evaluate"),
]
