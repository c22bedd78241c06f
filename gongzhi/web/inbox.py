"""Messages (消息), the same in every portal: the list, opening one, marking all read.

`urlpatterns_for(guard)` gives a portal the three URLs behind its own guard; the page finds the portal it
is shown in from the request.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from gongzhi.notifications import selectors as notification_selectors
from gongzhi.notifications import services as notification_services
from gongzhi.web import targets
from gongzhi.web.portals import portal_of

NOTIFICATIONS_PER_PAGE = 20


def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in user's messages, newest first, 20 a page."""
    page = Paginator(notification_selectors.inbox_for(request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    return render(request, "web/inbox.html", {"page": page})


def _inbox_url(request: HttpRequest, page: str | None = None) -> str:
    url = reverse(f"{portal_of(request).name}:messages")
    return f"{url}?page={page}" if page and page.isascii() and page.isdigit() and page != "1" else url


@require_POST
def open_message(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of the user's messages read, then follow its link, or go back to the inbox without one.

    Someone else's message answers 404. The message names an object, never a URL; it opens that object's
    page in this portal (`targets.url_for`), so it cannot send anyone off-site.
    """
    notification = get_object_or_404(notification_selectors.inbox_for(request.user), pk=notification_id)
    notification_services.mark_read(user=request.user, notification_ids=[notification.pk])
    target = targets.url_for(notification, portal=portal_of(request).name)
    return redirect(target or _inbox_url(request, request.POST.get("page")))


@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = notification_services.mark_all_read(user=request.user)
    if count:
        text = ngettext("已将%(n)d条消息标为已读。", "已将%(n)d条消息标为已读。", count)
        messages.success(request, text % {"n": count})
    return redirect(_inbox_url(request))


def urlpatterns_for(guard: Callable, *, list_view: Callable = inbox) -> list[URLPattern]:
    """The inbox URLs of a portal, each behind `guard` (its access decorator)."""
    return [
        path("messages/", guard(list_view), name="messages"),
        path("messages/read-all/", guard(read_all), name="messages_read_all"),
        path("messages/<int:notification_id>/open/", guard(open_message), name="message_open"),
    ]
