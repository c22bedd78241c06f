"""The resident's messages (消息) with their area's notices.

`inbox` replaces the shared messages page for residents (resident.views.inbox_or_own_portal calls it): personal
notifications and area notices in one list, newest first (publications.selectors.inbox); the red banner of live
urgent alerts is the portal's (resident/base.html). A notice opens on its own page (resident:publication, which
marks it read); "mark all read" reads both kinds.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import ngettext

from gongzhi.accounts.models import User
from gongzhi.notifications import services as notification_services
from gongzhi.publications.selectors import inbox as inbox_selectors
from gongzhi.publications.services import inbox as inbox_services

PER_PAGE = 20


def inbox(request: HttpRequest) -> HttpResponse:
    """Messages and area notices, newest first, 20 a page; a POST marks them all read (the page's own button,
    so the resident portal needs no URL of its own for it). A notice opens on its own page, which reads it."""
    if request.method == "POST":
        return read_all(request)
    entries = inbox_selectors.merged_inbox(request.user)
    paginator: Paginator[inbox_selectors.Entry] = Paginator(entries, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "resident/publications/inbox.html", {"page": page})


def read_all(request: HttpRequest) -> HttpResponse:
    count = notification_services.mark_all_read(user=request.user)
    count += inbox_services.mark_notices_read(user=cast(User, request.user))
    if count:
        text = ngettext("已将%(n)d条消息标为已读。", "已将%(n)d条消息标为已读。", count)
        messages.success(request, text % {"n": count})
    return redirect(reverse("resident:messages"))
