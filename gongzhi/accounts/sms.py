"""Outgoing SMS behind one small interface; the backend is chosen by settings.SMS_BACKEND.

Nothing personal goes into logs: the console backend logs the phone masked. It keeps the texts in the
database (phone encrypted) so the development-only page can show them whichever web process sent them.
"""

from __future__ import annotations

import abc
import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from gongzhi.accounts.models import DevSmsMessage
from gongzhi.core.errors import NotFound
from gongzhi.core.pii import mask_phone

logger = logging.getLogger(__name__)

# Development texts older than this are pruned on the next send; the page only shows recent ones.
DEV_MESSAGE_KEEP = datetime.timedelta(days=1)


class SmsSendError(Exception):
    """The provider refused or could not be reached; the caller tells the user to try again."""


class SmsBackend(abc.ABC):
    """Sends one text to one mainland mobile number (11 digits, already normalised)."""

    @abc.abstractmethod
    def send(self, phone: str, message: str) -> None:
        """Deliver the text or raise SmsSendError."""


class ConsoleSmsBackend(SmsBackend):
    """Development: log the text (phone masked) and keep it for the development SMS page."""

    def send(self, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), message)
        DevSmsMessage.objects.filter(sent_at__lt=timezone.now() - DEV_MESSAGE_KEEP).delete()
        DevSmsMessage.objects.create(phone=phone, message=message)


class FailingSmsBackend(SmsBackend):
    """Tests: every send fails, as when the provider is down."""

    def send(self, phone: str, message: str) -> None:
        raise SmsSendError("provider unavailable")


def get_sms_backend() -> SmsBackend:
    # Not cached: tests switch backends with override_settings.
    return import_string(settings.SMS_BACKEND)()


def recent_dev_messages(limit: int = 20) -> list[dict]:
    """Latest development texts, newest first: [{masked_phone, message, sent_at}].

    Raises NotFound unless settings.SHOW_DEV_SMS_PAGE is on, so a production page cannot show codes.
    """
    if not settings.SHOW_DEV_SMS_PAGE:
        raise NotFound()
    return [
        {"masked_phone": str(m.phone), "message": m.message, "sent_at": m.sent_at}
        for m in DevSmsMessage.objects.order_by("-sent_at", "-id")[:limit]
    ]
