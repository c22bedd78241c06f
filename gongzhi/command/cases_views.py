"""Case lists of the command centre: intake queue, all my cases, overdue cases, residents' questions.
The case page itself is the shared one of `gongzhi.web.cases`."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from gongzhi.cases import selectors
from gongzhi.cases.workflow import Flag, Status
from gongzhi.core.errors import DomainError
from gongzhi.web.access import portal_required

CASES_PER_PAGE = 30


def _page(request, queryset):
    return Paginator(queryset.select_related("category", "holder", "grid"), CASES_PER_PAGE).get_page(
        request.GET.get("page"))


@portal_required("command")
def intake(request):
    """事件受理: cases waiting for the user's command centre to take them up, red first."""
    queryset = selectors.intake_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "intake", "title": _("事件受理")})


@portal_required("command")
def case_list(request):
    """All the cases in the user's scope, filtered by status and flag."""
    status = request.GET.get("status") or None
    flag = request.GET.get("flag") or None
    try:
        queryset = selectors.cases_for(request.user, status=status, flag=flag)
    except DomainError as err:
        messages.error(request, str(err.message))
        status = flag = None
        queryset = selectors.cases_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "all", "title": _("全部事件"),
        "statuses": Status.choices, "flags": Flag.choices, "status": status or "", "flag": flag or ""})


@portal_required("command")
def questions(request):
    """群众追问: cases whose reporters asked the user's units something not answered yet."""
    return render(request, "command/cases_list.html", {
        "page": _page(request, selectors.cases_with_questions(request.user)), "list_kind": "questions",
        "title": _("群众追问")})


@portal_required("command")
def overdue(request):
    queryset = selectors.cases_for(request.user, flag=Flag.RED)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "overdue", "title": _("超期事件")})
