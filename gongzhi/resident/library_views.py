"""The resident's volunteer pages (M26): 志愿服务 (`volunteers`: coming activities with their sign-up buttons and
the teams of the resident's village with 申请加入) and 我的志愿服务 (`volunteer_record`: teams, activities, hours,
points), and the sign-up, cancel, join and leave buttons (also used by the activity's part of the shared item page).

The libraries (M25) need no page of their own: the shared section page (/public/library/) searches by words,
kind and tag, the shared item page shows a kind's part (`resident/publications/kinds/<slug>.html`) and serves
the attachments (templates included) through the item's policies.

Thin views over `selectors.volunteers` and `services.volunteers`.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.publications.models import Publication, TeamMember
from gongzhi.publications.selectors import core as core_selectors
from gongzhi.publications.selectors import volunteers as selectors
from gongzhi.publications.services import volunteers
from gongzhi.web.access import login_required


def item_url(publication: Publication) -> str:
    return reverse("resident:publication", args=[publication.pk])


# Volunteers -----------------------------------------------------------------------------------------------

def volunteer_home(request):
    return render(request, "resident/volunteers/index.html", {
        "activities": selectors.activities_for_resident(request.user),
        "teams": selectors.teams_for_resident(request.user)})


@login_required
def volunteer_join(request, team_id: int):
    team = selectors.visible_team(request.user, team_id)
    try:
        volunteers.apply_to_team(user=request.user, team=team, note=request.POST.get("note", ""))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("申请已提交，村里审核后会通知您。"))
    return redirect("resident:volunteers")


@login_required
def volunteer_leave(request, member_id: int):
    member = TeamMember.objects.filter(pk=member_id, user=request.user).first()
    if member is None:
        raise NotFound()
    volunteers.leave_team(user=request.user, member=member)
    messages.success(request, _("已退出服务队。"))
    return redirect("resident:volunteer_record")


def _back(request, publication: Publication):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(item_url(publication))


@login_required
def volunteer_signup(request, pk: int):
    publication = core_selectors.readable_one(request.user, pk, kind="volunteer_activity")
    try:
        volunteers.sign_up(user=request.user, publication=publication)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("报名成功，请按时到场。"))
    return _back(request, publication)


@login_required
def volunteer_cancel(request, pk: int):
    publication = core_selectors.readable_one(request.user, pk, kind="volunteer_activity")
    try:
        volunteers.cancel_sign_up(user=request.user, publication=publication)
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("已取消报名。"))
    return _back(request, publication)


@login_required
def volunteer_record(request):
    record = selectors.record_of(request.user)
    for p in record.participations:
        p.url = item_url(p.activity.publication)
    return render(request, "resident/volunteers/record.html", {"record": record})


# Included by the resident portal's urls.py (`*library_views.urlpatterns`).
urlpatterns = [
    path("volunteers/", volunteer_home, name="volunteers"),
    path("volunteers/mine/", volunteer_record, name="volunteer_record"),
    path("volunteers/teams/<int:team_id>/join/", require_POST(volunteer_join), name="volunteer_join"),
    path("volunteers/members/<int:member_id>/leave/", require_POST(volunteer_leave), name="volunteer_leave"),
    path("volunteers/activities/<int:pk>/sign-up/", require_POST(volunteer_signup), name="volunteer_signup"),
    path("volunteers/activities/<int:pk>/cancel/", require_POST(volunteer_cancel), name="volunteer_cancel"),
]
