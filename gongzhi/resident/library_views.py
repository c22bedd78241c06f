"""The resident's library and volunteer pages (M25, M26).

- 政策法规 · 办事指南 (`library_search`): the library items the resident may read, by word, kind and tag, with
  the 便民服务 links as big buttons on top; `library_file` downloads a template (or any library file) after the
  same read check as the item; `library_item` is a plain reader page for an item, used until the shared item
  page (`resident:publication`) is wired.
- 志愿服务 (`volunteers`): upcoming activities with their sign-up buttons and the teams of the resident's
  village with 申请加入; `volunteer_record` (我的志愿服务): teams, activities, hours and points.

Thin views over `selectors.library` / `selectors.volunteers` and `services.volunteers`.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.core.files import served
from gongzhi.publications import kinds
from gongzhi.publications.models import Publication, TeamMember
from gongzhi.publications.selectors import core as core_selectors
from gongzhi.publications.selectors import library as library_selectors
from gongzhi.publications.selectors import volunteers as selectors
from gongzhi.publications.services import core as core_services
from gongzhi.publications.services import volunteers
from gongzhi.web.access import login_required
from gongzhi.web.files import file_response
from gongzhi.web.paging import Window

PER_PAGE = 20


def item_url(publication: Publication) -> str:
    """The shared reader page of an item when it is wired, else our own."""
    try:
        return reverse("resident:publication", args=[publication.pk])
    except NoReverseMatch:
        return reverse("resident:library_item", args=[publication.pk])


def library_search(request):
    q = request.GET.get("q", "")[:core_selectors.SEARCH_MAX].strip()
    tag = request.GET.get("tag", "")[:20].strip()
    kind = request.GET.get("kind", "")
    if kind not in library_selectors.LIBRARY_KINDS:
        kind = ""
    qs = (core_selectors.readable(request.user, kind=kind, tag=tag, search=q) if kind else
          core_selectors.readable(request.user, group=kinds.Group.LIBRARY, tag=tag, search=q))
    page = Window(qs, request.GET.get("page"), PER_PAGE)
    for item in page:
        item.url = item_url(item)
        item.label = kinds.KINDS[item.kind].label
    return render(request, "resident/library/search.html", {
        "page": page, "q": q, "tag": tag, "kind": kind, "kinds": library_selectors.library_kinds(),
        "tags": library_selectors.tag_cloud(request.user, kind=kind or None),
        "links": [] if (q or tag or kind) else library_selectors.service_links(request.user),
        "action": reverse("resident:library_search")})


def library_item(request, pk: int):
    publication = core_selectors.readable_one(request.user, pk)
    core_services.mark_read(user=request.user, publication=publication)
    template = f"resident/publications/kinds/{publication.kind}.html"
    return render(request, "resident/library/item.html", {
        "publication": publication, "kind": kinds.context_for("reader", request.user, publication),
        "kind_template": template, "label": kinds.KINDS[publication.kind].label})


def library_file(request, attachment_id: int):
    attachment = library_selectors.readable_file(request.user, attachment_id)
    return file_response(served(attachment.file, content_type=attachment.content_type,
                                download_name=attachment.name, document=True))


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
    path("public/library/search/", library_search, name="library_search"),
    path("public/library/item/<int:pk>/", library_item, name="library_item"),
    path("public/library/files/<int:attachment_id>/", library_file, name="library_file"),
    path("volunteers/", volunteer_home, name="volunteers"),
    path("volunteers/mine/", volunteer_record, name="volunteer_record"),
    path("volunteers/teams/<int:team_id>/join/", require_POST(volunteer_join), name="volunteer_join"),
    path("volunteers/members/<int:member_id>/leave/", require_POST(volunteer_leave), name="volunteer_leave"),
    path("volunteers/activities/<int:pk>/sign-up/", require_POST(volunteer_signup), name="volunteer_signup"),
    path("volunteers/activities/<int:pk>/cancel/", require_POST(volunteer_cancel), name="volunteer_cancel"),
]
