"""Case pages of the grid-worker portal: 我的任务, case detail with sign/complete/return/回访, 上报事件."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_POST

from gongzhi.accounts import selectors as account_selectors
from gongzhi.cases import selectors
from gongzhi.command.access import portal_required
from gongzhi.command.cases_views import case_action_page, case_page
from gongzhi.resident.views import report_case

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
    """上报事件: the worker's own field report (never anonymous), located by the phone, typed coordinates or
    the worker's grid."""
    return report_case(request, grid_point=_my_grid_centre(request.user), template="worker/cases_report.html",
                       case_url_name="worker:case", show_anonymous=False, nav="tasks")
