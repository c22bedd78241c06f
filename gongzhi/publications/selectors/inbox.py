"""A resident's messages (消息): their personal notifications merged with their area's notices.

Area notices (the kinds with `in_inbox`: 村情动态, 安全提示, 活动通知, 紧急通知) are read by query from the live
items addressed to the few paths above the resident's grid (`policies.area_paths`), on the index
publication_area_idx (kind, status, audience_path, published_at); nothing is written per resident when
something is published. Read state is `ReadMark`, a row only for what the resident opened.

A notice counts as unread for UNREAD_DAYS after it was published (older ones are shown as read, so a resident
who signs up is not greeted by five years of unread notices); "mark all read" writes marks for those few.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from gongzhi.accounts.models import User
from gongzhi.notifications import selectors as notification_selectors
from gongzhi.notifications.models import Notification
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Publication, ReadMark

UNREAD_DAYS = 30


def _since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=UNREAD_DAYS)


def _area(user: User | AnonymousUser, now: datetime.datetime | None = None) -> QuerySet[Publication]:
    """Live notices addressed to the user's area (verified residents only; none, without a query, for anyone
    else): kind, status and the few paths of their area, on publication_area_idx."""
    paths = policies.area_paths(user)
    if not paths:
        return Publication.objects.none()
    return Publication.objects.filter(policies.live_q(now), kind__in=kinds.inbox_kinds(), audience_path__in=paths)


def area_notices(user: User | AnonymousUser, now: datetime.datetime | None = None) -> QuerySet[Publication]:
    """The user's area notices, newest first, each with `has_read_mark`."""
    return (_area(user, now).annotate(has_read_mark=Exists(_marks(user))).select_related("author_unit")
            .order_by("-published_at", "-id"))


def area_notice_count(user: User | AnonymousUser, now: datetime.datetime | None = None) -> int:
    return _area(user, now).count()


def _marks(user: User | AnonymousUser) -> QuerySet[ReadMark]:
    return ReadMark.objects.filter(user_id=user.pk or 0, publication=OuterRef("pk"))


def unread_notices(user: User | AnonymousUser, now: datetime.datetime | None = None) -> QuerySet[Publication]:
    now = now or timezone.now()
    return _area(user, now).filter(~Exists(_marks(user)), published_at__gte=_since(now))


def unread_notice_count(user: User | AnonymousUser) -> int:
    return unread_notices(user).count() if policies.area_paths(user) else 0


def unread_total(user: User | AnonymousUser) -> int:
    """The messages badge: unread personal notifications and unread area notices."""
    return notification_selectors.unread_count(user) + unread_notice_count(user)


@dataclass
class Entry:
    """One line of the merged inbox: a personal notification or an area notice."""

    source: str  # "message" | "notice"
    pk: int
    title: str
    body: str
    at: datetime.datetime
    is_read: bool
    label: Any = ""  # a notice's kind (紧急通知 …); empty for a message
    has_target: bool = False
    is_alert: bool = False
    unit: str = ""

    @property
    def is_notice(self) -> bool:
        return self.source == "notice"


def _message(n: Notification) -> Entry:
    return Entry(source="message", pk=n.pk, title=n.title, body=n.body, at=n.created_at, is_read=n.is_read,
                 has_target=bool(n.target_type))


def _notice(p: Publication, since: datetime.datetime) -> Entry:
    spec = kinds.get(p.kind)
    published = p.published_at or p.created_at
    return Entry(source="notice", pk=p.pk, title=p.title, body=p.body, at=published,
                 is_read=bool(getattr(p, "has_read_mark", False)) or published < since,
                 label=spec.label if spec else "", has_target=True, is_alert=p.kind == "alert",
                 unit=p.author_unit.name)


class MergedInbox:
    """Both lists as one, newest first, for Django's Paginator: `count()` adds the two counts; a page reads
    the first `stop` rows of each (two indexed queries) and merges them."""

    def __init__(self, user: User | AnonymousUser, now: datetime.datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.user = user
        self.messages = notification_selectors.inbox_for(user)
        self.notices = area_notices(user, self.now)
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.messages.count() + area_notice_count(self.user, self.now)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._merged(0, None))

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: slice | int) -> list[Entry] | Entry:
        if isinstance(index, int):
            return self._merged(index, index + 1)[0]
        return self._merged(index.start or 0, index.stop)

    def _merged(self, start: int, stop: int | None) -> list[Entry]:
        stop = stop if stop is not None else self.count()
        since = _since(self.now)
        merged = [_message(n) for n in self.messages[:stop]] + [_notice(p, since) for p in self.notices[:stop]]
        merged.sort(key=lambda e: (e.at, e.pk), reverse=True)
        return merged[start:stop]


def merged_inbox(user: User | AnonymousUser) -> MergedInbox:
    return MergedInbox(user)
