"""红黑榜 and 建言献策 for residents: an appeal (申诉) against an entry of a board shown to them, and their
suggestions (我的建议, 提建议, one suggestion with the village's reply, 支持 a published one).

The boards and published suggestions themselves are read on the shared pages (/public/<pk>/, /public/boards/,
/public/suggestions/), whose kind partials link here. `urlpatterns` is added to the resident portal's.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from gongzhi.core.errors import DomainError
from gongzhi.notifications import services as notification_services
from gongzhi.publications import boards_policies
from gongzhi.publications.selectors import boards as selectors
from gongzhi.publications.services import boards as services
from gongzhi.web.access import login_required
from gongzhi.web.forms import Form, add_domain_error
from gongzhi.web.paging import Window

PER_PAGE = 20


def _public_url(pk: int) -> str:
    return reverse("resident:publication", args=[pk])


class _KeyedForm(Form):
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4().hex)


class AppealForm(Form):
    reason = forms.CharField(label=gettext_lazy("申诉理由"), max_length=services.APPEAL_MAX,
                             error_messages={"required": gettext_lazy("请填写申诉理由。"),
                                             "max_length": gettext_lazy("内容不能超过%(limit_value)d个字。")},
                             widget=forms.Textarea(attrs={"rows": 4}))


class SuggestionForm(_KeyedForm):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=services.SUGGESTION_TITLE_MAX,
                            error_messages={"required": gettext_lazy("请填写标题。"),
                                            "max_length": gettext_lazy("内容不能超过%(limit_value)d个字。")})
    body = forms.CharField(label=gettext_lazy("建议内容"), max_length=services.SUGGESTION_BODY_MAX,
                           error_messages={"required": gettext_lazy("请填写建议内容。"),
                                           "max_length": gettext_lazy("内容不能超过%(limit_value)d个字。")},
                           widget=forms.Textarea(attrs={"rows": 6}))
    may_publish = forms.BooleanField(label=gettext_lazy("可公开（村里可以把这条建议公开给本村村民，并接受大家支持）"),
                                     required=False)


# 申诉 ---------------------------------------------------------------------------------------------------------

@login_required
def board_appeal(request, entry_id: int) -> HttpResponse:
    entry = selectors.readable_entry(request.user, entry_id)
    board = selectors.reader_board(request.user, entry.publication)
    shown = next((s for s in board.red + board.black if s.entry.pk == entry.pk), None)
    status = 200
    if request.method == "POST":
        form = AppealForm(request.POST)
        if form.is_valid():
            try:
                services.file_appeal(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("申诉已提交，村里核实后会通知您处理结果。"))
                return redirect(_public_url(entry.publication_id))
        status = 422
    else:
        form = AppealForm()
    return render(request, "resident/publications/board_appeal.html", {
        "entry": entry, "shown": shown, "form": form, "publication": entry.publication,
        "may_appeal": boards_policies.can_appeal(request.user, entry.publication)}, status=status)


# 建言献策 -----------------------------------------------------------------------------------------------------

@login_required
def suggestions_mine(request) -> HttpResponse:
    page = Window(selectors.my_suggestions(request.user), request.GET.get("page"), PER_PAGE)
    return render(request, "resident/publications/suggestions_mine.html", {
        "page": page, "may_suggest": boards_policies.home_village(request.user) is not None})


@login_required
def suggestion_new(request) -> HttpResponse:
    village = boards_policies.home_village(request.user)
    status = 200
    if request.method == "POST" and village is not None:
        form = SuggestionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                publication = services.submit_suggestion(
                    actor=request.user, title=data["title"], body=data["body"], may_publish=data["may_publish"],
                    client_key=data["client_key"])
            except DomainError as err:
                add_domain_error(form, err)
            else:
                messages.success(request, _("建议已提交，村里答复后会通知您。"))
                return redirect("resident:suggestion_mine", pk=publication.pk)
        status = 422
    else:
        form = SuggestionForm()
    return render(request, "resident/publications/suggestion_new.html", {"form": form, "village": village},
                  status=status)


@login_required
def suggestion_mine(request, pk: int) -> HttpResponse:
    publication = selectors.my_suggestion(request.user, pk)
    notification_services.mark_target_read(user=request.user, target_type="suggestion", target_id=publication.pk)
    return render(request, "resident/publications/suggestion_mine.html", {
        "publication": publication, "suggestion": selectors.suggestion_of(publication),
        "is_live": selectors.is_live(publication), "public_url": _public_url(publication.pk)})


@require_POST
@login_required
def suggestion_support(request, pk: int) -> HttpResponse:
    publication = selectors.readable_suggestion(request.user, pk)
    counted = services.support(actor=request.user, publication=publication)
    messages.success(request, _("感谢您的支持！") if counted else _("您已经支持过这条建议。"))
    return redirect(_public_url(pk))


urlpatterns = [
    path("boards/entries/<int:entry_id>/appeal/", board_appeal, name="board_appeal"),
    path("suggestions/", suggestions_mine, name="suggestions_mine"),
    path("suggestions/new/", suggestion_new, name="suggestion_new"),
    path("suggestions/<int:pk>/", suggestion_mine, name="suggestion_mine"),
    path("suggestions/<int:pk>/support/", suggestion_support, name="suggestion_support"),
]
