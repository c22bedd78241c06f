"""The publishing core's tables (models/core.py) and each kind's own (boards, disclosures, meetings …)."""

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

__all__ = ["Attachment", "Comment", "CommentMode", "Publication", "PublicationEvent", "ReadMark", "Status",
           "Guide", "ServiceLink", "Participation", "TeamMember", "VolunteerActivity", "VolunteerTeam"]
