"""Outgoing WeChat messages behind one small interface; the backend is chosen by settings.WECHAT_BACKEND.

There is no WeChat integration here yet: a real backend would look up the official-account openid bound to
the user and send a template message. The development backend only logs (no personal data) and keeps the
message in the database, like the development SMS backend, so a development page can show it.
"""

from __future__ import annotations

import abc
import datetime
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from gongzhi.core.errors import NotFound
from gongzhi.notifications.models import DevWeChatMessage

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

logger = logging.getLogger(__name__)

DEV_MESSAGE_KEEP = datetime.timedelta(days=1)


class WeChatSendError(Exception):
    """The platform refused or could not be reached; the delivery is retried."""


class WeChatNotBound(WeChatSendError):
    """The user has not followed the official account / bound WeChat: nothing can be sent, ever."""


class WeChatBackend(abc.ABC):
    @abc.abstractmethod
    def send(self, user: User, *, title: str, body: str, link: str) -> None:
        """Deliver the message to the user's bound WeChat or raise WeChatSendError."""


class ConsoleWeChatBackend(WeChatBackend):
    """Development: log that a message went out and keep it for a development page."""

    def send(self, user: User, *, title: str, body: str, link: str) -> None:
        logger.info("WeChat message to user #%s: %s", user.pk, title)
        DevWeChatMessage.objects.filter(sent_at__lt=timezone.now() - DEV_MESSAGE_KEEP).delete()
        DevWeChatMessage.objects.create(recipient=user, title=title, body=body, link=link)


class FailingWeChatBackend(WeChatBackend):
    """Tests: every send fails, as when the platform is down."""

    def send(self, user: User, *, title: str, body: str, link: str) -> None:
        raise WeChatSendError("platform unavailable")


def get_wechat_backend() -> WeChatBackend:
    # Not cached: tests switch backends with override_settings.
    backend: WeChatBackend = import_string(settings.WECHAT_BACKEND)()
    return backend


def recent_dev_messages(limit: int = 20) -> list[dict]:
    """Latest development WeChat messages, newest first: [{recipient_id, title, body, link, sent_at}].

    Raises NotFound unless settings.SHOW_DEV_SMS_PAGE is on (the same switch as the development SMS page).
    """
    if not settings.SHOW_DEV_SMS_PAGE:
        raise NotFound()
    return [
        {"recipient_id": m.recipient_id, "title": m.title, "body": m.body, "link": m.link, "sent_at": m.sent_at}
        for m in DevWeChatMessage.objects.order_by("-sent_at", "-id")[:limit]
    ]
