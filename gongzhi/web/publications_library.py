"""Staff pages of the libraries and volunteers (M25, M26), shared by the worker and command portals through
`urlpatterns_for(guard)`: a guide's facts, a service link's address, a template's files, an activity's place
and time, its attendance and hours, and the teams with their applications.

The item pages themselves are the core's (`<portal>:publication`); their kind partials
(`web/publications/kinds/<slug>.html`) link here. Thin views: reads through the selectors (out of scope: 404),
writes through `services.library` / `services.volunteers`; bad input shows the form again with the message at
its field (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, NotFound
from gongzhi.org.models import Level, OrgUnit
from gongzhi.publications import policies
from gongzhi.publications import volunteer_policies as vp
from gongzhi.publications.models import Publication, Status, TeamMember, VolunteerTeam
from gongzhi.publications.selectors import core as core_selectors
from gongzhi.publications.selectors import library as library_selectors
from gongzhi.publications.selectors import volunteers as selectors
from gongzhi.publications.services import library, volunteers
from gongzhi.web.forms import add_domain_error
from gongzhi.web.portals import portal_of

DATETIME_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _url(request, name: str, *args: Any) -> str:
    return reverse(f"{portal_of(request).name}:{name}", args=args)


def _item_url(request, publication: Publication) -> str:
    try:
        return _url(request, "publication", publication.pk)
    except NoReverseMatch:  # the shared item page is not wired in this portal: stay on this page
        return request.path


def _status(request) -> int:
    return 422 if request.method == "POST" else 200


# Forms ------------------------------------------------------------------------------------------------------

class GuideForm(forms.Form):
    matter = forms.CharField(label=gettext_lazy("办理事项"), max_length=100)
    materials = forms.CharField(label=gettext_lazy("所需材料"), required=False,
                                widget=forms.Textarea(attrs={"rows": 6}),
                                help_text=gettext_lazy("每行一项，居民看到的是可勾选的清单。"))
    place = forms.CharField(label=gettext_lazy("办理地点"), max_length=200, required=False)
    office_hours = forms.CharField(label=gettext_lazy("办理时间"), max_length=200, required=False)
    fee = forms.CharField(label=gettext_lazy("收费标准"), max_length=100, required=False)
    time_limit = forms.CharField(label=gettext_lazy("办理时限"), max_length=100, required=False)
    online_url = forms.CharField(label=gettext_lazy("网上办理链接"), max_length=300, required=False,
                                 help_text=gettext_lazy("以 https:// 开头，没有可不填。"))
    phone = forms.CharField(label=gettext_lazy("咨询电话"), max_length=40, required=False)


class LinkForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("链接地址"), max_length=300,
                          help_text=gettext_lazy("只能是 https:// 开头的网址。"))
    phone = forms.CharField(label=gettext_lazy("服务电话"), max_length=40, required=False)


class FilesForm(forms.Form):
    files = forms.FileField(  # type: ignore[assignment]  # the field is named as the form's inputlabel=gettext_lazy("模板文件"), required=False,
                            help_text=gettext_lazy("Word（.docx）、Excel（.xlsx）或PDF，可多选。"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].widget.attrs.update({"accept": ".docx,.xlsx,.pdf"})


class ActivityForm(forms.Form):
    place = forms.CharField(label=gettext_lazy("活动地点"), max_length=100)
    starts_at = forms.DateTimeField(label=gettext_lazy("开始时间"), input_formats=DATETIME_INPUT,
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                               format="%Y-%m-%dT%H:%M"))
    ends_at = forms.DateTimeField(label=gettext_lazy("结束时间"), input_formats=DATETIME_INPUT,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                             format="%Y-%m-%dT%H:%M"))
    slots = forms.IntegerField(label=gettext_lazy("招募人数"), min_value=1, max_value=volunteers.SLOTS_MAX)
    teams = forms.MultipleChoiceField(label=gettext_lazy("服务队"), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    members_only = forms.BooleanField(label=gettext_lazy("仅限所选服务队的成员报名"), required=False)

    def __init__(self, *args: Any, teams: list[VolunteerTeam], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].choices = [(str(t.pk), t.name) for t in teams]  # type: ignore[attr-defined]


class TeamForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("所属村(社区)"))
    name = forms.CharField(label=gettext_lazy("队伍名称"), max_length=40)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=VolunteerTeam.Kind.choices)
    description = forms.CharField(label=gettext_lazy("服务内容"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    leader_name = forms.CharField(label=gettext_lazy("队长姓名"), max_length=30, required=False)
    order = forms.IntegerField(label=gettext_lazy("排序"), min_value=0, max_value=999, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(self, *args: Any, units: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(str(u.pk), u.name) for u in units]  # type: ignore[attr-defined]


# Library parts ------------------------------------------------------------------------------------------------

def _draft(request, pk: int, kind: str) -> Publication:
    return core_selectors.managed_one(request.user, pk, kind=kind)


def _fixed(request, publication: Publication) -> HttpResponse | None:
    """Back to the item, with why, when its part can no longer change (submitted, published, withdrawn)."""
    if policies.can_edit(request.user, publication):
        return None
    if publication.status == Status.DRAFT:
        raise NotFound()
    messages.error(request, _("只有草稿可以修改。"))
    return redirect(_item_url(request, publication))


def guide_edit(request, pk: int) -> HttpResponse:
    publication = _draft(request, pk, "guide")
    if (fixed := _fixed(request, publication)) is not None:
        return fixed
    guide = library_selectors.guide_of(publication)
    if request.method == "POST":
        form = GuideForm(request.POST)
        if form.is_valid():
            try:
                library.save_guide(actor=request.user, publication=publication,
                                   fields=library.GuideFields(**form.cleaned_data))
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("办事指南已保存。"))
                return redirect(_item_url(request, publication))
    else:
        initial = {} if guide is None else {
            "matter": guide.matter, "materials": "\n".join(guide.materials), "place": guide.place,
            "office_hours": guide.office_hours, "fee": guide.fee, "time_limit": guide.time_limit,
            "online_url": guide.online_url, "phone": guide.phone}
        form = GuideForm(initial=initial or {"matter": publication.title})
    return render(request, "web/publications/library_form.html", {
        "form": form, "publication": publication, "heading": _("填写办事指南"),
        "back": _item_url(request, publication)}, status=_status(request))


def link_edit(request, pk: int) -> HttpResponse:
    publication = _draft(request, pk, "service_link")
    if (fixed := _fixed(request, publication)) is not None:
        return fixed
    link = library_selectors.link_of(publication)
    if request.method == "POST":
        form = LinkForm(request.POST)
        if form.is_valid():
            try:
                library.save_service_link(actor=request.user, publication=publication, **form.cleaned_data)
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("链接已保存。"))
                return redirect(_item_url(request, publication))
    else:
        form = LinkForm(initial={"url": link.url, "phone": link.phone} if link else {})
    return render(request, "web/publications/library_form.html", {
        "form": form, "publication": publication, "heading": _("设置便民服务链接"),
        "back": _item_url(request, publication)}, status=_status(request))


def template_files(request, pk: int) -> HttpResponse:
    publication = _draft(request, pk, "template")
    if (fixed := _fixed(request, publication)) is not None:
        return fixed
    form = FilesForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        try:
            library.add_template_files(actor=request.user, publication=publication,
                                       files=request.FILES.getlist("files"))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("模板文件已上传。"))
            return redirect(_item_url(request, publication))
    return render(request, "web/publications/library_files.html", {
        "form": form, "publication": publication, "files": library_selectors.files_of(publication),
        "back": _item_url(request, publication)}, status=_status(request))


# Activities ------------------------------------------------------------------------------------------------

def _activity_teams(publication: Publication) -> list[VolunteerTeam]:
    path = publication.author_unit.path
    return [t for t in VolunteerTeam.objects.filter(is_active=True, path__startswith=path).order_by("path", "order")]


def activity_edit(request, pk: int) -> HttpResponse:
    publication, activity = selectors.managed_activity(request.user, pk)
    teams = _activity_teams(publication)
    if request.method == "POST":
        form = ActivityForm(request.POST, teams=teams)
        if form.is_valid():
            data = form.cleaned_data
            try:
                volunteers.save_activity(actor=request.user, publication=publication, fields=volunteers.ActivityFields(
                    place=data["place"], starts_at=data["starts_at"], ends_at=data["ends_at"], slots=data["slots"],
                    team_ids=[int(t) for t in data["teams"]], members_only=data["members_only"]))
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("活动安排已保存。"))
                return redirect(_item_url(request, publication))
    else:
        initial = {} if activity is None else {
            "place": activity.place, "starts_at": activity.starts_at, "ends_at": activity.ends_at,
            "slots": activity.slots, "teams": [str(t.pk) for t in activity.teams.all()],
            "members_only": activity.members_only}
        form = ActivityForm(initial=initial, teams=teams)
    return render(request, "web/publications/library_form.html", {
        "form": form, "publication": publication, "heading": _("活动时间、地点和招募人数"),
        "back": _item_url(request, publication)}, status=_status(request))


def attendance(request, pk: int) -> HttpResponse:
    """签到和时长: one row a participant, a tick for 到场 and the hours (default: the activity's length)."""
    publication, activity = selectors.managed_activity(request.user, pk)
    if activity is None:
        raise NotFound()
    rows = selectors.participants(activity)
    error = ""
    if request.method == "POST":
        try:
            entries = [volunteers.AttendanceEntry(
                participation_id=p.pk, attended=request.POST.get(f"attended-{p.pk}") == "on",
                hours=volunteers.parse_hours(request.POST.get(f"hours-{p.pk}"), field=f"hours-{p.pk}"))
                for p in rows]
            volunteers.record_attendance(actor=request.user, publication=publication, entries=entries)
        except DomainError as err:
            if isinstance(err, NotFound):
                raise
            error = str(err.message)
        else:
            messages.success(request, _("签到和服务时长已保存。"))
            return redirect(_url(request, "volunteer_attendance", publication.pk))
    return render(request, "web/volunteers/attendance.html", {
        "publication": publication, "activity": activity, "rows": rows, "error": error,
        "default_hours": activity.duration_hours, "back": _item_url(request, publication)},
        status=422 if error else 200)


# Teams ------------------------------------------------------------------------------------------------------

def _team_units(request) -> list[OrgUnit]:
    from gongzhi.accounts import policies as account_policies

    paths = vp.team_paths(request.user)
    return list(OrgUnit.objects.filter(account_policies.paths_q(paths, "path"), level=Level.VILLAGE,
                                       is_active=True).order_by("path")[:300])


def team_list(request) -> HttpResponse:
    teams = list(selectors.managed_teams(request.user))
    return render(request, "web/volunteers/teams.html", {
        "teams": teams, "may_add": bool(_team_units(request))})


def _team_fields(data: dict[str, Any]) -> volunteers.TeamFields:
    return volunteers.TeamFields(name=data["name"], kind=data["kind"], description=data["description"],
                                 leader_name=data["leader_name"], order=data["order"] or 0,
                                 is_active=data["is_active"])


def team_new(request) -> HttpResponse:
    units = _team_units(request)
    if not units:
        raise NotFound()
    form = TeamForm(request.POST or None, units=units, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        unit = next(u for u in units if str(u.pk) == form.cleaned_data["unit"])
        try:
            team = volunteers.create_team(actor=request.user, unit=unit, fields=_team_fields(form.cleaned_data))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("服务队已建立。"))
            return redirect(_url(request, "volunteer_team", team.pk))
    return render(request, "web/volunteers/team_form.html", {
        "form": form, "heading": _("新建服务队"), "back": _url(request, "volunteer_teams")},
        status=_status(request))


def team_edit(request, team_id: int) -> HttpResponse:
    team = selectors.managed_team(request.user, team_id)
    initial = {"unit": str(team.unit_id), "name": team.name, "kind": team.kind, "description": team.description,
               "leader_name": team.leader_name, "order": team.order, "is_active": team.is_active}
    form = TeamForm(request.POST or None, units=[team.unit], initial=initial)
    form.fields["unit"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            volunteers.update_team(actor=request.user, team=team, fields=_team_fields(form.cleaned_data))
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(_url(request, "volunteer_team", team.pk))
    return render(request, "web/volunteers/team_form.html", {
        "form": form, "heading": _("修改服务队"), "back": _url(request, "volunteer_team", team.pk)},
        status=_status(request))


def team_page(request, team_id: int) -> HttpResponse:
    team = selectors.managed_team(request.user, team_id)
    return render(request, "web/volunteers/team.html", {"team": team, "members": selectors.team_members(team)})


def member_review(request, member_id: int) -> HttpResponse:
    member = TeamMember.objects.select_related("team").filter(pk=member_id).first()
    if member is None or not vp.can_manage_team(request.user, member.team):
        raise NotFound()
    try:
        volunteers.review_member(actor=request.user, member=member, approve=request.POST.get("decision") == "approve",
                                 note=request.POST.get("note", ""))
    except DomainError as err:
        if isinstance(err, NotFound):
            raise
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("已审核。"))
    return redirect(_url(request, "volunteer_team", member.team_id))


def member_remove(request, member_id: int) -> HttpResponse:
    member = TeamMember.objects.select_related("team").filter(pk=member_id).first()
    if member is None or not vp.can_manage_team(request.user, member.team):
        raise NotFound()
    volunteers.remove_member(actor=request.user, member=member)
    messages.success(request, _("已移出服务队。"))
    return redirect(_url(request, "volunteer_team", member.team_id))


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """The staff pages of libraries and volunteers, behind the portal's `guard`."""
    routes: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/<int:pk>/guide/", guide_edit, "library_guide"),
        ("publications/<int:pk>/link/", link_edit, "library_link"),
        ("publications/<int:pk>/template-files/", template_files, "library_files"),
        ("publications/<int:pk>/activity/", activity_edit, "volunteer_activity_edit"),
        ("publications/<int:pk>/attendance/", attendance, "volunteer_attendance"),
        ("volunteers/teams/", team_list, "volunteer_teams"),
        ("volunteers/teams/new/", team_new, "volunteer_team_new"),
        ("volunteers/teams/<int:team_id>/", team_page, "volunteer_team"),
        ("volunteers/teams/<int:team_id>/edit/", team_edit, "volunteer_team_edit"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("volunteers/members/<int:member_id>/review/", member_review, "volunteer_member_review"),
        ("volunteers/members/<int:member_id>/remove/", member_remove, "volunteer_member_remove"),
    ]
    return [path(route, guard(view), name=name) for route, view, name in routes] + [
        path(route, require_POST(guard(view)), name=name) for route, view, name in posts]

