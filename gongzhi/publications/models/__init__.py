"""The publishing core's tables (models/core.py) and each kind's own (boards, disclosures, meetings …)."""

from gongzhi.publications.models.alerts import AlertDelivery, AlertSms
from gongzhi.publications.models.core import (
    Attachment,
    Comment,
    CommentMode,
    Publication,
    PublicationEvent,
    ReadMark,
    Status,
)

__all__ = ["AlertDelivery", "AlertSms", "Attachment", "Comment", "CommentMode", "Publication", "PublicationEvent",
           "ReadMark", "Status"]
