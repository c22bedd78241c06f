"""The staff side of 三务公开 and 村民说事: the small forms on an item's page (web/publications/detail.html, the
kind's part `web/publications/kinds/<slug>.html`) post here. `urlpatterns_for(guard)` gives a portal (worker,
command) these URLs behind its guard.

Each view is one service call: done, it goes back to the item's page with a message; refused for bad input, it
shows the form again on its own page with the message at the field (422; 409 when the item's state refuses,
e.g. a finance line added to an item already in review); out of scope, 404 (the middleware).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core import excel
from gongzhi.core.errors import Conflict, DomainError, Forbidden, NotFound
from gongzhi.publications import kinds, policies
from gongzhi.publications.affairs import form_values
from gongzhi.publications.models import FinanceLine, MeetingAction, Milestone, Project, Publication
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.services import affairs as services
from gongzhi.web.portals import portal_of


def item_url(request, pk: int, anchor: str = "") -> str:
    """The item's staff page (the shared one), at `anchor`."""
    portal = portal_of(request).name
    try:
        address = reverse(f"{portal}:publication", args=[pk])
    except NoReverseMatch:  # the shared pages not wired yet
        address = reverse(f"{portal}:home")
    return f"{address}#{anchor}" if anchor else address


def _done(request, pk: int, message: str, anchor: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(item_url(request, pk, anchor))


def _refused(request, publication: Publication, error: DomainError, form: str, title: str,
             **extra: Any) -> HttpResponse:
    """The form again on its own page, with the message at its field (nothing was changed)."""
    if isinstance(error, NotFound | Forbidden):
        raise error
    return render(request, "web/publications/affairs/form_page.html", {
        "publication": publication, "form_template": f"web/publications/affairs/{form}", "title": title,
        "values": form_values(request.POST), "error": error,
        "kind": kinds.context_for("staff", request.user, publication), "back": item_url(request, publication.pk),
        **extra},
        status=409 if isinstance(error, Conflict) else 422)


def _item(request, pk: int, kind: str) -> Publication:
    return selectors.managed_one(request.user, pk, kind=kind)


def _managed(request, publication: Publication) -> Publication:
    if not policies.can_manage(request.user, publication) or publication.kind not in ("disclosure", "meeting"):
        raise NotFound()
    return publication


# 三务公开 -----------------------------------------------------------------------------------------------------

def disclosure_save(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "disclosure")
    p = request.POST
    try:
        services.set_disclosure(actor=request.user, publication=item, category=p.get("category", ""),
                                year=p.get("year"), period_type=p.get("period_type", ""), period=p.get("period"))
    except DomainError as err:
        return _refused(request, item, err, "_disclosure_form.html", _("公开类别和期次"))
    return _done(request, pk, _("已保存公开类别和期次。"), "affairs-period")


def line_add(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "disclosure")
    p = request.POST
    try:
        services.add_line(actor=request.user, publication=item, direction=p.get("direction", ""),
                          date=p.get("date"), item=p.get("item"), amount=p.get("amount"),
                          category=p.get("category", ""), voucher_no=p.get("voucher_no", ""),
                          note=p.get("note", ""), client_key=p.get("client_key", ""))
    except DomainError as err:
        return _refused(request, item, err, "_line_form.html", _("添加收支明细"))
    return _done(request, pk, _("已添加一条收支明细。"), "affairs-lines")


def line_delete(request, line_id: int) -> HttpResponse:
    line = get_object_or_404(FinanceLine.objects.select_related("disclosure__publication__author_unit"),
                             pk=line_id)
    item = _managed(request, line.disclosure.publication)
    try:
        services.delete_line(actor=request.user, line=line)
    except DomainError as err:
        return _refused(request, item, err, "_nothing.html", _("删除收支明细"))
    return _done(request, item.pk, _("已删除一条收支明细。"), "affairs-lines")


def lines_import(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "disclosure")
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise DomainError(_("请选择要导入的Excel文件。"), field="file")
        n = services.import_lines(actor=request.user, publication=item, file=upload,
                                  replace=request.POST.get("replace") == "1")
    except DomainError as err:
        problems = getattr(err, "problems", [])
        return _refused(request, item, err, "_import_form.html", _("导入收支明细"), problems=problems)
    return _done(request, pk, _("已导入%(n)d条收支明细。") % {"n": n}, "affairs-lines")


def lines_template(request) -> FileResponse:
    """The finance lines' workbook template: the header row and two example rows."""
    file = excel.workbook(excel.Sheet(
        title=_("收支明细"), header=services.FINANCE_HEADER, rows=services.template_rows(),
        widths=(8, 14, 36, 14, 14, 12, 20),
        note=_("收支填“收入”或“支出”；日期如2026-11-05；金额以元为单位，最多两位小数。示例行请删除后再填写。")))
    return FileResponse(file, as_attachment=True, filename="财务公开收支明细模板.xlsx",
                        content_type=excel.CONTENT_TYPE)


def project_add(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "disclosure")
    p = request.POST
    try:
        services.add_project(actor=request.user, publication=item, name=p.get("name"), budget=p.get("budget"),
                             contractor=p.get("contractor", ""), note=p.get("note", ""),
                             client_key=p.get("client_key", ""))
    except DomainError as err:
        return _refused(request, item, err, "_project_form.html", _("添加村级项目"))
    return _done(request, pk, _("已添加项目。"), "affairs-projects")


def project_delete(request, project_id: int) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("disclosure__publication__author_unit"),
                                pk=project_id)
    item = _managed(request, project.disclosure.publication)
    try:
        services.delete_project(actor=request.user, project=project)
    except DomainError as err:
        return _refused(request, item, err, "_nothing.html", _("删除项目"))
    return _done(request, item.pk, _("已删除项目。"), "affairs-projects")


