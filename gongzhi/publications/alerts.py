"""The notice kinds (村情动态, 安全提示, 活动通知) and urgent alerts (紧急通知), M24.

Notices need nothing beyond the core: residents find them under 通知公告 and in their messages, which read
live area items by query (`selectors.inbox`). An urgent alert also goes out by SMS to every resident of its
area with a phone (`services.alerts`), with counts for its sender, and shows as a red banner on residents'
pages while it is live (`selectors.alerts.live_alerts`, the template tag `alert_banner`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import User
from gongzhi.notifications import types
from gongzhi.notifications.types import NoticeType
from gongzhi.publications import kinds
from gongzhi.publications.models import Publication
from gongzhi.publications.selectors import alerts as selectors
from gongzhi.publications.services import alerts as services

# The text messages' type (no inbox rows are written with it: the SMS channel takes an unsaved notification).
ALERT = NoticeType(kind=services.NOTICE_KIND, label=gettext_lazy("紧急通知"), target="publication",
                   audience="area_residents", sms=True)
types.register(ALERT)


@kinds.on("published", "alert")
def _published(actor: User, publication: Publication) -> None:
    services.start(publication)


@kinds.on("withdrawn", "alert")
def _withdrawn(actor: User, publication: Publication) -> None:
    services.cancel(publication)


@kinds.page_context("staff", "alert")
def _staff_context(user: User, publication: Publication) -> dict:
    """The sender's view: how the texts are going (None before it is published)."""
    return {"delivery": selectors.delivery_of(publication)}


@kinds.page_context("reader", "alert")
def _reader_context(user: User, publication: Publication) -> dict:
    return {"is_live": publication.is_live()}
