"""红黑榜 and 建言献策 for staff (worker and command portals): the writes behind the kinds' part of the shared
item page (web/publications/kinds/board.html, suggestion.html), the criteria (创评标准) page, and a page of each
kind's own (`board_manage`, `suggestion_manage`) showing the same partial, where a refused form comes back with
its message (422) and nothing changed.

`urlpatterns_for(guard)` gives a portal these URLs under publications/boards/ and publications/suggestions/.
Thin views: reads from `publications.selectors.boards`, each write one call of `publications.services.boards`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.publications import kinds
from gongzhi.publications.models import BoardCriterion, BoardEntry, BoardList
from gongzhi.publications.selectors import boards as selectors
from gongzhi.publications.services import boards as services
from gongzhi.registry.models import Household
from gongzhi.web.portals import portal_of


def _item_url(request, pk: int, kind: str) -> str:
    """The shared staff item page when the portal has it, else this module's own page of the kind."""
    portal = portal_of(request).name
    try:
        return reverse(f"{portal}:publication", args=[pk])
    except NoReverseMatch:
        return reverse(f"{portal}:{kind}_manage", args=[pk])


def _refused(request, publication, error: DomainError) -> HttpResponse:
    if isinstance(error, NotFound | Forbidden):
        raise error
    return _kind_page(request, publication, error=str(error.message), status=422)


def _kind_page(request, publication, *, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "web/publications/boards_page.html", {
        "publication": publication, "kind": kinds.context_for("staff", request.user, publication),
        "error": error, "item_url": _item_url(request, publication.pk, publication.kind)}, status=status)


