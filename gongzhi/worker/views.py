from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from gongzhi.accounts import policies
from gongzhi.accounts.selectors import posts_of
from gongzhi.command.access import portal_required
from gongzhi.command.views import inbox_page, mark_all_notifications_read, open_notification, reveal_pii_page
from gongzhi.core.errors import NotFound
from gongzhi.registry import selectors as registry_selectors

HOUSEHOLDS_PER_PAGE = 50


@portal_required("worker")
def home(request):
    grids = registry_selectors.grid_summaries(request.user)
    return render(request, "worker/home.html", {"grids": grids, "nav": "grids"})


@portal_required("worker")
def grid_detail(request, grid_id: int):
    try:
        grid = registry_selectors.visible_grid(request.user, grid_id)
        households = registry_selectors.households_in_grid(request.user, grid)
    except NotFound:
        raise Http404 from None
    page = Paginator(households, HOUSEHOLDS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "worker/grid.html", {
        "grid": grid, "page": page, "nav": "grids", "may_unmask": policies.can_unmask_pii(request.user, grid.path)})


@portal_required("worker")
def reveal_pii(request, subject_type: str, subject_id: int, field: str):
    return reveal_pii_page(request, subject_type, subject_id, field, base="worker/base.html", nav="grids")


@portal_required("worker")
def me(request):
    return render(request, "worker/me.html", {"posts": posts_of(request.user), "nav": "me"})


@portal_required("worker")
def inbox(request):
    return inbox_page(request, base="worker/base.html", portal="worker", nav="messages")


@portal_required("worker")
def inbox_open(request, notification_id: int):
    return open_notification(request, notification_id, portal="worker")


@portal_required("worker")
def inbox_read_all(request):
    return mark_all_notifications_read(request, portal="worker")
