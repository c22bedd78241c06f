"""The grid-worker portal (/worker/): my grids and their households, my tasks, field reports, my posts.
Messages, the PII page and the case page are the shared ones of `gongzhi.web`."""

from django.core.paginator import Paginator
from django.shortcuts import render

from gongzhi.accounts import policies
from gongzhi.accounts import selectors as account_selectors
from gongzhi.cases import selectors
from gongzhi.registry import selectors as registry_selectors
from gongzhi.web.access import portal_required
from gongzhi.web.report import report_page

HOUSEHOLDS_PER_PAGE = 50
TASKS_PER_PAGE = 30


@portal_required("worker")
def home(request):
    grids = registry_selectors.grid_summaries(request.user)
    return render(request, "worker/home.html", {"grids": grids})


@portal_required("worker")
def grid_detail(request, grid_id: int):
    grid = registry_selectors.visible_grid(request.user, grid_id)
    households = registry_selectors.households_in_grid(request.user, grid)
    page = Paginator(households, HOUSEHOLDS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/grid.html", {
        "grid": grid, "page": page, "may_unmask": policies.can_unmask_pii(request.user, grid.path)})


@portal_required("worker")
def me(request):
    return render(request, "worker/me.html")


@portal_required("worker")
def tasks(request):
    """我的任务: cases led by the user's units, and handled cases in their grids awaiting a return visit."""
    queryset = selectors.tasks_for(request.user)
    page = Paginator(queryset.select_related("category", "grid"), TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/cases_tasks.html", {"page": page})


@portal_required("worker")
def report(request):
    """上报事件: the worker's own field report (never anonymous), located by the phone, typed coordinates or
    the worker's grid."""
    grid = account_selectors.first_grid_post(request.user)
    return report_page(request, grid_point=grid.inner_point() if grid is not None else None, show_anonymous=False)
