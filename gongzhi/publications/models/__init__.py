"""The publishing core's tables (models/core.py) and each kind's own (boards, disclosures, meetings …)."""

from gongzhi.publications.models.alerts import AlertDelivery, AlertSms
from gongzhi.publications.models.boards import (
    BlackDisplay,
    Board,
    BoardAppeal,
    BoardCriterion,
    BoardEntry,
    BoardList,
    Suggestion,
    SuggestionSupport,
)
from gongzhi.publications.models.core import (
    Attachment,
    Comment,
    CommentMode,
    Publication,
    PublicationEvent,
    ReadMark,
    Status,
)

__all__ = ["Attachment", "Comment", "CommentMode", "Publication", "PublicationEvent", "ReadMark", "Status"]
# 红黑榜, 建言献策 (models/boards.py)
__all__ += ["BlackDisplay", "Board", "BoardAppeal", "BoardCriterion", "BoardEntry", "BoardList", "Suggestion",
            "SuggestionSupport"]
# 紧急通知 (models/alerts.py)
__all__ += ["AlertDelivery", "AlertSms"]
