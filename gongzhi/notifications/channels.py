"""Outgoing channels for notifications. The in-app inbox is always on and is not a channel.

Which channels a deployment has is settings.NOTIFICATION_CHANNELS: {name: dotted path of a Channel class}.
Callers of `services.notify` ask for channels by name ("sms", "wechat"); a channel the deployment has not
configured is skipped, so the case workflow need not know what a county has bought.

A channel sends one notification or raises DeliveryError with a reason code (no personal data in it):
`retryable=False` for what retrying cannot fix (no phone number), True for a provider that is down.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from gongzhi.accounts.sms import SmsSendError, get_sms_backend
from gongzhi.notifications.models import Notification
from gongzhi.notifications.wechat import WeChatNotBound, WeChatSendError, get_wechat_backend

# One SMS segment holds 70 Chinese characters (signature included); longer texts cost several.
SMS_MAX_LENGTH = 70


class DeliveryError(Exception):
    """Not delivered. `code` is a short reason kept on the Delivery row; never put personal data in it."""

    def __init__(self, code: str, *, retryable: bool = True) -> None:
        self.code = code
        self.retryable = retryable
        super().__init__(code)


class Channel(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def deliver(self, notification: Notification) -> None:
        """Send the notification to its recipient or raise DeliveryError."""


def sms_text(notification: Notification) -> str:
    """【共治】title：body, cut to one SMS segment. Links are left out: they are site-relative."""
    title, body = notification.title.strip(), " ".join(notification.body.split())
    if body:
        text = _("【共治】%(title)s：%(body)s") % {"title": title, "body": body}
    else:
        text = _("【共治】%(title)s") % {"title": title}
    if len(text) > SMS_MAX_LENGTH:
        text = text[: SMS_MAX_LENGTH - 1] + "…"
    return text


class SmsChannel(Channel):
    name = "sms"

    def deliver(self, notification: Notification) -> None:
        phone = notification.recipient.phone
        if not phone:
            raise DeliveryError("no_phone", retryable=False)
        try:
            get_sms_backend().send(phone.reveal(), sms_text(notification))
        except SmsSendError:
            raise DeliveryError("sms_send_failed") from None


class WeChatChannel(Channel):
    name = "wechat"

    def deliver(self, notification: Notification) -> None:
        try:
            get_wechat_backend().send(notification.recipient, title=notification.title,
                                      body=notification.body, link=target_url(notification))
        except WeChatNotBound:
            raise DeliveryError("wechat_not_bound", retryable=False) from None
        except WeChatSendError:
            raise DeliveryError("wechat_send_failed") from None


def target_url(notification: Notification) -> str:
    """The site path the notification opens for its recipient ("" for none), by settings.NOTIFICATION_TARGET_URL."""
    url: str = import_string(settings.NOTIFICATION_TARGET_URL)(notification)
    return url


def configured_channels() -> dict[str, str]:
    configured: dict[str, str] = settings.NOTIFICATION_CHANNELS
    return configured


def get_channel(name: str) -> Channel | None:
    """The configured channel of that name, or None when this deployment does not have it."""
    path = configured_channels().get(name)
    if not path:
        return None
    channel: Channel = import_string(path)()
    return channel
