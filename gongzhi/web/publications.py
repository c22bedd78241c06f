"""公开: the staff pages of the publishing core, shared by the worker portal (a village administrator's phone) and
the command portal (a township's desk). `urlpatterns_for(guard)` gives a portal these URLs under publications/
(names `publication…`) behind its own guard; each page is the shared template under `web/publications/`, in the
portal's chrome.

The list shows what the user manages (`publications.selectors.core.managed`), by group and status; the review
queue what waits for them. An item's page shows its fields, attachments, its kind's own part
(`web/publications/kinds/<slug>.html` with `publications.kinds.context_for("staff", …)`), residents' comments to
moderate and answer, and its history, with the buttons its policies allow. Every write is one call of
`publications.services.core`. Outside the user's scope: 404; a step they may see but not take: 403; bad input: the
form again with the message at its field and nothing changed (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import select_template
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError, Forbidden, NotFound
from gongzhi.notifications import services as notification_services
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Publication, Status
from gongzhi.publications.selectors import core as selectors
from gongzhi.publications.services import core as services
from gongzhi.web import (
    publications_affairs,
    publications_alerts,
    publications_boards,
    publications_library,
)
from gongzhi.web import publications_forms as pf
from gongzhi.web.forms import add_domain_error
from gongzhi.web.paging import Window
from gongzhi.web.portals import portal_of

LIST_PAGE = 20


def _check(request) -> None:
    """The publishing pages are for those who write, review or manage some kind; nobody else finds them."""
    if not policies.may_manage_publications(request.user):
        raise NotFound()


def url(request, name: str, *args: Any, **query: Any) -> str:
    address = reverse(f"{portal_of(request).name}:publication{name}", args=args)
    params = {k: v for k, v in query.items() if v}
    return f"{address}?{urlencode(params)}" if params else address


def page(request, name: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, portal_of(request).templates(f"publications/{name}"), context, status=status)


# ---------------------------------------------------------------------------------------------------------
# The list and the review queue


def publication_list(request) -> HttpResponse:
    _check(request)
    user = request.user
    group = request.GET.get("group") or ""
    group_kinds = [spec.slug for spec in kinds.of_group(group)] if group in kinds.GROUPS else None
    if group_kinds is None:
        group = ""
    status = request.GET.get("status") if request.GET.get("status") in Status.values else ""
    q = (request.GET.get("q") or "").strip()[:selectors.SEARCH_MAX]
    items = Window(selectors.managed(user, kind=group_kinds, status=status, search=q), request.GET.get("page"),
                   LIST_PAGE)
    counts = selectors.status_counts(user, kind=group_kinds)
    keep = {"group": group, "q": q}
    status_links = [{"value": "", "label": _("全部"), "count": sum(counts.values()),
                     "url": url(request, "s", **keep)}] + [
        {"value": value, "label": label, "count": counts.get(value, 0), "url": url(request, "s", status=value, **keep)}
        for value, label in Status.choices]
    managed_groups = {spec.group for spec in kinds.KINDS.values()
                      if policies.author_paths(user, spec.slug) or policies.review_paths(user, spec.slug)}
    group_links = [{"value": "", "label": _("全部"), "url": url(request, "s", status=status, q=q)}] + [
        {"value": g, "label": label, "url": url(request, "s", group=g, status=status, q=q)}
        for g, (label, _intro) in kinds.GROUPS.items() if g in managed_groups]
    return page(request, "list.html", {
        "page": items, "status": status, "group": group, "q": q, "status_links": status_links,
        "group_links": group_links, "new_kinds": policies.authorable_kinds(user),
        "pending_comments": selectors.pending_comment_counts(user),
        "review_count": selectors.review_count(user)})


def review_queue(request) -> HttpResponse:
    _check(request)
    items = Window(selectors.review_queue(request.user), request.GET.get("page"), LIST_PAGE)
    return page(request, "review.html", {"page": items})


# ---------------------------------------------------------------------------------------------------------
# Writing: a new draft, editing it, attachments


def _kind_or_404(slug: str | None) -> kinds.KindSpec:
    spec = kinds.get(slug or "")
    if spec is None:
        raise NotFound()
    return spec


def _form(request, spec: kinds.KindSpec, *, data: Any = None, files: Any = None, initial: dict | None = None,
          publication: Publication | None = None) -> pf.PublicationForm:
    if publication is not None:
        author = [publication.author_unit]
    else:
        author = selectors.author_units(request.user, spec.slug)
        if not author:
            raise Forbidden(_("您不能发布%(kind)s。") % {"kind": spec.label})
    audience = list({u.pk: u for unit in author for u in selectors.audience_units(unit)}.values())
    initial = {"author_unit": author[0].pk, "audience_unit": author[0].pk, **(initial or {})}
    return pf.PublicationForm(data, files, initial=initial, author_units=author, audience_units=audience,
                              editing=publication is not None)


def publication_new(request) -> HttpResponse:
    _check(request)
    spec = _kind_or_404(request.GET.get("kind") or request.POST.get("kind"))
    if request.method != "POST":
        form = _form(request, spec, initial={"comments": spec.comments})
        return page(request, "form.html", {"form": form, "spec": spec})
    form = _form(request, spec, data=request.POST, files=request.FILES)
    if form.is_valid():
        try:
            item = services.create_draft(actor=request.user, kind=spec.slug, author_unit=form.unit("author_unit"),
                                         client_key=form.cleaned_data["client_key"], **form.service_fields())
            if form.cleaned_data["attachments"] and not item.attachments.exists():
                services.add_attachments(actor=request.user, publication=item, files=form.cleaned_data["attachments"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("草稿已保存。检查无误后请提交审核或发布。"))
            return redirect(url(request, "", item.pk))
    return page(request, "form.html", {"form": form, "spec": spec}, status=422)


def publication_edit(request, pk: int) -> HttpResponse:
    _check(request)
    item = selectors.managed_one(request.user, pk)
    if not policies.can_edit(request.user, item):
        raise Forbidden(_("只有草稿可以修改。"))
    spec = kinds.KINDS[item.kind]
    if request.method != "POST":
        form = _form(request, spec, initial=pf.PublicationForm.initial_for(item), publication=item)
        return page(request, "form.html", {"form": form, "spec": spec, "publication": item})
    form = _form(request, spec, data=request.POST, publication=item)
    if form.is_valid():
        try:
            services.update_draft(actor=request.user, publication=item, **form.service_fields())
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("已保存。"))
            return redirect(url(request, "", item.pk))
    return page(request, "form.html", {"form": form, "spec": spec, "publication": item}, status=422)


def attachments_add(request, pk: int) -> HttpResponse:
    _check(request)
    item = selectors.managed_one(request.user, pk)
    form = pf.AttachmentsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_attachments(actor=request.user, publication=item, files=form.cleaned_data["attachments"])
        except (NotFound, Forbidden):
            raise
        except DomainError as err:
            add_domain_error(form, err)
        else:
            messages.success(request, _("附件已添加。"))
            return redirect(url(request, "", item.pk))
    return _detail(request, item, bound={"attachments": form}, status=422)


def attachment_remove(request, attachment_id: int) -> HttpResponse:
    _check(request)
    attachment = selectors.managed_attachment(request.user, attachment_id)
    item = attachment.publication
    services.remove_attachment(actor=request.user, attachment=attachment)
    messages.success(request, _("附件已删除。"))
    return redirect(url(request, "", item.pk))


# ---------------------------------------------------------------------------------------------------------
# An item's page and its steps

STEP_MESSAGES = {
    "submit": _("已提交审核。"),
    "publish": _("已发布，群众现在可以看到。"),
    "approve": _("已审核通过并发布。"),
    "return": _("已退回修改。"),
    "withdraw": _("已撤回，群众不再看到。"),
}


def _detail(request, item: Publication, *, bound: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    bound = bound or {}
    spec = kinds.KINDS[item.kind]
    comments = list(selectors.comments_for_staff(item))
    may_edit = policies.can_edit(user, item)
    kind_template = select_template([f"web/publications/kinds/{item.kind}.html", "web/publications/kinds/_none.html"])
    return page(request, "detail.html", {
        "publication": item, "spec": spec, "events": selectors.history(item), "comments": comments,
        "kind": kinds.context_for("staff", user, item), "kind_template": kind_template.template.name,
        "may_edit": may_edit, "may_review": policies.can_review(user, item),
        "may_publish": policies.can_publish_directly(user, item), "may_withdraw": policies.can_withdraw(user, item),
        "may_submit": may_edit and not policies.can_publish_directly(user, item),
        "is_live": item.is_live(),
        "attachments_form": bound.get("attachments") or (pf.AttachmentsForm() if may_edit else None),
        "return_form": bound.get("return") or pf.ReasonForm(),
        "approve_form": bound.get("approve") or pf.NoteForm(),
        "withdraw_form": bound.get("withdraw") or pf.ReasonForm(),
        "open_form": next(iter(bound), ""), "bound_comment": bound.get("comment"),
    }, status=status)


def publication_detail(request, pk: int) -> HttpResponse:
    _check(request)
    item = selectors.managed_one(request.user, pk)
    notification_services.mark_target_read(user=request.user, target_type="publication", target_id=item.pk)
    return _detail(request, item)


def publication_step(request, pk: int, step: str) -> HttpResponse:
    """POST 提交审核 / 发布 / 审核通过 / 退回修改 / 撤回. A step already taken (a form sent twice) is refused with
    the item's current state, changing nothing."""
    _check(request)
    if step not in STEP_MESSAGES:
        raise Http404
    item = selectors.managed_one(request.user, pk)
    user = request.user
    form: Any = None
    if step in ("return", "withdraw"):
        form = pf.ReasonForm(request.POST)
    elif step == "approve":
        form = pf.NoteForm(request.POST)
    if form is not None and not form.is_valid():
        return _detail(request, item, bound={step: form}, status=422)
    try:
        if step == "submit":
            services.submit(actor=user, publication=item)
        elif step == "publish":
            services.publish_now(actor=user, publication=item)
        elif step == "approve":
            services.approve(actor=user, publication=item, note=form.cleaned_data["note"])
        elif step == "return":
            services.return_for_changes(actor=user, publication=item, reason=form.cleaned_data["reason"])
        else:
            services.withdraw(actor=user, publication=item, reason=form.cleaned_data["reason"])
    except NotFound:
        raise
    except DomainError as err:
        if form is None:
            raise
        add_domain_error(form, err)
        return _detail(request, item, bound={step: form}, status=422)
    messages.success(request, str(STEP_MESSAGES[step]))
    return redirect(url(request, "", item.pk))


