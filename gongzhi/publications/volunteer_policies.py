"""Who may run volunteer teams and activities, and who may join and sign up (M26).

Staff: whoever may write volunteer activities in a unit (`kinds.VILLAGE_WRITERS`: 村级管理员, 村工作站, the
township's dispatchers over their villages) manages that unit's teams and reviews applications to them; an
activity's participants and hours are managed by whoever manages the activity (`policies.can_manage`).

Residents: a verified resident sees and may join the teams of their own village (the chain above their grid).
Signing up for an activity is open to every verified resident who may read it (its area's residents): a
volunteer activity is how a village draws new people in, and a slot count keeps it manageable. An activity
that needs trained people (应急救援, 法律咨询) is marked `members_only` and then takes approved members of its
teams only.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts.models import User
from gongzhi.publications import kinds, policies
from gongzhi.publications.models import Publication, TeamMember, VolunteerActivity, VolunteerTeam


def team_paths(user: User | AnonymousUser) -> tuple[str, ...]:
    return account_policies.paths_for_roles(user, kinds.VILLAGE_WRITERS)


def teams_managed_q(user: User | AnonymousUser) -> Q:
    return account_policies.paths_q(team_paths(user), "path")


def can_manage_team(user: User | AnonymousUser, team: VolunteerTeam) -> bool:
    return any(team.path.startswith(path) for path in team_paths(user))


def can_manage_unit_teams(user: User | AnonymousUser, unit_path: str) -> bool:
    return any(unit_path.startswith(path) for path in team_paths(user))


def is_verified(user: User | AnonymousUser) -> bool:
    return bool(account_policies.resident_paths(user))


def teams_visible_q(user: User | AnonymousUser) -> Q:
    """Active teams a resident may see and join: those of a unit above their grid."""
    return Q(is_active=True, path__in=policies.area_paths(user))


def can_join(user: User | AnonymousUser, team: VolunteerTeam) -> bool:
    return team.is_active and is_verified(user) and team.path in policies.area_paths(user)


def sign_up_refusal(user: User | AnonymousUser, publication: Publication, activity: VolunteerActivity) -> str:
    """Why the user may not take a slot ("" when they may): not verified, not of the area, not a member."""
    from django.utils.translation import gettext as _

    if not is_verified(user):
        return _("请先完成实名核验后再报名。")
    if not policies.can_view(user, publication) or (
            publication.audience_path not in policies.area_paths(user)
            and publication.audience_unit.level not in policies.PUBLIC_LEVELS):
        return _("该活动不面向您所在的村(社区)。")
    if activity.members_only and not TeamMember.objects.filter(
            user_id=user.pk or 0, status=TeamMember.Status.APPROVED, team__in=activity.teams.all()).exists():
        return _("该活动仅限服务队成员报名，请先申请加入服务队。")
    return ""
