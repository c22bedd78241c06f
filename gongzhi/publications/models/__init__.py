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
from gongzhi.publications.models.core import (
    Attachment,
    Comment,
    CommentMode,
    Publication,
    PublicationEvent,
    ReadMark,
    Status,
)

__all__ = ["Attachment", "Comment", "CommentMode", "Publication", "PublicationEvent", "ReadMark", "Status",
           "Disclosure", "DisclosureCategory", "FinanceLine", "Meeting", "MeetingAction", "MeetingEvaluation",
           "Milestone", "PeriodType", "Project", "Rating", "Stage", "SupervisionNote"]
