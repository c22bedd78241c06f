"""The resident's messages (消息) with their area's notices, and the urgent-alert banner's links.

`inbox` replaces the shared messages page for residents (resident.views.inbox_or_own_portal calls it): personal
notifications and area notices in one list, newest first (publications.selectors.inbox). Opening a notice marks
it read and shows it on its own page; "mark all read" reads both kinds.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gongzhi.accounts.models import User
from gongzhi.notifications import services as notification_services
from gongzhi.publications import kinds
from gongzhi.publications.selectors import alerts as alert_selectors
from gongzhi.publications.selectors import core as publication_selectors
from gongzhi.publications.selectors import inbox as inbox_selectors
from gongzhi.publications.services import core as publication_services
from gongzhi.publications.services import inbox as inbox_services
from gongzhi.web.access import login_required

PER_PAGE = 20


def inbox(request: HttpRequest) -> HttpResponse:
    """Messages and area notices, newest first, 20 a page."""
    entries = inbox_selectors.merged_inbox(request.user)
    paginator: Paginator[inbox_selectors.Entry] = Paginator(entries, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "resident/publications/inbox.html",
                  {"page": page, "alerts": alert_selectors.live_alerts(request.user)})


def _inbox_url(page: str | None = None) -> str:
    url = reverse("resident:messages")
    return f"{url}?page={page}" if page and page.isascii() and page.isdigit() and page != "1" else url


def notice_url(publication_id: int) -> str:
    """The notice's page in the resident portal (the messages page until the publications pages exist)."""
    try:
        return reverse("resident:publication", args=[publication_id])
    except NoReverseMatch:
        return reverse("resident:messages")


@require_POST
def open_notice(request: HttpRequest, publication_id: int) -> HttpResponse:
    """Mark an area notice read and show it. One the resident may not read (another area, withdrawn) is 404."""
    publication = publication_selectors.readable_one(request.user, publication_id, kind=kinds.inbox_kinds())
    publication_services.mark_read(user=cast(User, request.user), publication=publication)
    return redirect(notice_url(publication.pk))


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = notification_services.mark_all_read(user=request.user)
    count += inbox_services.mark_notices_read(user=cast(User, request.user))
    if count:
        text = ngettext("已将%(n)d条消息标为已读。", "已将%(n)d条消息标为已读。", count)
        messages.success(request, text % {"n": count})
    return redirect(_inbox_url())


# For gongzhi/resident/urls.py: `*notices_views.urlpatterns`.
urlpatterns = [
    path("messages/notices/<int:publication_id>/open/", login_required(open_notice), name="notice_open"),
    path("messages/read-all-notices/", login_required(read_all), name="inbox_read_all"),
]
