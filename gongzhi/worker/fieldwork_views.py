"""巡查走访 in the worker portal: the patrol page (start, the screen while under way, end), the track endpoint the
phone posts to (static/js/patrol.js), the visit form (走访登记), the cadre's village visit (干部进村走访) and the
daily work log (工作手册). Reads: `registry.selectors.fieldwork` and `analytics.selectors.fieldwork`; writes:
`registry.services.patrols` and `registry.services.visits.record_visit`."""

import datetime
import json
import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.analytics.selectors import fieldwork as fieldwork_log
from gongzhi.core.errors import DomainError, NotFound
from gongzhi.registry import policies
from gongzhi.registry.models import Visit
from gongzhi.registry.selectors import fieldwork as selectors
from gongzhi.registry.services import patrols, visits
from gongzhi.web.access import portal_required
from gongzhi.web.forms import add_domain_error
from gongzhi.worker.fieldwork_forms import (
    EndPatrolForm,
    StartPatrolForm,
    VisitForm,
    visit_kinds,
)

# Seconds between track points the page keeps (data-interval on the page; patrol.js reads it).
TRACK_INTERVAL_SECONDS = 15
# Points per request the page sends at most (the endpoint takes up to patrols.MAX_BATCH).
BATCH_SIZE = 100


def hours_minutes(value: datetime.timedelta) -> str:
    """A duration as H:MM (1:05), the way the page's clock counts it."""
    minutes = max(0, int(value.total_seconds() // 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


def distance_text(metres: float) -> str:
    if metres >= 1000:
        return _("%(n).1f公里") % {"n": metres / 1000}
    return _("%(n)d米") % {"n": round(metres)}


def _start_page(request, form=None, status=200):
    grids = selectors.patrol_grids(request.user)
    form = form or StartPatrolForm(initial={"client_key": uuid.uuid4()}, grids=grids)
    return render(request, "worker/fieldwork/start.html", {
        "form": form, "grids": grids, "recent": selectors.recent_patrols(request.user),
        "visit_grids": selectors.visit_grids(request.user)}, status=status)


@portal_required("worker")
def patrol_home(request):
    """巡查: the patrol under way, else the start button (with the grid to choose when there are several)."""
    running = selectors.open_patrol(request.user)
    if running is not None:
        return redirect("worker:patrol", patrol_id=running.pk)
    return _start_page(request)


@portal_required("worker")
@require_POST
def patrol_start(request):
    form = StartPatrolForm(request.POST, grids=selectors.patrol_grids(request.user))
    if form.is_valid():
        grid = next(g for g in selectors.patrol_grids(request.user) if g.pk == form.cleaned_data["grid"])
        try:
            patrol, created = patrols.start_patrol(actor=request.user, grid=grid,
                                                   client_key=str(form.cleaned_data["client_key"]))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            if not created and patrol.ended_at is None and patrol.client_key != str(form.cleaned_data["client_key"]):
                messages.info(request, _("您已有一次巡查正在进行，已为您打开。"))
            return redirect("worker:patrol", patrol_id=patrol.pk)
    return _start_page(request, form=form, status=422)


def _patrol_page(request, patrol, *, end_form=None, status=200):
    active = patrol.worker_id == request.user.pk and patrol.ended_at is None
    return render(request, "worker/fieldwork/patrol.html", {
        "patrol": patrol, "active": active, "end_form": (end_form or EndPatrolForm()) if active else None,
        "cases": fieldwork_log.patrol_cases(request.user, patrol),
        "visits": [(v, selectors.visit_label(v)) for v in selectors.patrol_visits(request.user, patrol)],
        "duration_text": hours_minutes(selectors.duration(patrol)), "distance_text": distance_text(patrol.distance_m),
        "may_visit": policies.can_record_visit(request.user, patrol.grid),
        "interval": TRACK_INTERVAL_SECONDS, "batch": BATCH_SIZE,
        "server_now_ms": int(timezone.now().timestamp() * 1000)}, status=status)


@portal_required("worker")
def patrol_detail(request, patrol_id: int):
    """A patrol: the screen while it is one's own and under way (time, distance, points, 上报事件, 走访登记,
    结束巡查), else what it was. With its cases and visits."""
    return _patrol_page(request, selectors.patrol_for(request.user, patrol_id))


@portal_required("worker")
@require_POST
def patrol_points(request, patrol_id: int):
    """The phone's batch of track points, as JSON {"points": [{"at", "lat", "lng", "accuracy"}, …]}: 200 with
    the patrol's figures; 400 for a body that is not such a batch (or too many points); 404 for a patrol not
    the worker's own; 409 once it has ended."""
    try:
        patrol = selectors.own_patrol(request.user, patrol_id)
        try:
            body = json.loads(request.body or b"null")
        except (UnicodeDecodeError, ValueError):
            raise DomainError(_("轨迹数据不是有效的JSON。"), code="bad_json") from None
        points = body.get("points") if isinstance(body, dict) else None
        if not isinstance(points, list):
            raise DomainError(_("轨迹数据格式不正确。"), code="bad_track")
        batch = patrols.add_track_points(actor=request.user, patrol=patrol, points=points)
    except DomainError as err:
        status = 400 if err.status == 422 else err.status
        return JsonResponse({"detail": str(err.message), "code": err.code}, status=status)
    return JsonResponse({"stored": batch.stored, "dropped": batch.dropped, "point_count": batch.point_count,
                         "distance_m": round(batch.distance_m)})


@portal_required("worker")
@require_POST
def patrol_end(request, patrol_id: int):
    patrol = selectors.own_patrol(request.user, patrol_id)
    form = EndPatrolForm(request.POST)
    if form.is_valid():
        try:
            patrol = patrols.end_patrol(actor=request.user, patrol=patrol, note=form.cleaned_data["note"])
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("巡查已结束，用时%(time)s，里程%(distance)s。") % {
                "time": hours_minutes(selectors.duration(patrol)), "distance": distance_text(patrol.distance_m)})
            return redirect("worker:patrol", patrol_id=patrol.pk)
    return _patrol_page(request, patrol, end_form=form, status=422)


# 走访登记 --------------------------------------------------------------------------------------------------------

def _visit_place(request):
    """The patrol the visit is on (the worker's own open one, from ?patrol=) and the grid it is in (the patrol's,
    else ?grid=, else the worker's first grid where visits may be recorded)."""
    patrol = selectors.own_open_patrol(request.user, request.GET.get("patrol"))
    if patrol is not None:
        if not policies.can_record_visit(request.user, patrol.grid):
            raise NotFound()
        return patrol, patrol.grid
    grid_id = request.GET.get("grid", "")
    if grid_id.isdigit():
        return None, selectors.visit_grid(request.user, int(grid_id))
    grids = selectors.visit_grids(request.user)
    if not grids:
        raise NotFound()
    return None, grids[0]


@portal_required("worker")
def visit_new(request):
    """走访登记: choose the kind, find the household or place in the grid (?q=), write what was found."""
    patrol, grid = _visit_place(request)
    kinds = visit_kinds()
    kind = request.GET.get("kind") if request.GET.get("kind") in dict(kinds) else Visit.Kind.HOUSEHOLD
    query = request.GET.get("q", "")[:50]
    targets = selectors.visit_targets(request.user, grid, kind, query)
    status = 200
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                target = selectors.visit_target(request.user, grid, data["target"], data["place"])
                visits.record_visit(actor=request.user, kind=kind, target=target, notes=data["notes"], grid=grid,
                                    visited_at=data["visited_at"], patrol=patrol, lat=data["lat"], lng=data["lng"],
                                    photos=data["photos"], client_key=str(data["client_key"]))
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("已登记走访。"))
                if patrol is not None:
                    return redirect("worker:patrol", patrol_id=patrol.pk)
                return redirect("worker:work_log")
        status = 422
        chosen = request.POST.get("target", "")
        if chosen and chosen not in {t.value for t in targets}:
            try:
                record = selectors.visit_target(request.user, grid, chosen)
            except DomainError:
                pass
            else:
                item = record.household or record.house or record.establishment
                targets.insert(0, selectors.TargetChoice(chosen, str(item)))
    else:
        form = VisitForm(initial={"client_key": uuid.uuid4()})
    return render(request, "worker/fieldwork/visit.html", {
        "form": form, "patrol": patrol, "grid": grid, "kind": kind, "kinds": kinds, "q": query,
        "targets": targets, "chosen": request.POST.get("target", ""),
        "grids": [] if patrol is not None else selectors.visit_grids(request.user)}, status=status)


# 工作手册 ---------------------------------------------------------------------------------------------------------

def _day(value: str | None) -> datetime.date:
    today = timezone.localdate()
    try:
        day = datetime.date.fromisoformat(value or "")
    except ValueError:
        return today
    return min(day, today)


@portal_required("worker")
def work_log(request):
    """工作手册: one day's patrols, visits, cases reported and case steps as a timeline (?day=YYYY-MM-DD, not after
    today), with the previous and next day, and the figures of the day's month."""
    day = _day(request.GET.get("day"))
    log = fieldwork_log.work_log(request.user, request.user.pk, day)
    return render(request, "worker/fieldwork/work_log.html", {
        "log": log, "summary": fieldwork_log.month_summary(request.user, request.user.pk, day),
        "today": timezone.localdate(), "patrol_url": reverse("worker:patrol_home")})
