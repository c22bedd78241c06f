"""Case pages of the grid-worker portal: 我的任务, case detail with sign/complete/return/回访, 上报事件."""

import uuid

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import selectors as account_selectors
from gongzhi.cases import categories, selectors, services
from gongzhi.command.access import portal_required
from gongzhi.command.cases_views import case_action_page, case_page
from gongzhi.core.errors import DomainError
from gongzhi.resident.forms import ReportForm, add_domain_error

TASKS_PER_PAGE = 30


@portal_required("worker")
def tasks(request):
    """我的任务: cases led by the user's units, and handled cases in their grids awaiting a return visit."""
    queryset = selectors.tasks_for(request.user)
    page = Paginator(queryset.select_related("category", "grid"), TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/cases_tasks.html", {"page": page, "nav": "tasks"})


@portal_required("worker")
def case_detail(request, case_id: int):
    return case_page(request, case_id, base="worker/base.html", portal="worker",
                     template="worker/cases_detail.html", nav="tasks")


@require_POST
@portal_required("worker")
def case_action(request, case_id: int, name: str):
    return case_action_page(request, case_id, name, base="worker/base.html", portal="worker",
                            template="worker/cases_detail.html", nav="tasks")


def _my_grid_centre(user) -> tuple[float, float] | None:
    grid = account_selectors.first_grid_post(user)
    return grid.inner_point() if grid is not None else None


@portal_required("worker")
def report(request):
    """上报事件: the worker's own field report, on the resident portal's form (photos, voice, location or
    the centre of the worker's grid). A retry with the same client_id returns the first case."""
    grid_point = _my_grid_centre(request.user)
    if request.method != "POST":
        form = ReportForm(initial={"client_id": uuid.uuid4()}, grid_point=grid_point)
        return render(request, "worker/cases_report.html", {"form": form, "nav": "tasks"})
    form = ReportForm(request.POST, request.FILES, grid_point=grid_point)
    if form.is_valid():
        data = form.cleaned_data
        category = categories.by_id(data["category"])
        if category is None:
            form.add_error("category", _("请选择事件分类。"))
        else:
            try:
                case, _created = services.submit_case(
                    actor=request.user, client_id=data["client_id"], category=category,
                    description=data["description"], lat=data["lat"], lng=data["lng"], address=data["address"],
                    is_anonymous=data["is_anonymous"], photos=data["photos"], voice=data["voice"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                return redirect("worker:case", case_id=case.pk)
    return render(request, "worker/cases_report.html", {"form": form, "nav": "tasks"}, status=422)
