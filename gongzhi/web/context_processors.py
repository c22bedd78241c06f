"""Template context every portal page gets: which portal it is in, the header's facts about the user, and
the badges. Everything about the user is computed only when a template reads it, and once per request."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import cached_property

from gongzhi.accounts import policies
from gongzhi.accounts.models import COMMAND_ROLES, Membership, Role, User
from gongzhi.accounts.selectors import posts_of
from gongzhi.cases.selectors import unread_follow_ups
from gongzhi.notifications.selectors import unread_count
from gongzhi.points import policies as points_policies
from gongzhi.points.selectors import office as points_office
from gongzhi.publications import policies as publication_policies
from gongzhi.publications.selectors import core as publication_selectors
from gongzhi.registry import policies as registry_policies
from gongzhi.web.portals import portal_of, section_of

LARGE_TYPE_COOKIE = "large_type"
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


class StaffHeader:
    """What the staff header shows about the signed-in user: their posts and the links their roles open."""

    def __init__(self, request: HttpRequest) -> None:
        self._user = request.user

    @cached_property
    def posts(self) -> list[Membership]:
        return list(posts_of(self._user)) if self._user.is_authenticated else []

    @cached_property
    def _roles(self) -> set[str]:
        return policies.roles_of(self._user)

    @cached_property
    def is_system_admin(self) -> bool:
        return self._user.is_superuser or Role.SYSTEM_ADMIN in self._roles

    @cached_property
    def may_use_totp(self) -> bool:
        return bool(self._roles & COMMAND_ROLES)

    @cached_property
    def may_report_on_behalf(self) -> bool:
        return policies.can_report_on_behalf(self._user)

    @cached_property
    def may_import_export(self) -> bool:
        return isinstance(self._user, User) and registry_policies.can_import_or_export(self._user)

    @cached_property
    def may_see_key_persons(self) -> bool:
        return isinstance(self._user, User) and bool(registry_policies.key_person_paths(self._user))

    @cached_property
    def may_use_points_office(self) -> bool:
        """积分审核 and 村积分台账 in the nav (village administrators and stations, dispatchers, supervisors)."""
        return isinstance(self._user, User) and points_policies.may_use_points_office(self._user)

    @cached_property
    def may_manage_publications(self) -> bool:
        """公开 in the nav (those who write, review or manage some kind of publication)."""
        return isinstance(self._user, User) and publication_policies.may_manage_publications(self._user)

    @cached_property
    def may_review_points(self) -> bool:
        """The count of claims waiting for the user's review on that link."""
        return isinstance(self._user, User) and points_policies.may_award_anywhere(self._user)


def preferences(request: HttpRequest) -> dict[str, bool]:
    """Large type (适老化) is a cookie so it survives logout and works before login."""
    return {
        "large_type": request.COOKIES.get(LARGE_TYPE_COOKIE) == "1",
        "show_dev_sms_page": settings.SHOW_DEV_SMS_PAGE,
    }


def portal(request: HttpRequest) -> dict[str, Any]:
    """`portal`: the URL namespace of the page's portal; `base`: its chrome; `section`: the current tab;
    `header`: the staff header's facts."""
    current = portal_of(request)
    return {"portal": current.name, "base": current.base, "section": section_of(request),
            "header": StaffHeader(request)}


def badges(request: HttpRequest) -> dict[str, CountBadge]:
    """`inbox_badge`: unread messages; `questions_badge`: residents' questions to the user's units not yet
    read (follow-ups, 追问); `points_badge`: claims waiting for the user's review (积分审核); `publications_badge`:
    publications waiting for the user's review (公开)."""
    return {"inbox_badge": CountBadge(request, "inbox", unread_count),
            "questions_badge": CountBadge(request, "questions", unread_follow_ups),
            "points_badge": CountBadge(request, "points_review", points_office.pending_review_count),
            "publications_badge": CountBadge(request, "publications_review", publication_selectors.review_count)}
