"""The publishing core's tables (models/core.py) and each kind's own (boards, disclosures, meetings …)."""

from gongzhi.publications.models.affairs import (
    Disclosure,
    DisclosureCategory,
    FinanceLine,
    Meeting,
    MeetingAction,
    MeetingEvaluation,
    Milestone,
    PeriodType,
    Project,
    Rating,
    Stage,
    SupervisionNote,
)
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
from gongzhi.publications.models.library import Guide, ServiceLink
from gongzhi.publications.models.volunteers import Participation, TeamMember, VolunteerActivity, VolunteerTeam

__all__ = ["Attachment", "Comment", "CommentMode", "Publication", "PublicationEvent", "ReadMark", "Status"]
# 红黑榜, 建言献策 (models/boards.py)
__all__ += ["BlackDisplay", "Board", "BoardAppeal", "BoardCriterion", "BoardEntry", "BoardList", "Suggestion",
            "SuggestionSupport"]
# 三务公开, 村民说事 (models/affairs.py)
__all__ += ["Disclosure", "DisclosureCategory", "FinanceLine", "Meeting", "MeetingAction", "MeetingEvaluation",
            "Milestone", "PeriodType", "Project", "Rating", "Stage", "SupervisionNote"]
# 紧急通知 (models/alerts.py)
__all__ += ["AlertDelivery", "AlertSms"]
# 政策法规与办事指南, 志愿服务 (models/library.py, models/volunteers.py)
__all__ += ["Guide", "ServiceLink", "Participation", "TeamMember", "VolunteerActivity", "VolunteerTeam"]
