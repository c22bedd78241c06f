"""Volunteers' notices: an application to a team waits (to the village's staff), an application decided (to
the applicant), an activity called off (to those signed up)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import Membership, Role, User
from gongzhi.notifications import services as notifications
from gongzhi.notifications import types
from gongzhi.notifications.types import NoticeType
from gongzhi.publications.models import Participation, Publication, TeamMember

APPLIED = NoticeType(kind="volunteer.applied", label=gettext_lazy("志愿服务队入队申请"), audience="team_staff")
REVIEWED = NoticeType(kind="volunteer.reviewed", label=gettext_lazy("志愿服务队入队审核结果"), audience="applicant")
CANCELLED = NoticeType(kind="volunteer.cancelled", label=gettext_lazy("志愿活动取消"), audience="participants")


def register() -> None:
    types.register(APPLIED, REVIEWED, CANCELLED)


def applied(member: TeamMember) -> None:
    team = member.team
    staff = Membership.objects.active().filter(unit_id=team.unit_id,
                                               role__in=[Role.VILLAGE_ADMIN, Role.VILLAGE_STATION])
    with translation.override(settings.LANGUAGE_CODE):
        notifications.notify(
            recipients=User.objects.filter(pk__in=staff.values("user_id")), kind=APPLIED.kind,
            title=_("入队申请：%(team)s") % {"team": team.name},
            body=_("%(name)s申请加入%(team)s，请审核。") % {"name": member.user.real_name or member.user.username,
                                                    "team": team.name},
            dedupe_key=f"volunteer:apply:{member.pk}:{member.created_at:%Y%m%d%H%M%S}")


def reviewed(member: TeamMember) -> None:
    team = member.team
    with translation.override(settings.LANGUAGE_CODE):
        if member.status == TeamMember.Status.APPROVED:
            title = _("已加入%(team)s") % {"team": team.name}
            body = _("您申请加入%(team)s已获批准，欢迎参加志愿服务！") % {"team": team.name}
        else:
            title = _("入队申请未通过：%(team)s") % {"team": team.name}
            body = _("您申请加入%(team)s未获批准：%(note)s") % {"team": team.name, "note": member.review_note}
        notifications.notify(recipients=[member.user], kind=REVIEWED.kind, title=title, body=body)


def activity_cancelled(publication: Publication) -> None:
    users = User.objects.filter(pk__in=Participation.objects.filter(
        activity__publication=publication, status=Participation.Status.SIGNED_UP).values("user_id"))
    with translation.override(settings.LANGUAGE_CODE):
        notifications.notify(
            recipients=users, kind=CANCELLED.kind, title=_("活动取消：%(title)s") % {"title": publication.title[:80]},
            body=_("您报名的志愿活动“%(title)s”已取消。") % {"title": publication.title[:80]},
            dedupe_key=f"volunteer:cancelled:{publication.pk}")
