"""Template context shared by the three portals (resident, worker, command).

It lives here with `access.py`, the other interface code the portals share; domain apps never hold
interface code.
"""

from django.http import HttpRequest
from django.utils.functional import cached_property

from gongzhi.notifications.selectors import unread_count

# Beyond this the badge shows "99+" (the accessible label still says the real number).
BADGE_MAX = 99


class InboxBadge:
    """The signed-in user's unread count, queried only when a template shows it, and once per request.

    Anonymous visitors cost nothing: templates show the badge inside `{% if user.is_authenticated %}`, and
    even when asked, the count for an anonymous user is 0 without a query.
    """

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @cached_property
    def count(self) -> int:
        request = self._request
        cached = getattr(request, "_gongzhi_unread_count", None)
        if cached is None:
            user = request.user
            cached = unread_count(user) if user.is_authenticated else 0
            request._gongzhi_unread_count = cached  # type: ignore[attr-defined]
        return cached

    @property
    def label(self) -> str:
        return f"{BADGE_MAX}+" if self.count > BADGE_MAX else str(self.count)


def inbox(request: HttpRequest) -> dict[str, InboxBadge]:
    return {"inbox_badge": InboxBadge(request)}
