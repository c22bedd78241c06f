"""任务清单 (挂图作战, M16) in the command portal: the tasks in the viewer's scope with their colour flags and
filters, the form that issues a task, and the supervision view (督查) per owner unit with its Excel export. A
task's own page and its steps are shared with the worker portal (`web.tasks`)."""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.analytics import selectors, services
from gongzhi.analytics.models import TaskStatus
from gongzhi.core import excel
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.web import task_forms
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error

TASKS_PER_PAGE = 30


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@portal_required("command")
def task_list(request):
    """The tasks in scope, open ones by nearest deadline first; filters: status, owner unit, flag, side."""
    user = request.user
    filters = {"status": request.GET.get("status") or None, "owner_unit_id": _int(request.GET.get("unit")),
               "flag": request.GET.get("flag") or None, "side": request.GET.get("side") or None}
    try:
        queryset = selectors.task_list(user, **filters)
    except DomainError as err:
        messages.error(request, str(err.message))
        filters = dict.fromkeys(filters)
        queryset = selectors.task_list(user)
    page = Paginator(queryset, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "command/tasks.html", {
        "title": _("任务清单"), "page": page, "tasks": list(page), "filters": filters,
        "statuses": TaskStatus.choices, "flags": selectors.TASK_FLAGS, "sides": selectors.SIDES,
        "units": selectors.task_owner_units(user), "may_issue": bool(selectors.issuing_units(user)),
        "mine": selectors.open_tasks_of_my_units(user), "due_soon_days": selectors.DUE_SOON_WORKING_DAYS})


@portal_required("command")
def task_new(request):
    """下达任务: from one of the viewer's command-centre units to a unit one level below it."""
    user = request.user
    issuing = selectors.issuing_units(user)
    if not issuing:
        raise NotFound()
    owners = {unit.pk: selectors.owner_choices(user, unit) for unit in issuing}
    parents = selectors.parent_choices(user)
    kwargs = {"issuing": issuing, "owners": owners, "parents": parents}
    if request.method != "POST":
        initial = {}
        if (parent_id := _int(request.GET.get("parent"))) is not None:
            initial["parent"] = str(parent_id)
        form = task_forms.CreateTaskForm(initial=initial, **kwargs)
        return render(request, "command/tasks_new.html", {"title": _("下达任务"), "form": form})
    form = task_forms.CreateTaskForm(request.POST, **kwargs)
    if form.is_valid():
        data = form.cleaned_data
        issuer = next(u for u in issuing if str(u.pk) == data["issuing_unit"])
        owner = next((u for us in owners.values() for u in us if str(u.pk) == data["owner_unit"]), None)
        parent = next((t for t in parents if str(t.pk) == data.get("parent")), None)
        try:
            if owner is None:
                raise DomainError(_("只能向本级以下的单位下达任务。"), field="owner_unit")
            task = services.create_task(actor=user, issuing_unit=issuer, owner_unit=owner, title=data["title"],
                                        description=data["description"], category=data["category"],
                                        deadline=data["deadline"], parent=parent, client_key=data["client_key"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("任务已下达。"))
            return redirect("command:task", task_id=task.pk)
    return render(request, "command/tasks_new.html", {"title": _("下达任务"), "form": form}, status=422)


def _month(value: str | None) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return None


def _supervision(request):
    return selectors.supervision(request.user, root_id=_int(request.GET.get("unit")),
                                 month=_month(request.GET.get("month")))


@portal_required("command")
def supervision(request):
    """督查: per owner unit in the viewer's scope (or under a chosen unit), for all tasks or those due in a month:
    tasks, done, done on time and overdue, as numerator / denominator."""
    return render(request, "command/tasks_supervision.html", {
        "title": _("任务督查"), "view": _supervision(request), "month": request.GET.get("month", ""),
        "unit": request.GET.get("unit", "")})


def _rate(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.1%}" if denominator else "—"


@portal_required("command")
def supervision_export(request):
    """The supervision figures as an .xlsx file (the same scope and filters as the page)."""
    view = _supervision(request)
    header = [_("责任单位"), _("任务数"), _("已完成"), _("完成率"), _("按时完成"), _("按时完成率"), _("超期未完成"),
              _("未完成")]
    rows = [[r.unit.name, r.total, r.done, _rate(r.done, r.total), r.on_time, _rate(r.on_time, r.done), r.overdue,
             r.open] for r in view.rows]
    if view.total is not None:
        t = view.total
        rows.append([_("合计"), t.total, t.done, _rate(t.done, t.total), t.on_time, _rate(t.on_time, t.done),
                     t.overdue, t.open])
    scope = view.root.name if view.root else _("管辖范围")
    period = f"{view.month:%Y-%m}" if view.month else _("全部")
    note = _("%(scope)s · 完成时限：%(period)s · 导出时间：%(now)s") % {
        "scope": scope, "period": period, "now": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    file = excel.workbook(excel.Sheet(title=_("任务督查"), header=header, rows=rows, note=note,
                                      widths=[24, 10, 10, 10, 10, 12, 12, 10]))
    name = _("任务督查-%(date)s.xlsx") % {"date": f"{timezone.localdate():%Y%m%d}"}
    return FileResponse(file, as_attachment=True, filename=name, content_type=excel.CONTENT_TYPE)