# ---------------------------------------------------------------------------------------------------------
# Residents' comments: show, hide, answer


def _comment_refused(request, item: Publication, comment, step: str, form: Any) -> HttpResponse:
    return _detail(request, item, bound={"comment": {"id": comment.pk, "step": step, "form": form}}, status=422)


def comment_step(request, comment_id: int, step: str) -> HttpResponse:
    _check(request)
    comment = selectors.managed_comment(request.user, comment_id)
    item = comment.publication
    form: Any
    try:
        if step == "show":
            services.moderate_comment(actor=request.user, comment=comment, show=True)
            messages.success(request, _("留言已显示。"))
        elif step == "hide":
            form = pf.HideForm(request.POST)
            if not form.is_valid():
                return _comment_refused(request, item, comment, "hide", form)
            services.moderate_comment(actor=request.user, comment=comment, show=False,
                                      reason=form.cleaned_data["reason"])
            messages.success(request, _("留言已隐藏。"))
        elif step == "answer":
            form = pf.AnswerForm(request.POST)
            if not form.is_valid():
                return _comment_refused(request, item, comment, "answer", form)
            services.answer_comment(actor=request.user, comment=comment, answer=form.cleaned_data["answer"])
            messages.success(request, _("已答复，留言已显示。"))
        else:
            raise Http404
    except (NotFound, Forbidden):
        raise
    return redirect(url(request, "", item.pk) + f"#comment-{comment.pk}")


