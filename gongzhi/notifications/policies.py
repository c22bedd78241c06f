"""Who may see and change which notifications: only their own recipient, and only while active.

`can_mark_read` and `notifications_visible_to` rest on the same rule, so a check and a list cannot disagree.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from gongzhi.accounts.models import User
from gongzhi.notifications.models import Notification


def _active(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def notifications_visible_to(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The user's own notifications (none for anonymous or inactive users)."""
    if not _active(user):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def can_mark_read(user: User | AnonymousUser, notification: Notification) -> bool:
    return _active(user) and notification.recipient_id == user.pk
