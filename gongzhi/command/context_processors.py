"""Template context shared by the three portals (resident, worker, command).

It lives here with `access.py`, the other interface code the portals share; domain apps never hold
interface code.
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from gongzhi.cases.selectors import unread_follow_ups
from gongzhi.notifications.selectors import unread_count

# Beyond this the badge shows "99+" (the accessible label still says the real number).
BADGE_MAX = 99


class CountBadge:
    """A number on a link (unread messages, unread questions), queried only when a template shows it, and
    once per request.

    Anonymous visitors cost nothing: templates show badges inside `{% if user.is_authenticated %}`, and
    even when asked, the count for an anonymous user is 0 without a query.
    """

    def __init__(self, request: HttpRequest, name: str, counter: Callable[[Any], int]) -> None:
        self._request, self._name, self._counter = request, name, counter

    @cached_property
    def count(self) -> int:
        counts: dict[str, int] = self._request.__dict__.setdefault("_gongzhi_badges", {})
        if self._name not in counts:
            user = self._request.user
            counts[self._name] = self._counter(user) if user.is_authenticated else 0
        return counts[self._name]

    @property
    def label(self) -> str:
        return f"{BADGE_MAX}+" if self.count > BADGE_MAX else str(self.count)


def badges(request: HttpRequest) -> dict[str, CountBadge]:
    """`inbox_badge`: unread messages; `questions_badge`: residents' questions to the user's units not yet
    read (follow-ups, 追问)."""
    return {"inbox_badge": CountBadge(request, "inbox", unread_count),
            "questions_badge": CountBadge(request, "questions", unread_follow_ups)}