def urlpatterns_for(guard: Callable[..., Any]) -> list[URLPattern]:
    """公开 of a portal under publications/, behind `guard` (its access decorator)."""
    pages: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/", publication_list, "publications"),
        ("publications/review/", review_queue, "publication_review"),
        ("publications/new/", publication_new, "publication_new"),
        ("publications/<int:pk>/", publication_detail, "publication"),
        ("publications/<int:pk>/edit/", publication_edit, "publication_edit"),
    ]
    posts: list[tuple[str, Callable[..., HttpResponse], str]] = [
        ("publications/<int:pk>/attachments/", attachments_add, "publication_attachments"),
        ("publications/attachments/<int:attachment_id>/delete/", attachment_remove, "publication_attachment_delete"),
        ("publications/<int:pk>/<str:step>/", publication_step, "publication_step"),
        ("publications/comments/<int:comment_id>/<str:step>/", comment_step, "publication_comment"),
    ]
    # The kinds' own pages first: `publications/<pk>/guide/` is theirs, not a step of the item.
    kinds_pages = [*publications_alerts.urlpatterns_for(guard), *publications_boards.urlpatterns_for(guard),
                   *publications_affairs.urlpatterns_for(guard), *publications_library.urlpatterns_for(guard)]
    return kinds_pages + [path(route, guard(view), name=name) for route, view, name in pages] + [
        path(route, require_POST(guard(view)), name=name) for route, view, name in posts]

