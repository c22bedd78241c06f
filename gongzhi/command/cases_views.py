"""Case lists of the command centre: intake queue, all my cases (with the 已归档 filter and the search by
number), overdue cases, residents' questions, requests for more time to decide. The case page itself is the
shared one of `gongzhi.web.cases`."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.cases import selectors
from gongzhi.cases.selectors import Archived
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


# The 归档 filter of 全部事件: the work list (not archived) by default.
ARCHIVE_CHOICES = ((Archived.EXCLUDE, gettext_lazy("未归档")), (Archived.ONLY, gettext_lazy("已归档")),
                   (Archived.INCLUDE, gettext_lazy("全部（含已归档）")))


@portal_required("command")
def case_list(request):
    """All the cases in the user's scope, filtered by status, flag and archiving (未归档 by default); a number
    (编号) opens that case, archived or not."""
    number = request.GET.get("number", "").strip()
    if number:
        found = selectors.case_by_number(request.user, number)
        if found is not None:
            return redirect("command:case", case_id=found.pk)
        messages.error(request, _("未找到编号为%(number)s的事件，或不在您的管辖范围内。") % {"number": number[:30]})
    status = request.GET.get("status") or None
    flag = request.GET.get("flag") or None
    archived = request.GET.get("archived") or Archived.EXCLUDE
    try:
        queryset = selectors.cases_for(request.user, status=status, flag=flag, archived=archived)
    except DomainError as err:
        messages.error(request, str(err.message))
        status = flag = None
        archived = Archived.EXCLUDE
        queryset = selectors.cases_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "all",
        "title": _("已归档事件") if archived == Archived.ONLY else _("全部事件"),
        "statuses": Status.choices, "flags": Flag.choices, "archive_choices": ARCHIVE_CHOICES,
        "status": status or "", "flag": flag or "", "archived": archived, "number": number})


@portal_required("command")
def questions(request):
    """群众追问: cases whose reporters asked the user's units something not answered yet."""
    return render(request, "command/cases_list.html", {
        "page": _page(request, selectors.cases_with_questions(request.user)), "list_kind": "questions",
        "title": _("群众追问")})


@portal_required("command")
def extensions(request):
    """待审批延期: requests for more time the user may decide, the nearest limit first."""
    return render(request, "command/cases_list.html", {
        "page": _page(request, selectors.extensions_to_decide(request.user)), "list_kind": "extensions",
        "title": _("待审批延期")})


@portal_required("command")
def overdue(request):
    queryset = selectors.cases_for(request.user, flag=Flag.RED)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "overdue", "title": _("超期事件")})