def _date(value: str | None, field: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise DomainError(_("日期格式无效。"), code="board_invalid", field=field) from None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# 红黑榜 -------------------------------------------------------------------------------------------------------

def board_manage(request, pk: int) -> HttpResponse:
    return _kind_page(request, selectors.managed_board(request.user, pk))


def board_settings(request, pk: int) -> HttpResponse:
    publication = selectors.managed_board(request.user, pk)
    try:
        services.update_board(actor=request.user, publication=publication,
                              black_display=request.POST.get("black_display", ""),
                              period_start=_date(request.POST.get("period_start"), "period_start"),
                              period_end=_date(request.POST.get("period_end"), "period_end"))
    except DomainError as err:
        return _refused(request, publication, err)
    messages.success(request, _("红黑榜设置已保存。"))
    return redirect(_item_url(request, pk, "board"))


def board_entry_add(request, pk: int) -> HttpResponse:
    publication = selectors.managed_board(request.user, pk)
    try:
        criterion_id = _int(request.POST.get("criterion"))
        criterion = BoardCriterion.objects.filter(pk=criterion_id).first() if criterion_id else None
        if criterion is None:
            raise DomainError(_("请选择标准。"), code="board_invalid", field="criterion")
        household_id = _int(request.POST.get("household"))
        household = Household.objects.filter(pk=household_id).first() if household_id else None
        source = request.POST.get("source") or BoardEntry.Source.STAFF
        services.add_entry(actor=request.user, publication=publication, criterion=criterion,
                           name=request.POST.get("name", ""), reason=request.POST.get("reason", ""),
                           household=household, household_number=request.POST.get("household_number", ""),
                           source=source, source_ref=request.POST.get("source_ref", ""),
                           client_key=request.POST.get("client_key", ""))
    except DomainError as err:
        return _refused(request, publication, err)
    messages.success(request, _("已添加到%(list)s。") % {"list": BoardList(criterion.list).label})
    return redirect(_item_url(request, pk, "board"))


def board_entry_remove(request, entry_id: int) -> HttpResponse:
    entry = selectors.managed_entry(request.user, entry_id)
    try:
        services.remove_entry(actor=request.user, entry=entry)
    except DomainError as err:
        return _refused(request, entry.publication, err)
    messages.success(request, _("已删除该条目。"))
    return redirect(_item_url(request, entry.publication_id, "board"))


def board_appeal_decide(request, appeal_id: int) -> HttpResponse:
    appeal = selectors.managed_appeal(request.user, appeal_id)
    outcome = request.POST.get("outcome")
    try:
        if outcome not in ("upheld", "rejected"):
            raise DomainError(_("请选择申诉是否成立。"), code="appeal_invalid", field="outcome")
        services.decide_appeal(actor=request.user, appeal=appeal, upheld=outcome == "upheld",
                               decision=request.POST.get("decision", ""))
    except DomainError as err:
        return _refused(request, appeal.publication, err)
    messages.success(request, _("申诉已处理，已通知申诉人。"))
    return redirect(_item_url(request, appeal.publication_id, "board"))


def board_criteria(request) -> HttpResponse:
    """创评标准 of a village or township (`?unit=`, default the first the user may set)."""
    units = selectors.criteria_units(request.user)
    if not units:
        raise NotFound()
    wanted = _int(request.GET.get("unit") or request.POST.get("unit"))
    unit = next((u for u in units if u.pk == wanted), None) if wanted else units[0]
    if unit is None:
        raise NotFound()
    error, status = "", 200
    if request.method == "POST":
        try:
            services.add_criterion(actor=request.user, unit=unit, board_list=request.POST.get("list", ""),
                                   name=request.POST.get("name", ""),
                                   description=request.POST.get("description", ""))
        except DomainError as err:
            if isinstance(err, NotFound | Forbidden):
                raise
            error, status = str(err.message), 422
        else:
            messages.success(request, _("标准已添加。"))
            return redirect(f"{reverse(portal_of(request).name + ':board_criteria')}?unit={unit.pk}")
    return render(request, "web/publications/board_criteria.html", {
        "units": units, "unit": unit, "criteria": selectors.criteria_of(unit), "error": error,
        "lists": BoardList.choices, "posted": request.POST if status == 422 else {}}, status=status)


def board_criteria_preset(request) -> HttpResponse:
    units = selectors.criteria_units(request.user)
    unit = next((u for u in units if u.pk == _int(request.POST.get("unit"))), None)
    if unit is None:
        raise NotFound()
    added = services.install_preset_criteria(actor=request.user, unit=unit)
    messages.success(request, _("已添加预设标准%(n)d项。") % {"n": added})
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(f"{reverse(portal_of(request).name + ':board_criteria')}?unit={unit.pk}")


def board_criterion_toggle(request, criterion_id: int) -> HttpResponse:
    criterion = selectors.managed_criterion(request.user, criterion_id)
    services.set_criterion_active(actor=request.user, criterion=criterion, active=not criterion.is_active)
    messages.success(request, _("已启用该标准。") if criterion.is_active else _("已停用该标准。"))
    return redirect(f"{reverse(portal_of(request).name + ':board_criteria')}?unit={criterion.unit_id}")


# 建言献策 -----------------------------------------------------------------------------------------------------

def suggestion_manage(request, pk: int) -> HttpResponse:
    return _kind_page(request, selectors.managed_suggestion(request.user, pk))


def suggestion_reply(request, pk: int) -> HttpResponse:
    publication = selectors.managed_suggestion(request.user, pk)
    try:
        with transaction.atomic():  # a reply and the choice that goes with it, or nothing
            services.reply_suggestion(actor=request.user, publication=publication,
                                      reply=request.POST.get("reply", ""))
            if request.POST.get("then") == "publish":
                services.publish_suggestion(actor=request.user, publication=publication)
            elif request.POST.get("then") == "private":
                services.keep_private(actor=request.user, publication=publication)
    except DomainError as err:
        return _refused(request, publication, err)
    messages.success(request, _("答复已保存，已通知建议人。"))
    return redirect(_item_url(request, pk, "suggestion"))


def suggestion_publish(request, pk: int) -> HttpResponse:
    publication = selectors.managed_suggestion(request.user, pk)
    try:
        services.publish_suggestion(actor=request.user, publication=publication)
    except DomainError as err:
        return _refused(request, publication, err)
    messages.success(request, _("建议已公开。"))
    return redirect(_item_url(request, pk, "suggestion"))


def suggestion_private(request, pk: int) -> HttpResponse:
    publication = selectors.managed_suggestion(request.user, pk)
    try:
        services.keep_private(actor=request.user, publication=publication, note=request.POST.get("note", ""))
    except DomainError as err:
        return _refused(request, publication, err)
    messages.success(request, _("该建议不公开，仅村干部和建议人可见。"))
    return redirect(_item_url(request, pk, "suggestion"))


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    routes: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/boards/<int:pk>/", board_manage, "board_manage"),
        ("publications/boards/criteria/", board_criteria, "board_criteria"),
        ("publications/suggestions/<int:pk>/", suggestion_manage, "suggestion_manage"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/boards/<int:pk>/settings/", board_settings, "board_settings"),
        ("publications/boards/<int:pk>/entries/", board_entry_add, "board_entry_add"),
        ("publications/boards/entries/<int:entry_id>/remove/", board_entry_remove, "board_entry_remove"),
        ("publications/boards/appeals/<int:appeal_id>/decide/", board_appeal_decide, "board_appeal_decide"),
        ("publications/boards/criteria/preset/", board_criteria_preset, "board_criteria_preset"),
        ("publications/boards/criteria/<int:criterion_id>/toggle/", board_criterion_toggle,
         "board_criterion_toggle"),
        ("publications/suggestions/<int:pk>/reply/", suggestion_reply, "suggestion_reply"),
        ("publications/suggestions/<int:pk>/publish/", suggestion_publish, "suggestion_publish"),
        ("publications/suggestions/<int:pk>/private/", suggestion_private, "suggestion_private"),
    ]
    return [path(route, guard(view), name=name) for route, view, name in routes] + [
        path(route, require_POST(guard(view)), name=name) for route, view, name in posts]
