"""Case lists of the command centre: intake queue, all my cases (search, filters, the new-case poll, the
Excel export), overdue cases, residents' questions, requests for more time to decide. The case page itself is
the shared one of `gongzhi.web.cases`."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.accounts.sessions import not_activity
from gongzhi.cases import selectors
from gongzhi.cases.selectors import Archived
from gongzhi.command import export
from gongzhi.command.forms import CaseFilterForm, ReporterPhoneForm
from gongzhi.web.access import portal_required
from gongzhi.web.paging import Window

CASES_PER_PAGE = 30


def _with_townships(page):
    """Each row's township (乡镇), in one query for the page."""
    townships = selectors.townships_of(page.object_list)
    for case in page:
        case.township_name = townships[case.area_path]
    return page


def _page(request, queryset):
    """One page of a short work list (counted: these lists hold a unit's waiting cases, not the city's)."""
    return _with_townships(Paginator(selectors.with_list_columns(queryset), CASES_PER_PAGE).get_page(
        request.GET.get("page")))


@portal_required("command")
def intake(request):
    """事件受理: cases waiting for the user's command centre to take them up, red first."""
    queryset = selectors.intake_for(request.user)
    return render(request, "command/cases_list.html", {
        "page": _page(request, queryset), "list_kind": "intake", "title": _("事件受理")})


def _filters(request, *, page: bool = True) -> tuple[CaseFilterForm, selectors.CaseFilter]:
    """The list's filter form and filter; the areas to choose from are read for a page, or for a poll or an
    export that names one."""
    areas = selectors.filter_areas(request.user) if page or request.GET.get("unit") else []
    form = CaseFilterForm(request.GET, areas=areas)
    form.is_valid()  # a field with bad input shows its error and is left out of the filter
    return form, form.case_filter()


def _window(request, queryset) -> Window:
    """One page of a list too long to count (全部事件, 超期事件)."""
    return _with_townships(Window(queryset, request.GET.get("page"), CASES_PER_PAGE))


@portal_required("command")
@require_http_methods(["GET", "HEAD", "POST"])
def case_list(request):
    """全部事件: the cases in the user's scope, newest first, searched by keyword or the reporter's phone and
    filtered by status, flag, category, area, reporting dates and archiving (未归档 by default); a number (编号)
    opens that case, archived or not. A phone comes by POST and the list is shown for its keyed hash."""
    if request.method == "POST":
        phone_form = ReporterPhoneForm(request.POST)
        if phone_form.is_valid():
            return redirect(f"{reverse('command:cases')}?{urlencode({'reporter': phone_form.cleaned_data['phone']})}")
        messages.error(request, phone_form.errors["phone"][0])
        return redirect("command:cases")
    number = request.GET.get("number", "").strip()
    if number:
        found = selectors.case_by_number(request.user, number)
        if found is not None:
            return redirect("command:case", case_id=found.pk)
        messages.error(request, _("未找到编号为%(number)s的事件，或不在您的管辖范围内。") % {"number": number[:30]})
    form, case_filter = _filters(request)
    return render(request, "command/cases_list.html", {
        "page": _window(request, selectors.all_cases(request.user, case_filter)), "list_kind": "all",
        "title": _("已归档事件") if case_filter.archived == Archived.ONLY else _("全部事件"), "form": form,
        "number": number, "phone_form": ReporterPhoneForm(), "by_phone": bool(case_filter.reporter_phone_hash),
        "newest": selectors.newest_case_id(), "export_max": f"{export.MAX_ROWS:,}"})


@portal_required("command")
def overdue(request):
    """超期事件: the red cases in the user's scope, the longest overdue first, with the same filters."""
    form, case_filter = _filters(request)
    return render(request, "command/cases_list.html", {
        "page": _window(request, selectors.overdue_cases(request.user, case_filter)), "list_kind": "overdue",
        "title": _("超期事件"), "form": form, "by_phone": bool(case_filter.reporter_phone_hash),
        "export_max": f"{export.MAX_ROWS:,}"})


# At most this many new cases are counted by a poll ("有99+件新事件" beyond): a poll stays a few rows.
POLL_LIMIT = 100


@portal_required("command")
@not_activity
@require_GET
def poll(request):
    """Whether cases came into 全部事件 (as filtered) after case `since`, the newest when the page was shown:
    204 when none, else {"count", "message"} for the notice. Polling is not activity: a page left open does
    not keep its staff session from timing out."""
    try:
        since = int(request.GET.get("since", ""))
    except ValueError:
        return HttpResponseBadRequest()
    _form, case_filter = _filters(request, page=False)
    count = selectors.new_cases_count(request.user, case_filter, since=since, limit=POLL_LIMIT)
    if not count:
        return HttpResponse(status=204)
    shown = f"{POLL_LIMIT - 1}+" if count >= POLL_LIMIT else str(count)
    return JsonResponse({"count": count, "message": _("有%(n)s件新事件") % {"n": shown}})


@portal_required("command")
@require_GET
def export_all(request):
    """全部事件 as filtered, as an Excel file."""
    _form, case_filter = _filters(request, page=False)
    return export.cases_workbook(request.user, selectors.all_cases(request.user, case_filter), _("全部事件"))


@portal_required("command")
@require_GET
def export_overdue(request):
    """超期事件 as filtered, as an Excel file."""
    _form, case_filter = _filters(request, page=False)
    return export.cases_workbook(request.user, selectors.overdue_cases(request.user, case_filter), _("超期事件"))


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