def milestone_add(request, project_id: int) -> HttpResponse:
    project = get_object_or_404(Project.objects.select_related("disclosure__publication__author_unit"),
                                pk=project_id)
    item = _managed(request, project.disclosure.publication)
    p = request.POST
    try:
        services.add_milestone(actor=request.user, project=project, name=p.get("name"),
                               planned_on=p.get("planned_on"), done_on=p.get("done_on"), note=p.get("note", ""),
                               client_key=p.get("client_key", ""))
    except DomainError as err:
        return _refused(request, item, err, "_milestone_form.html", _("添加项目节点"), project=project)
    return _done(request, item.pk, _("已添加项目节点。"), "affairs-projects")


def milestone_done(request, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(
        Milestone.objects.select_related("project__disclosure__publication__author_unit"), pk=milestone_id)
    item = _managed(request, milestone.project.disclosure.publication)
    try:
        services.set_milestone_done(actor=request.user, milestone=milestone, done_on=request.POST.get("done_on"))
    except DomainError as err:
        return _refused(request, item, err, "_milestone_done_form.html", _("项目节点完成"), milestone=milestone)
    return _done(request, item.pk, _("已记录节点完成。"), "affairs-projects")


# 村民说事 -----------------------------------------------------------------------------------------------------

def say_save(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "meeting")
    p = request.POST
    try:
        services.save_say(actor=request.user, publication=item, matter=p.get("matter"),
                          raised_by_name=p.get("raised_by_name", ""), raised_on=p.get("raised_on"),
                          case_id=p.get("case_id") or None)
    except DomainError as err:
        return _refused(request, item, err, "_say_form.html", _("说：说事内容"))
    return _done(request, pk, _("已保存说事内容。"), "affairs-say")


def discuss_save(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "meeting")
    p = request.POST
    try:
        services.save_discussion(actor=request.user, publication=item, discussed_on=p.get("discussed_on"),
                                 participants=p.get("participants"), discussion=p.get("discussion", ""),
                                 decision=p.get("decision"))
    except DomainError as err:
        return _refused(request, item, err, "_discuss_form.html", _("议：议事结果"))
    return _done(request, pk, _("已保存议事记录。"), "affairs-discuss")


def action_add(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "meeting")
    p = request.POST
    try:
        services.add_action(actor=request.user, publication=item, title=p.get("title"), assignee=p.get("assignee"),
                            due_on=p.get("due_on"), client_key=p.get("client_key", ""))
    except DomainError as err:
        return _refused(request, item, err, "_action_form.html", _("办：办理事项"))
    return _done(request, pk, _("已添加办理事项。"), "affairs-do")


def _action(request, action_id: int) -> tuple[MeetingAction, Publication]:
    action = get_object_or_404(MeetingAction.objects.select_related("meeting__publication__author_unit"),
                               pk=action_id)
    return action, _managed(request, action.meeting.publication)


def action_done(request, action_id: int) -> HttpResponse:
    action, item = _action(request, action_id)
    try:
        services.finish_action(actor=request.user, action=action, done_on=request.POST.get("done_on"))
    except DomainError as err:
        return _refused(request, item, err, "_action_done_form.html", _("办理事项完成"), action=action)
    return _done(request, item.pk, _("已记录办理完成。"), "affairs-do")


def action_delete(request, action_id: int) -> HttpResponse:
    action, item = _action(request, action_id)
    try:
        services.delete_action(actor=request.user, action=action)
    except DomainError as err:
        return _refused(request, item, err, "_nothing.html", _("删除办理事项"))
    return _done(request, item.pk, _("已删除办理事项。"), "affairs-do")


def note_add(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "meeting")
    try:
        services.add_supervision_note(actor=request.user, publication=item, body=request.POST.get("body"),
                                      client_key=request.POST.get("client_key", ""))
    except DomainError as err:
        return _refused(request, item, err, "_note_form.html", _("督：督办情况"))
    return _done(request, pk, _("已记录督办情况。"), "affairs-supervise")


def stage_publish(request, pk: int) -> HttpResponse:
    item = _item(request, pk, "meeting")
    try:
        meeting = services.publish_stage(actor=request.user, publication=item, stage=request.POST.get("stage"))
    except DomainError as err:
        return _refused(request, item, err, "_nothing.html", _("公开环节"))
    label = services.stage_label(meeting.published_stage)
    return _done(request, pk, _("已公开“%(stage)s”环节。") % {"stage": label}, "affairs-stages")


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """三务公开 and 村民说事 staff forms under publications/, behind `guard` (the portal's access decorator)."""
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/<int:pk>/disclosure/period/", disclosure_save, "affairs_disclosure"),
        ("publications/<int:pk>/disclosure/lines/", line_add, "affairs_line_add"),
        ("publications/<int:pk>/disclosure/lines/import/", lines_import, "affairs_import"),
        ("publications/disclosure-lines/<int:line_id>/delete/", line_delete, "affairs_line_delete"),
        ("publications/<int:pk>/disclosure/projects/", project_add, "affairs_project_add"),
        ("publications/disclosure-projects/<int:project_id>/delete/", project_delete, "affairs_project_delete"),
        ("publications/disclosure-projects/<int:project_id>/milestones/", milestone_add, "affairs_milestone_add"),
        ("publications/disclosure-milestones/<int:milestone_id>/done/", milestone_done, "affairs_milestone_done"),
        ("publications/<int:pk>/meeting/say/", say_save, "affairs_say"),
        ("publications/<int:pk>/meeting/discuss/", discuss_save, "affairs_discuss"),
        ("publications/<int:pk>/meeting/actions/", action_add, "affairs_action_add"),
        ("publications/meeting-actions/<int:action_id>/done/", action_done, "affairs_action_done"),
        ("publications/meeting-actions/<int:action_id>/delete/", action_delete, "affairs_action_delete"),
        ("publications/<int:pk>/meeting/notes/", note_add, "affairs_note_add"),
        ("publications/<int:pk>/meeting/stage/", stage_publish, "affairs_stage"),
    ]
    return [path("publications/disclosure-template.xlsx", guard(lines_template), name="affairs_template")] + [
        path(route, require_POST(guard(view)), name=name) for route, view, name in posts]
