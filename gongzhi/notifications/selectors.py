"""Reads of a user's inbox; always through `policies.notifications_visible_to`."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from gongzhi.accounts.models import User
from gongzhi.notifications.models import Notification
from gongzhi.notifications.policies import notifications_visible_to


def inbox_for(user: User | AnonymousUser, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first (slice it to paginate)."""
    qs = notifications_visible_to(user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(user: User | AnonymousUser) -> int:
    return notifications_visible_to(user).filter(read_at__isnull=True).count()
